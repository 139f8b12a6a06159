package costs

import (
	"fmt"
	"math"
	"slices"

	"github.com/fedist/fedist/regions"
)

// Brute force, written from the definitions in Route's doc and independent of search.go: enumerate
// every simple path over up edges and cost it.

// bruteCost costs a path by the definition: edge costs, plus relay per shortcut and per waypoint
// (a region entered over the tree and left over a shortcut). It also counts the relays: the
// intermediate regions next to a shortcut.
func bruteCost(edges []Edge, relay float64) (cost float64, relays int) {
	for i, e := range edges {
		cost += e.Cost
		if e.Kind == Shortcut {
			cost += relay
		}
		if i > 0 && edges[i-1].Kind == Tree && e.Kind == Shortcut {
			cost += relay
		}
		if i > 0 && (edges[i-1].Kind == Shortcut || e.Kind == Shortcut) {
			relays++
		}
	}
	return cost, relays
}

// bruteBest returns, for every region a simple path from me reaches with at most bound relays
// (bound < 0: any), the least cost.
func bruteBest(me regions.RegionID, g *Graph, relay float64, bound int) map[regions.RegionID]float64 {
	best := make(map[regions.RegionID]float64)
	onPath := map[regions.RegionID]bool{me: true}
	var walk func(at regions.RegionID, edges []Edge)
	walk = func(at regions.RegionID, edges []Edge) {
		for _, e := range g.Edges(at) {
			if !e.Up || onPath[e.To] {
				continue
			}
			p := append(slices.Clone(edges), e)
			cost, relays := bruteCost(p, relay)
			if bound >= 0 && relays > bound {
				continue // relays never drop as a path grows
			}
			if c, ok := best[e.To]; !ok || cost < c {
				best[e.To] = cost
			}
			onPath[e.To] = true
			walk(e.To, p)
			onPath[e.To] = false
		}
	}
	walk(me, nil)
	return best
}

// checkRoutes compares a route table with brute force: the same destinations, each route valid
// (checkRoute) and no dearer than the cheapest path within the bound.
func checkRoutes(me regions.RegionID, g *Graph, relay float64, bound int, got map[regions.RegionID]Route) error {
	want := bruteBest(me, g, relay, bound)
	for d := range want {
		if _, ok := got[d]; !ok {
			return fmt.Errorf("from %s: %s reachable at cost %v but has no route", me, d, want[d])
		}
	}
	for d, rt := range got {
		w, ok := want[d]
		if !ok {
			return fmt.Errorf("from %s: route to %s (%s) but brute force finds no path", me, d, rt)
		}
		if rt.Dest != d {
			return fmt.Errorf("from %s: route to %s listed under %s", me, rt.Dest, d)
		}
		if err := checkRoute(me, g, relay, bound, rt); err != nil {
			return err
		}
		if math.Abs(rt.Cost-w) > 1e-9 {
			return fmt.Errorf("from %s: route %s costs %v, brute force finds %v", me, rt, rt.Cost, w)
		}
	}
	return nil
}

// checkRoute checks that rt is a simple path from me to rt.Dest over up edges of g whose Cost and
// Relays are what the definitions give, within the bound.
func checkRoute(me regions.RegionID, g *Graph, relay float64, bound int, rt Route) error {
	if len(rt.Path) < 2 || rt.Path[0] != me || rt.Path[len(rt.Path)-1] != rt.Dest || len(rt.Kinds) != len(rt.Path)-1 {
		return fmt.Errorf("from %s: malformed route to %s: %s", me, rt.Dest, rt)
	}
	seen := map[regions.RegionID]bool{}
	var edges []Edge
	for i, k := range rt.Kinds {
		from, to := rt.Path[i], rt.Path[i+1]
		if seen[from] {
			return fmt.Errorf("from %s: route repeats %s: %s", me, from, rt)
		}
		seen[from] = true
		out := g.Edges(from)
		j := slices.IndexFunc(out, func(e Edge) bool { return e.To == to && e.Kind == k && e.Up })
		if j < 0 {
			return fmt.Errorf("from %s: route uses a missing or down edge %s→%s: %s", me, from, to, rt)
		}
		edges = append(edges, out[j])
	}
	cost, relays := bruteCost(edges, relay)
	switch {
	case math.Abs(cost-rt.Cost) > 1e-9:
		return fmt.Errorf("from %s: route %s says cost %v, its edges cost %v", me, rt, rt.Cost, cost)
	case relays != rt.Relays():
		return fmt.Errorf("from %s: route %s: Relays() %d, definition %d", me, rt, rt.Relays(), relays)
	case bound >= 0 && relays > bound:
		return fmt.Errorf("from %s: route %s crosses %d relays, bound %d", me, rt, relays, bound)
	}
	return nil
}
