package costs

import (
	"time"

	"github.com/fedist/fedist/regions"
)

// LinkState holds the newest advert of every node of the federation and builds the link-state
// graph from them. It is not safe for concurrent use.
type LinkState struct {
	cfg   *Config
	nodes map[nodeKey]*stateEntry
}

type nodeKey struct {
	region regions.RegionID
	node   string
}

type stateEntry struct {
	adv  *Advert
	seen time.Time
}

// NewLinkState returns an empty store.
func NewLinkState(cfg *Config) *LinkState {
	return &LinkState{cfg: cfg, nodes: map[nodeKey]*stateEntry{}}
}

// Apply stores a checked advert received at now, and reports whether routes may change: the
// node is new, or its advert differs significantly from the one it replaces (the same test a
// sender applies, see Advertiser). A refresh that says nothing new only renews the node. An advert
// of the same or an older sequence than the one held (a duplicate, or reordered) changes nothing.
func (s *LinkState) Apply(a *Advert, now time.Time) bool {
	k := nodeKey{a.Region, a.Node}
	e, ok := s.nodes[k]
	if ok && e.adv.Seq >= a.Seq {
		return false
	}
	s.nodes[k] = &stateEntry{adv: a, seen: now}
	return !ok || significant(s.cfg, e.adv, a)
}

// Expire drops the adverts of nodes silent for AdvertTTL and returns how many it dropped.
func (s *LinkState) Expire(now time.Time) int {
	n := 0
	for k, e := range s.nodes {
		if now.Sub(e.seen) > s.cfg.AdvertTTL {
			delete(s.nodes, k)
			n++
		}
	}
	return n
}

// Forget drops every advert of region r (its nodes left).
func (s *LinkState) Forget(r regions.RegionID) {
	for k := range s.nodes {
		if k.region == r {
			delete(s.nodes, k)
		}
	}
}

// Nodes returns how many nodes' adverts the store holds.
func (s *LinkState) Nodes() int { return len(s.nodes) }

// Load returns the heaviest load the nodes of region r reported: a message relayed there may land
// on any of them.
func (s *LinkState) Load(r regions.RegionID) Load {
	var l Load
	for k, e := range s.nodes {
		if k.region == r {
			l = heavier(l, e.adv.Load)
		}
	}
	return l
}

// heavier is the figure-by-figure maximum of two loads.
func heavier(l, a Load) Load {
	return Load{RelayQueue: max(l.RelayQueue, a.RelayQueue), PendingBytes: max(l.PendingBytes, a.PendingBytes),
		SlowConsumers: max(l.SlowConsumers, a.SlowConsumers), CPU: max(l.CPU, a.CPU), Service: max(l.Service, a.Service)}
}

// Coord returns the network coordinate of one of region r's nodes.
func (s *LinkState) Coord(r regions.RegionID) (Coord, bool) {
	for k, e := range s.nodes {
		if k.region == r && e.adv.Coord.Valid() {
			return e.adv.Coord, true
		}
	}
	return Coord{}, false
}

// Edges turns an advert's links into graph edges: measured links only, each costed by Cost with
// the far region's load. A link advertised by several nodes of one region keeps its cheapest cost.
func (s *LinkState) Edges(a *Advert) []Edge { return s.edges(a, s.loads()) }

func (s *LinkState) edges(a *Advert, loads map[regions.RegionID]Load) []Edge {
	out := make([]Edge, 0, len(a.Links))
	for _, l := range a.Links {
		if l.RTT == 0 {
			continue // not measured yet: never routed over
		}
		out = append(out, Edge{From: a.Region, To: l.To, Kind: l.Kind, Up: l.Up,
			Cost: Cost(s.cfg, time.Duration(l.RTT)*time.Microsecond, loads[l.To])})
	}
	return out
}

// Coords returns a network coordinate of every region that advertised one: that of its node of
// the lowest name, so every node picks the same one, with mine (the node's own current advert) in
// place of any copy of it that came back.
func (s *LinkState) Coords(mine *Advert) map[regions.RegionID]Coord {
	out := map[regions.RegionID]Coord{}
	from := map[regions.RegionID]string{}
	take := func(k nodeKey, a *Advert) {
		if n, ok := from[k.region]; a.Coord.Valid() && (!ok || k.node < n) {
			out[k.region], from[k.region] = a.Coord, k.node
		}
	}
	s.each(mine, take)
	return out
}

// loads returns every region's heaviest reported load (as Load), in one pass.
func (s *LinkState) loads() map[regions.RegionID]Load {
	out := make(map[regions.RegionID]Load, len(s.nodes))
	for k, e := range s.nodes {
		out[k.region] = heavier(out[k.region], e.adv.Load)
	}
	return out
}

// Graph builds the link-state graph: every other region's advertised links, and mine (me's own
// node's links, which are fresher than any advert of mine that came back).
func (s *LinkState) Graph(me regions.RegionID, mine *Advert) *Graph {
	return s.graph(me, mine, s.loads())
}

// RTTGraph is Graph with every link costed by its RTT alone, no load: what the shortcut plan is
// computed on. The plan is the federation's structure; a relay's load moves routes, and must not
// reshuffle every node's shortcuts while it lasts.
func (s *LinkState) RTTGraph(me regions.RegionID, mine *Advert) *Graph {
	return s.graph(me, mine, nil)
}

func (s *LinkState) graph(me regions.RegionID, mine *Advert, loads map[regions.RegionID]Load) *Graph {
	byRegion := map[regions.RegionID]map[[2]uint32]Edge{}
	add := func(es []Edge) {
		for _, e := range es {
			m := byRegion[e.From]
			if m == nil {
				m = map[[2]uint32]Edge{}
				byRegion[e.From] = m
			}
			k := [2]uint32{uint32(e.To), uint32(e.Kind)}
			if old, ok := m[k]; !ok || (e.Up && (!old.Up || e.Cost < old.Cost)) {
				m[k] = e
			}
		}
	}
	for k, e := range s.nodes {
		if k.region == me && mine != nil && k.node == mine.Node {
			continue
		}
		add(s.edges(e.adv, loads))
	}
	if mine != nil {
		add(s.edges(mine, loads))
	}
	// A tree link is one leafnode connection: when either end says it is down, it is down both
	// ways. The end that lost it may have no other tree link to advertise over (a child whose
	// only link is the cut one), so its own advert never arrives.
	for u, m := range byRegion {
		for k, e := range m {
			if e.Kind != Tree {
				continue
			}
			if back, ok := byRegion[e.To][[2]uint32{uint32(u), uint32(Tree)}]; ok && !back.Up {
				e.Up = false
				m[k] = e
			}
		}
	}
	g := NewGraph()
	for r, m := range byRegion {
		es := make([]Edge, 0, len(m))
		for _, e := range m {
			es = append(es, e)
		}
		_ = g.SetEdges(r, es) // edges built here are well formed; a bad one is dropped by SetEdges
	}
	return g
}

// Flows returns the demand every region's nodes advertised, with mine (the node's own current
// advert) in place of any copy of it that came back.
func (s *LinkState) Flows(mine *Advert) []Flow {
	var out []Flow
	add := func(a *Advert) {
		for _, d := range a.Demand {
			out = append(out, Flow{From: a.Region, To: d.To, Rate: float64(d.Rate)})
		}
	}
	s.each(mine, func(_ nodeKey, a *Advert) { add(a) })
	return out
}

// each calls f with every node's advert, mine (the node's own current advert) in place of any
// copy of it that came back.
func (s *LinkState) each(mine *Advert, f func(nodeKey, *Advert)) {
	for k, e := range s.nodes {
		if mine == nil || k != (nodeKey{mine.Region, mine.Node}) {
			f(k, e.adv)
		}
	}
	if mine != nil {
		f(nodeKey{mine.Region, mine.Node}, mine)
	}
}

// Measured returns the RTTs shortcuts measured, by pair, as either end advertised them (the
// lower figure if both did), with mine (the node's own current advert) as in Flows.
func (s *LinkState) Measured(mine *Advert) map[Pair]time.Duration {
	out := map[Pair]time.Duration{}
	look := func(adv *Advert) {
		for _, l := range adv.Measured {
			p, rtt := MakePair(adv.Region, l.To), time.Duration(l.RTT)*time.Microsecond
			if old, ok := out[p]; !ok || rtt < old {
				out[p] = rtt
			}
		}
	}
	s.each(mine, func(_ nodeKey, a *Advert) { look(a) })
	return out
}
