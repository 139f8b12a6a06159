package node

import (
	"context"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

func TestDownAndBack(t *testing.T) {
	f := startTree(t)
	bCfg := fastConfig(t, bID, "b1", "b", f.root)
	bCfg.Broker.StoreDir = f.b.cfg.Broker.StoreDir
	if err := f.b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error { return statusIs(f.a1.View(), bID, regions.StatusDown) })
	t.Logf("B down in A1's mirror after %v", time.Since(start).Round(time.Millisecond))
	e, _ := f.a1.View().Get(bID)
	if e.Reason == "" {
		t.Error("down entry carries no reason")
	}

	// B comes back on the same store: active again, and A1 sees it.
	f.b = runNode(t, bCfg)
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error { return statusIs(f.a1.View(), bID, regions.StatusActive) })

	// A goes: A1, which hangs under A, goes down with it.
	aCfg := fastConfig(t, aID, "a1", "a", f.root)
	aCfg.Broker.StoreDir = f.a.cfg.Broker.StoreDir
	aCfg.Broker.LeafPort = portOf(t, f.a.Broker().LeafURL())
	if err := f.a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if err := statusIs(f.root.View(), aID, regions.StatusDown); err != nil {
			return err
		}
		return statusIs(f.b.View(), a1ID, regions.StatusDown)
	})

	// A returns on its old leafnode port; A1 reconnects by itself and both are active.
	runNode(t, aCfg)
	checkFor(t, 15*time.Second, 10*time.Millisecond, func() error {
		if err := statusIs(f.b.View(), aID, regions.StatusActive); err != nil {
			return err
		}
		return statusIs(f.b.View(), a1ID, regions.StatusActive)
	})
}

func TestLeave(t *testing.T) {
	f := startTree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.a.Leave(ctx); err == nil {
		t.Fatal("A left although A1 still hangs under it")
	}
	if err := f.a1.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if _, ok := f.b.View().Status(a1ID); ok {
			return errFmt("A1 still in B's mirror")
		}
		return nil
	})
	if err := f.a1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.a.Leave(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestDrainThenCrash: a node that stops after draining but before leaving leaves its region down,
// not wedged in "draining", and can come back.
func TestDrainThenCrash(t *testing.T) {
	f := startTree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.b.leavePhase(ctx, "drain"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error { return statusIs(f.root.View(), bID, regions.StatusDraining) })
	cfg := fastConfig(t, bID, "b1", "b", f.root)
	cfg.Broker.StoreDir = f.b.cfg.Broker.StoreDir
	if err := f.b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error { return statusIs(f.root.View(), bID, regions.StatusDown) })
	runNode(t, cfg)
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error { return statusIs(f.a1.View(), bID, regions.StatusActive) })
}
