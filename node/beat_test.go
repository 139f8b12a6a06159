package node

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestRegistryStaleWhenRootSilent: below the root, the registry copy is current while the root's
// beats arrive; once the root is gone, a region two levels down reports its registry stale and why,
// instead of presenting the last statuses as current.
func TestRegistryStaleWhenRootSilent(t *testing.T) {
	f := startTree(t)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		st := f.a1.RegistryState()
		if st.Stale || st.RootRevision == 0 || st.Revision < st.RootRevision {
			return errFmt("a1's registry state %+v, want current", st)
		}
		return nil
	})
	if st := f.root.RegistryState(); st.Stale {
		t.Fatalf("the root's registry stale: %+v", st)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.root.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		st := f.a1.RegistryState()
		if !st.Stale || !strings.Contains(st.Reason, "no word from the root") {
			return errFmt("a1's registry state %+v, want stale", st)
		}
		return nil
	})
}

// TestForgedBeatRefused: with TLS, a node of region A (code changed) keeps sending beats that name
// the root, signed with its own certificate, after the root is gone. A1 below it does not take
// them: its registry turns stale all the same.
func TestForgedBeatRefused(t *testing.T) {
	ca := newTestCA(t)
	root := runNode(t, tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1")))
	aFiles := ca.node(aID, "a1")
	a := runNode(t, tlsNodeConfig(t, aID, "a1", "a", root, aFiles))
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), aID, regions.StatusActive) })
	a1 := runNode(t, tlsNodeConfig(t, a1ID, "a11", "a-one", a, ca.node(a1ID, "a11")))
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if st := a1.RegistryState(); st.Stale || st.RootRevision == 0 {
			return errFmt("a1's registry state %+v, want current", st)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := root.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	forger := ca.signer(aFiles.Cert, aFiles.Key)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, _ := json.Marshal(&Beat{Root: rootID.String(), Revision: a1.View().Revision()})
			if signed, err := forger.Sign(SubjectBeat, data, time.Now()); err == nil {
				_ = a.Conn().Publish(SubjectBeat, signed)
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	defer func() { close(stop); <-done }()
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		if st := a1.RegistryState(); !st.Stale {
			return errFmt("a1's registry state %+v under forged beats, want stale", st)
		}
		return nil
	})
}
