package client

import (
	"context"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestNewIDAndWatch hands out IDs from two clients of one region (disjoint, in the region) and
// watches the registry from A1 while a new region joins.
func TestNewIDAndWatch(t *testing.T) {
	f := startTree(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c1, c2 := f.connect(t, bID), f.connect(t, bID)
	seen := map[regions.ID]bool{}
	for i := range 2000 {
		for _, c := range []*Client{c1, c2} {
			id, err := c.NewID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] || id.Region() != bID || !id.Valid() {
				t.Fatalf("ID %d: %s repeats or is outside region %s", i, id, bID)
			}
			seen[id] = true
		}
	}

	w, err := f.connect(t, a1ID).WatchRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	initial := 0
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.CaughtUp {
			break
		}
		initial++
	}
	if initial != 4 {
		t.Fatalf("watch delivered %d initial entries, want 4", initial)
	}
	f.nodes[0x00c0] = runNode(t, nodeConfig(t, 0x00c0, "c1", "c", f.nodes[bID]))
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Region == 0x00c0 && ev.Entry != nil && ev.Entry.Status == regions.StatusActive {
			return
		}
	}
}
