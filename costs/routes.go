package costs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fedist/fedist/regions"
)

// Route is a path from the local region to Dest over up edges.
//
// A relay is a node process that takes a message off a connection and republishes it; the NATS
// tree forwards inside the servers and involves no relay. Along a path a relay works
//   - at every waypoint, a region entered over the tree and left over a shortcut: its relay takes
//     the message off the tree;
//   - at the far end of every shortcut: its relay republishes what the shortcut brought, onwards
//     or, at Dest, locally.
//
// Cost is the sum of the edge costs plus Config.RelayHop for each of these relays: one per
// shortcut and one per waypoint. A pure tree path pays none. Relays counts the same relays but
// Dest's.
type Route struct {
	Dest  regions.RegionID
	Path  []regions.RegionID // the local region first, Dest last
	Kinds []Kind             // Kinds[i] carries Path[i]→Path[i+1]
	Cost  float64
}

// StepKind says how the local region sends a message on its way along a route.
type StepKind uint8

const (
	// StepTree: the whole path is tree edges; publish on the tree to Dest, no relay involved.
	StepTree StepKind = 1
	// StepWaypoint: tree edges up to Via, then a shortcut from Via; send over the tree to Via's
	// relay, which continues by its own route table.
	StepWaypoint StepKind = 2
	// StepShortcut: the first edge is the local shortcut to Via; send over it. Via's relay
	// continues by its own table (or delivers, when Via is Dest).
	StepShortcut StepKind = 3
)

func (k StepKind) String() string {
	switch k {
	case StepTree:
		return "tree"
	case StepWaypoint:
		return "waypoint"
	case StepShortcut:
		return "shortcut"
	}
	return "none"
}

// Step is the first thing the local region does with a message for a route's Dest.
type Step struct {
	Kind StepKind
	Via  regions.RegionID // Dest for StepTree
}

// Step returns how to send the first leg of the route: over the tree to Dest when no shortcut
// follows, over the tree to the first waypoint, or over the local shortcut. A route with no edges
// returns the zero Step.
func (r Route) Step() Step {
	for j, k := range r.Kinds {
		if k != Shortcut {
			continue
		}
		if j == 0 {
			return Step{Kind: StepShortcut, Via: r.Path[1]}
		}
		return Step{Kind: StepWaypoint, Via: r.Path[j]}
	}
	if len(r.Kinds) == 0 {
		return Step{}
	}
	return Step{Kind: StepTree, Via: r.Dest}
}

// Relays is the number of relays the message crosses after leaving the local region and before
// Dest: the regions Path[i], 0 < i < len(Path)−1, entered or left over a shortcut. Each waypoint
// counts one and each far end of a shortcut that is not Dest counts one; a region that ends one
// shortcut and starts the next counts once. Relays is what a relay bound limits; Cost charges one
// relay more when the last edge is a shortcut (Dest's relay delivers).
func (r Route) Relays() int {
	n := 0
	for i := 1; i < len(r.Path)-1; i++ {
		if r.Kinds[i-1] == Shortcut || r.Kinds[i] == Shortcut {
			n++
		}
	}
	return n
}

// String formats the route as "00a0 -tree-> 0001 -shortcut-> 00b0".
func (r Route) String() string {
	var b strings.Builder
	for i, p := range r.Path {
		if i > 0 {
			fmt.Fprintf(&b, " -%s-> ", r.Kinds[i-1])
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// sameRoute reports whether a and b follow the same edges.
func sameRoute(a, b Route) bool {
	return slices.Equal(a.Path, b.Path) && slices.Equal(a.Kinds, b.Kinds)
}

// evalPath returns the cost of following path over kinds on g with relay cost relay per shortcut
// and per waypoint, and false if an edge is missing or down.
func evalPath(g *Graph, relay float64, path []regions.RegionID, kinds []Kind) (float64, bool) {
	if len(path) != len(kinds)+1 {
		return 0, false
	}
	cost := 0.0
	for i, k := range kinds {
		e, ok := g.Edge(path[i], path[i+1], k)
		if !ok || !e.Up {
			return 0, false
		}
		cost += e.Cost
		if k == Shortcut {
			cost += relay
			if i > 0 && kinds[i-1] == Tree {
				cost += relay
			}
		}
	}
	return cost, true
}

// Compute returns the cheapest route from me to every region reachable over up edges, by any
// path (the tree, shortcuts, or both), keyed by destination; me is not listed. Cost is as in
// Route. Ties are broken deterministically, so the same graph gives the same table on every node:
// a path arriving over the tree beats one arriving over a shortcut, and otherwise the path the
// search (gonum's Dijkstra, edges taken by To then Kind) settles first wins.
func Compute(me regions.RegionID, g *Graph, cfg *Config) map[regions.RegionID]Route {
	return collect(search(me, g, cfg, -1), g)
}

// ComputeBounded is Compute with at most maxRelays relays per route (see Route.Relays); a
// negative maxRelays means no bound. A destination whose cheapest route crosses more relays gets
// the cheapest route that crosses at most maxRelays, found by a search that counts relays (the
// pure tree path, which crosses none, is among the candidates). A destination that no path within
// the bound reaches is left out.
func ComputeBounded(me regions.RegionID, g *Graph, cfg *Config, maxRelays int) map[regions.RegionID]Route {
	out := Compute(me, g, cfg)
	if maxRelays < 0 {
		return out
	}
	var bounded *searchResult
	for d, rt := range out {
		if rt.Relays() <= maxRelays {
			continue
		}
		if bounded == nil {
			sr := search(me, g, cfg, maxRelays)
			bounded = &sr
		}
		if alt, ok := bounded.route(d); ok {
			out[d] = alt
		} else {
			delete(out, d)
		}
	}
	return out
}

func collect(sr searchResult, g *Graph) map[regions.RegionID]Route {
	out := make(map[regions.RegionID]Route)
	for d := range targets(g) {
		if rt, ok := sr.route(d); ok {
			out[d] = rt
		}
	}
	return out
}

// distances returns the cost of the cheapest route from me to every reachable region; me is 0.
func distances(me regions.RegionID, g *Graph, cfg *Config) map[regions.RegionID]float64 {
	sr := search(me, g, cfg, -1)
	out := map[regions.RegionID]float64{me: 0}
	for d := range targets(g) {
		if _, c, ok := sr.best(d); ok && d != me {
			out[d] = c
		}
	}
	return out
}
