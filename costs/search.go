package costs

import (
	"math"

	"github.com/fedist/fedist/regions"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/iterator"
	"gonum.org/v1/gonum/graph/path"
	"gonum.org/v1/gonum/graph/simple"
)

// The relay charge of a path depends on how it entered each region (a region entered over the
// tree and left over a shortcut is a waypoint and costs a relay), and a relay bound needs the
// number of relays so far. Neither fits one node per region, so the search runs gonum's Dijkstra
// over states: (region, kind of the edge that entered it, relays crossed so far). The state graph
// is built lazily from the link-state graph and lists neighbours in a fixed order, so ties are
// broken the same way on every node and in every run (gonum's simple graphs iterate maps).

// hopState is where a path stands: at region v, entered over an edge of kind in (Tree for the
// source), after crossing r relays. r stays 0 in an unbounded search.
type hopState struct {
	v  regions.RegionID
	in Kind
	r  int
}

// stateGraph implements gonum's traverse.Graph and path.Weighted over hopStates.
type stateGraph struct {
	g      *Graph
	me     regions.RegionID
	relay  float64 // Config.RelayHop
	layers int64   // bound+1, or 1 when unbounded
	bound  int     // most relays a path may cross; negative for no bound
}

func newStateGraph(me regions.RegionID, g *Graph, cfg *Config, bound int) *stateGraph {
	s := &stateGraph{g: g, me: me, relay: cfg.RelayHop, layers: 1, bound: bound}
	if bound >= 0 {
		// A simple path crosses fewer relays than there are regions; cap the state space.
		s.bound = min(bound, len(g.out)+1)
		s.layers = int64(s.bound) + 1
	}
	return s
}

func (s *stateGraph) id(h hopState) int64 {
	return (int64(h.v)<<1|int64(h.in-1))*s.layers + int64(h.r)
}

func (s *stateGraph) state(id int64) hopState {
	r := id % s.layers
	id /= s.layers
	return hopState{v: regions.RegionID(id >> 1), in: Kind(id&1) + 1, r: int(r)}
}

// step follows e from h: the state it leads to, its weight (cost plus relay charges) and whether
// the search may take it (up, not back to the source, within the relay bound).
func (s *stateGraph) step(h hopState, e Edge) (hopState, float64, bool) {
	if !e.Up || e.To == s.me || e.From != h.v {
		return hopState{}, 0, false
	}
	w := e.Cost
	if e.Kind == Shortcut {
		w += s.relay // the relay at the far end republishes what the shortcut brings
		if h.v != s.me && h.in == Tree {
			w += s.relay // h.v is a waypoint: its relay takes the message off the tree
		}
	}
	next := hopState{v: e.To, in: e.Kind, r: h.r}
	if s.bound >= 0 && h.v != s.me && (h.in == Shortcut || e.Kind == Shortcut) {
		next.r++
		if next.r > s.bound {
			return hopState{}, 0, false
		}
	}
	return next, w, true
}

// From returns the states one edge away from id, in (To, Kind) order.
func (s *stateGraph) From(id int64) graph.Nodes {
	h := s.state(id)
	out := make([]graph.Node, 0, len(s.g.out[h.v]))
	for _, e := range s.g.out[h.v] {
		if next, _, ok := s.step(h, e); ok {
			out = append(out, simple.Node(s.id(next)))
		}
	}
	if len(out) == 0 {
		return graph.Empty
	}
	return iterator.NewOrderedNodes(out)
}

// Edge returns the edge from uid to vid, or nil.
func (s *stateGraph) Edge(uid, vid int64) graph.Edge {
	w, ok := s.Weight(uid, vid)
	if !ok || uid == vid {
		return nil
	}
	return simple.WeightedEdge{F: simple.Node(uid), T: simple.Node(vid), W: w}
}

// Weight returns the weight of the edge from xid to yid.
func (s *stateGraph) Weight(xid, yid int64) (float64, bool) {
	if xid == yid {
		return 0, true
	}
	h, t := s.state(xid), s.state(yid)
	e, ok := s.g.Edge(h.v, t.v, t.in)
	if !ok {
		return math.Inf(1), false
	}
	next, w, ok := s.step(h, e)
	if !ok || next != t {
		return math.Inf(1), false
	}
	return w, true
}

// searchResult is one Dijkstra run from me.
type searchResult struct {
	sg   *stateGraph
	tree path.Shortest
}

func search(me regions.RegionID, g *Graph, cfg *Config, bound int) searchResult {
	sg := newStateGraph(me, g, cfg, bound)
	return searchResult{sg: sg, tree: path.DijkstraFrom(simple.Node(sg.id(hopState{v: me, in: Tree})), sg)}
}

// best returns the cheapest state at d: on equal cost the one with fewer relays, then the one
// entered over the tree. ok is false when d is unreachable.
func (sr searchResult) best(d regions.RegionID) (hopState, float64, bool) {
	var at hopState
	cost := math.Inf(1)
	for r := range int(sr.sg.layers) {
		for _, in := range []Kind{Tree, Shortcut} {
			h := hopState{v: d, in: in, r: r}
			if w := sr.tree.WeightTo(sr.sg.id(h)); w < cost {
				at, cost = h, w
			}
		}
	}
	return at, cost, !math.IsInf(cost, 1)
}

// route returns the path to d's best state. Zero-cost loops, the only kind a shortest walk can
// hold, are cut, which never raises the cost or the relay count.
func (sr searchResult) route(d regions.RegionID) (Route, bool) {
	at, cost, ok := sr.best(d)
	if !ok || d == sr.sg.me {
		return Route{}, false
	}
	nodes, _ := sr.tree.To(sr.sg.id(at))
	rt := Route{Dest: d, Path: make([]regions.RegionID, len(nodes)), Kinds: make([]Kind, len(nodes)-1), Cost: cost}
	for i, n := range nodes {
		h := sr.sg.state(n.ID())
		rt.Path[i] = h.v
		if i > 0 {
			rt.Kinds[i-1] = h.in
		}
	}
	n := len(rt.Path)
	if rt.Path, rt.Kinds = cutLoops(rt.Path, rt.Kinds); len(rt.Path) < n {
		rt.Cost, _ = evalPath(sr.sg.g, sr.sg.relay, rt.Path, rt.Kinds)
	}
	return rt, true
}

// targets lists every region an up edge leads to, the candidates for a route.
func targets(g *Graph) map[regions.RegionID]struct{} {
	out := make(map[regions.RegionID]struct{})
	for _, es := range g.out {
		for _, e := range es {
			if e.Up {
				out[e.To] = struct{}{}
			}
		}
	}
	return out
}

// cutLoops removes every stretch that returns to a region already on the path.
func cutLoops(p []regions.RegionID, kinds []Kind) ([]regions.RegionID, []Kind) {
	for i := 0; i < len(p); i++ {
		j := len(p) - 1
		for j > i && p[j] != p[i] {
			j--
		}
		if j > i {
			p = append(p[:i+1], p[j+1:]...)
			kinds = append(kinds[:i], kinds[j:]...)
		}
	}
	return p, kinds
}
