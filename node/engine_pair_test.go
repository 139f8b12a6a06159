package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// TestRouteBetween: on root ← A ← A1 and root ← B, with no traffic (so no shortcuts), every node
// computes every ordered pair of regions; each route is the tree path (regions.Tree.TreePath, the
// brute-force answer on a tree) over tree links, and agrees with the route the origin's own router
// holds. Unknown regions and a region that went down are refused with their sentinels.
func TestRouteBetween(t *testing.T) {
	f := startTree(t)
	nodes := []*Node{f.root, f.a, f.a1, f.b}
	ids := []regions.RegionID{rootID, aID, a1ID, bID}
	tree := func() *regions.Tree {
		tr, err := f.root.View().Tree()
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}()
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, obs := range nodes {
			for i, from := range ids {
				for _, to := range ids {
					want, err := tree.TreePath(from, to)
					if err != nil {
						return err
					}
					rt, err := obs.RouteBetween(from, to)
					if err != nil {
						return fmt.Errorf("%s: %w", obs.Broker().Name(), err)
					}
					if !slices.Equal(rt.Path, want) || rt.Dest != to || len(rt.Kinds) != len(want)-1 {
						return fmt.Errorf("%s: route %s→%s = %v, want the tree path %v", obs.Broker().Name(), from, to, rt, want)
					}
					for _, k := range rt.Kinds {
						if k != costs.Tree {
							return fmt.Errorf("%s: route %s→%s = %v, want tree links only", obs.Broker().Name(), from, to, rt)
						}
					}
					if from == to {
						continue
					}
					if rt.Cost <= 0 {
						return fmt.Errorf("%s: route %s→%s costs %v", obs.Broker().Name(), from, to, rt.Cost)
					}
					if own := lookupRoute(nodes[i].Routes(), to); own == nil || !slices.Equal(own.Path, rt.Path) {
						return fmt.Errorf("%s: route %s→%s = %v, but %s's router holds %v", obs.Broker().Name(), from, to, rt, from, own)
					}
				}
			}
		}
		return nil
	})

	if _, err := f.a1.RouteBetween(0x0bad, bID); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("route from an unregistered region: %v, want ErrUnknownRegion", err)
	}
	if _, err := f.a1.RouteBetween(aID, 0x0bad); !errors.Is(err, ErrUnknownRegion) {
		t.Fatalf("route to an unregistered region: %v, want ErrUnknownRegion", err)
	}

	// B stops without leaving: the root marks its tree link down, and no route reaches B any more,
	// from A1's own region or from another.
	if err := f.b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, from := range []regions.RegionID{a1ID, aID, rootID} {
			if rt, err := f.a1.RouteBetween(from, bID); !errors.Is(err, ErrNoRoute) {
				return fmt.Errorf("route %s→%s with B stopped: %v, %v; want ErrNoRoute", from, bID, rt, err)
			}
		}
		return nil
	})
}

func lookupRoute(rs []costs.Route, d regions.RegionID) *costs.Route {
	for i := range rs {
		if rs[i].Dest == d {
			return &rs[i]
		}
	}
	return nil
}
