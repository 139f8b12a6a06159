package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// TestReparentMovesMirror: region x, first under the root, restarts on the same store under a.
// Its registry mirror must then source from a's copy (a mirror's source cannot change in place, so
// the node replaces it), and x keeps following the registry.
func TestReparentMovesMirror(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	a := runNode(t, fastConfig(t, aID, "a1", "a", root))
	const x = regions.RegionID(0x0e40)
	cfg := fastConfig(t, x, "x1", "x", root)
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), x, regions.StatusDown) })

	cfg.Broker.ParentURLs = []string{a.Broker().LeafURL()}
	moved := runNode(t, cfg)
	if moved.Parent() != aID {
		t.Fatalf("x's parent is %s, want %s", moved.Parent(), aID)
	}
	st, err := moved.js.Stream(ctx, registryStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := mirrorDomain(info.Config.Mirror); got != broker.Domain(aID) {
		t.Fatalf("x's registry mirror sources from %q, want %q", got, broker.Domain(aID))
	}
	// The moved mirror follows new writes: a region joining now shows up in x's view.
	b := runNode(t, fastConfig(t, bID, "b1", "b", root))
	_ = b
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if err := statusIs(moved.View(), bID, regions.StatusActive); err != nil {
			return err
		}
		e, _ := moved.View().Get(x)
		if e == nil || e.Parent != aID {
			return errors.New("x's own entry does not show parent a yet")
		}
		return nil
	})
}
