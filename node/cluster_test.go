package node

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestTwoNodeRegion runs region B on two clustered nodes: both join, both hand out IDs that never
// collide, and losing one node does not mark the region down.
func TestTwoNodeRegion(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	// A JetStream cluster needs its routes configured on every node, so the ports are chosen first.
	p1, p2 := freePort(t), freePort(t)
	routes := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)}
	c1 := fastConfig(t, bID, "b1", "b", root)
	c1.Broker.ClusterHost, c1.Broker.ClusterPort, c1.Broker.Routes = "127.0.0.1", p1, routes
	b1 := startNode(t, c1)
	c2 := fastConfig(t, bID, "b2", "b", root)
	c2.Broker.ClusterHost, c2.Broker.ClusterPort, c2.Broker.Routes = "127.0.0.1", p2, routes
	b2 := startNode(t, c2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range []*Node{b1, b2} {
		if err := n.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		e, _ := root.View().Get(bID)
		if e == nil || len(e.Nodes) != 2 {
			return errFmt("B's entry %+v, want two nodes", e)
		}
		return nil
	})
	// Both stay listed however the two joins and the first link reports interleave.
	time.Sleep(2 * c1.PollEvery) // asserting that a change does NOT happen: nothing to poll for
	if e, _ := root.View().Get(bID); len(e.Nodes) != 2 {
		t.Fatalf("B's entry lost a node: %+v", e.Nodes)
	}

	// Both nodes generate concurrently; no ID repeats.
	const perWorker = 5000
	var mu sync.Mutex
	seen := map[regions.ID]bool{}
	var wg sync.WaitGroup
	for _, n := range []*Node{b1, b2, b1, b2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]regions.ID, 0, perWorker)
			for range perWorker {
				id, err := n.NewID(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				got = append(got, id)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range got {
				if seen[id] {
					t.Errorf("ID %s handed out twice", id)
				}
				if id.Region() != bID {
					t.Errorf("ID %s is not in region %s", id, bID)
				}
				seen[id] = true
			}
		}()
	}
	wg.Wait()

	// One node goes; B stays active because the other still holds a link to the root.
	if err := b1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * c1.DownGrace) // nothing to poll for: we assert that a change does NOT happen
	if err := statusIs(root.View(), bID, regions.StatusActive); err != nil {
		t.Fatalf("after losing one of two nodes: %v", err)
	}
	if err := b2.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), bID, regions.StatusDown) })
}

// TestIDsSurviveRestart restarts a node on its store and checks that no ID repeats.
func TestIDsSurviveRestart(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	cfg := fastConfig(t, aID, "a1", "a", root)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seen := map[regions.ID]bool{}
	for round := 0; round < 3; round++ {
		n := runNode(t, cfg)
		for range 1000 {
			id, err := n.NewID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seen[id] {
				t.Fatalf("round %d: ID %s repeats", round, id)
			}
			seen[id] = true
		}
		if err := n.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), aID, regions.StatusDown) })
	}
}
