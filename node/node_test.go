package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

const (
	rootID regions.RegionID = 0x0001
	aID    regions.RegionID = 0x00a0
	a1ID   regions.RegionID = 0x00a1
	bID    regions.RegionID = 0x00b0
)

type federation struct {
	root, a, a1, b *Node
}

// startTree starts root ← A ← A1 and root ← B.
func startTree(t *testing.T) *federation {
	t.Helper()
	f := &federation{}
	f.root = runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	f.a = runNode(t, fastConfig(t, aID, "a1", "a", f.root))
	f.b = runNode(t, fastConfig(t, bID, "b1", "b", f.root))
	f.a1 = runNode(t, fastConfig(t, a1ID, "a11", "a-one", f.a))
	return f
}

func TestTreeMirrorsAgree(t *testing.T) {
	f := startTree(t)
	nodes := []*Node{f.root, f.a, f.a1, f.b}
	ids := []regions.RegionID{rootID, aID, a1ID, bID}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for _, n := range nodes {
			for _, id := range ids {
				if err := statusIs(n.View(), id, regions.StatusActive); err != nil {
					return errors.New(n.Broker().Name() + ": " + err.Error())
				}
			}
		}
		return nil
	})
	tree, err := f.a1.View().Tree()
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := tree.Parent(a1ID); p != aID {
		t.Fatalf("A1's parent in A1's mirror = %s, want %s", p, aID)
	}
	e, _ := f.a1.View().Get(bID)
	if e.Name != "b" || len(e.ClientURLs) != 1 || e.ClientURLs[0] != f.b.Broker().ClientURL() {
		t.Fatalf("B's entry in A1's mirror: %+v", e)
	}

	// A watcher on A1 sees a new region join.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reg, err := regions.OpenRegistry(ctx, f.a1.js)
	if err != nil {
		t.Fatal(err)
	}
	w, err := reg.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.CaughtUp {
			break
		}
	}
	const cID regions.RegionID = 0x00c0
	runNode(t, fastConfig(t, cID, "c1", "c", f.b))
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Entry != nil && ev.Region == cID && ev.Entry.Status == regions.StatusActive {
			if ev.Entry.Parent != bID {
				t.Fatalf("C joined under %s, want %s", ev.Entry.Parent, bID)
			}
			break
		}
	}
}
