package costs

import (
	"cmp"
	"container/heap"
	"maps"
	"math"
	"slices"

	"github.com/fedist/fedist/regions"
)

// Flow is traffic that region From sends to region To, in msgs/s, as From advertises it.
type Flow struct {
	From, To regions.RegionID
	Rate     float64
}

// Pair is a shortcut between two regions, the lower ID first: a shortcut is used both ways.
type Pair struct{ A, B regions.RegionID }

// MakePair returns the pair of a and b, the lower ID first.
func MakePair(a, b regions.RegionID) Pair { return Pair{min(a, b), max(a, b)} }

// Has reports whether r is one of the pair's ends.
func (p Pair) Has(r regions.RegionID) bool { return p.A == r || p.B == r }

// Other is the end of the pair that is not r.
func (p Pair) Other(r regions.RegionID) regions.RegionID {
	if p.A == r {
		return p.B
	}
	return p.A
}

// PlanInput is what Plan decides from. Every node holds the same adverts, so every node that
// plans from them reaches the same pairs.
type PlanInput struct {
	// Graph is the link state: tree links, and the shortcuts open now at their measured cost
	// (those advertised down are held: see openPairs).
	Graph *Graph
	// Flows is the traffic every region advertised.
	Flows []Flow
	// Estimate is the cost of a direct link a–b that is not open (from network coordinates, or a
	// measurement of an earlier shortcut); ok=false if unknown.
	Estimate func(a, b regions.RegionID) (cost float64, ok bool)
}

// Plan chooses the shortcuts the federation should hold: a greedy degree-bounded spanner over
// the advertised traffic, the method the offline study behind K used (the tree plus at most K
// shortcuts per region).
//
// Starting from the tree alone, it adds, one at a time, the pair of highest gain whose two ends
// both hold fewer than K planned shortcuts, where the gain of a pair a–b of cost c is
//
//	gain(a,b) = Σ_flows rate × weigh(saving(dist(s,d), min(dist(s,a)+c+RelayHop+dist(b,d), dist(s,b)+c+RelayHop+dist(a,d))), dist(s,d))
//
// where weigh(x, d) = x × PlanScale / (d + PlanScale) (see Config.PlanScale)
// over the distances with the pairs chosen so far (saving is Select's: counted only when the
// router would switch), a flow the tree cannot carry (a cut link) counting as unreachable ms. A
// pair that is open now (in the graph, up or held down) counts its gain PlanKeep times, so noise in the
// adverts does not trade one open shortcut for a barely better one. It stops when no pair gains
// Config.MinGain. Candidates are the pairs of every flow's two ends that are not tree neighbours,
// and the open shortcuts.
//
// The search is lazy (Minoux's accelerated greedy): a pair's gain is recomputed only when it
// reaches the top of the queue, since adding a shortcut only shortens distances and so rarely
// raises another pair's gain. Distances are updated for each added pair without a new search:
// they do not apply MaxHops, which the router does, so a gain through many shortcuts may be
// overrated. Ties go to the lower pair.
func Plan(cfg *Config, in PlanInput) []Pair {
	g := NewGraph()
	if in.Graph != nil {
		g = in.Graph.Clone()
	}
	open := openPairs(g)
	for r := range g.out {
		g.out[r] = slices.DeleteFunc(g.out[r], func(e Edge) bool { return e.Kind == Shortcut })
	}
	flows := cleanFlows(in.Flows)
	if len(flows) == 0 {
		return nil
	}
	cost := map[Pair]float64{}
	for p, c := range open {
		cost[p] = c
	}
	for _, f := range flows {
		p := MakePair(f.From, f.To)
		if _, ok := cost[p]; ok || treeLinked(g, p.A, p.B) || in.Estimate == nil {
			continue
		}
		if c, ok := in.Estimate(p.A, p.B); ok && c >= 0 && !math.IsNaN(c) && !math.IsInf(c, 0) {
			cost[p] = c
		}
	}
	if len(cost) == 0 {
		return nil
	}
	pl := newPlanner(cfg, g, flows, cost)
	q := &queue[queued]{less: func(a, b queued) bool { // the highest score first, the lower pair on ties
		if a.score != b.score {
			return a.score > b.score
		}
		return comparePairs(a.p, b.p) < 0
	}}
	for _, p := range slices.SortedFunc(maps.Keys(cost), comparePairs) {
		c := pl.cand(p, cost[p], open)
		c.score = pl.score(c)
		heap.Push(q, c)
	}
	degree := make([]int, len(pl.ids))
	var out []Pair
	for q.Len() > 0 {
		top := heap.Pop(q).(queued)
		if degree[top.a] >= cfg.K || degree[top.b] >= cfg.K {
			continue
		}
		top.score = pl.score(top)
		if q.Len() > 0 && top.score < q.items[0].score {
			heap.Push(q, top) // stale: someone else may now be better
			continue
		}
		if gain := pl.gain(top); gain <= 0 || gain < cfg.MinGain {
			continue
		}
		out = append(out, top.p)
		degree[top.a]++
		degree[top.b]++
		pl.add(top)
	}
	slices.SortFunc(out, comparePairs)
	return out
}

// unreachable is what the plan takes a flow the tree cannot carry to cost, in ms: a region cut
// off from the tree keeps the shortcuts that still reach it, at a gain above any other.
const unreachable = 10_000

// planner holds the distances between all regions, by dense index, as pairs are added.
type planner struct {
	cfg   *Config
	ids   []regions.RegionID
	index map[regions.RegionID]int
	dist  [][]float64 // dist[i][j]: cost from ids[i] to ids[j], +Inf when unreachable
	flows []denseFlow
}

type denseFlow struct {
	s, d int
	rate float64
}

// newPlanner indexes every region of g, the flows and the candidates, and computes the distances
// over g (the tree: Dijkstra from every region).
func newPlanner(cfg *Config, g *Graph, flows []Flow, cost map[Pair]float64) *planner {
	pl := &planner{cfg: cfg, index: map[regions.RegionID]int{}}
	addID := func(r regions.RegionID) int {
		i, ok := pl.index[r]
		if !ok {
			i = len(pl.ids)
			pl.index[r] = i
			pl.ids = append(pl.ids, r)
		}
		return i
	}
	for _, r := range g.Regions() {
		addID(r)
		for _, e := range g.out[r] {
			addID(e.To)
		}
	}
	for _, f := range flows {
		pl.flows = append(pl.flows, denseFlow{addID(f.From), addID(f.To), f.Rate})
	}
	for p := range cost {
		addID(p.A)
		addID(p.B)
	}
	n := len(pl.ids)
	adj := make([][]denseEdge, n)
	for _, r := range g.Regions() {
		for _, e := range g.out[r] {
			if e.Up {
				adj[pl.index[r]] = append(adj[pl.index[r]], denseEdge{pl.index[e.To], e.Cost})
			}
		}
	}
	pl.dist = make([][]float64, n)
	for i := range n {
		pl.dist[i] = dijkstra(adj, i)
	}
	return pl
}

type denseEdge struct {
	to   int
	cost float64
}

// dijkstra returns the cost from src to every index over adj, +Inf where unreachable. The plan's
// base graph has tree links only, which cross no relay, so a plain search suffices (the router's
// relay-aware search is in search.go).
func dijkstra(adj [][]denseEdge, src int) []float64 {
	dist := make([]float64, len(adj))
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	dist[src] = 0
	q := &queue[distItem]{items: []distItem{{src, 0}}, less: func(a, b distItem) bool { return a.d < b.d }}
	for q.Len() > 0 {
		it := heap.Pop(q).(distItem)
		if it.d > dist[it.v] {
			continue
		}
		for _, e := range adj[it.v] {
			if nd := it.d + e.cost; nd < dist[e.to] {
				dist[e.to] = nd
				heap.Push(q, distItem{e.to, nd})
			}
		}
	}
	return dist
}

type distItem struct {
	v int
	d float64
}

// cand is the queue entry of pair p of cost c.
func (pl *planner) cand(p Pair, c float64, open map[Pair]float64) queued {
	_, isOpen := open[p]
	return queued{p: p, a: pl.index[p.A], b: pl.index[p.B], cost: c, open: isOpen}
}

// gain is the traffic × delay the candidate would save.
func (pl *planner) gain(c queued) float64 {
	link := c.cost + pl.cfg.RelayHop
	da, db := pl.dist[c.a], pl.dist[c.b]
	gain := 0.0
	for _, f := range pl.flows {
		from := min(pl.dist[f.s][f.d], unreachable)
		ds := pl.dist[f.s]
		via := min(ds[c.a]+link+db[f.d], ds[c.b]+link+da[f.d])
		gain += f.rate * pl.weigh(saving(pl.cfg, from, via), from)
	}
	return gain
}

// weigh is what a saving of s ms on a path of from ms counts for: s × PlanScale / (from +
// PlanScale), the fraction of a long path's delay saved, the ms on a short one; s itself when
// PlanScale is 0.
func (pl *planner) weigh(s, from float64) float64 {
	if pl.cfg.PlanScale <= 0 || s == 0 || from >= unreachable {
		return s // a flow the tree cannot carry keeps its full weight (see unreachable)
	}
	return s * pl.cfg.PlanScale / (from + pl.cfg.PlanScale)
}

// score is the gain, PlanKeep times for a pair open now.
func (pl *planner) score(c queued) float64 {
	g := pl.gain(c)
	if c.open {
		g *= pl.cfg.PlanKeep
	}
	return g
}

// add puts the candidate into the distances: a path may now cross it once.
func (pl *planner) add(c queued) {
	link := c.cost + pl.cfg.RelayHop
	fromA, fromB := slices.Clone(pl.dist[c.a]), slices.Clone(pl.dist[c.b])
	for _, row := range pl.dist {
		toA, toB := row[c.a], row[c.b]
		if math.IsInf(toA, 1) && math.IsInf(toB, 1) {
			continue
		}
		for y := range row {
			row[y] = min(row[y], toB+link+fromA[y], toA+link+fromB[y])
		}
	}
}

// openPairs returns the shortcuts in g, with their cost (the lower of the two ends' figures
// where both advertise it). One advertised down is held still (its link cut for a moment, its
// dial on its way): the plan keeps counting it as open, and routes avoid it.
func openPairs(g *Graph) map[Pair]float64 {
	out := map[Pair]float64{}
	for _, es := range g.out {
		for _, e := range es {
			if e.Kind != Shortcut {
				continue
			}
			p := MakePair(e.From, e.To)
			if c, ok := out[p]; !ok || e.Cost < c {
				out[p] = e.Cost
			}
		}
	}
	return out
}

// cleanFlows merges flows by their ends and drops empty, invalid and self flows, busiest first.
func cleanFlows(in []Flow) []Flow {
	sum := map[[2]regions.RegionID]float64{}
	for _, f := range in {
		if f.From != f.To && f.Rate > 0 && !math.IsInf(f.Rate, 1) && !math.IsNaN(f.Rate) {
			sum[[2]regions.RegionID{f.From, f.To}] += f.Rate
		}
	}
	out := make([]Flow, 0, len(sum))
	for k, r := range sum {
		out = append(out, Flow{k[0], k[1], r})
	}
	slices.SortFunc(out, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(b.Rate, a.Rate), cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
	return out
}

func comparePairs(a, b Pair) int { return cmp.Or(cmp.Compare(a.A, b.A), cmp.Compare(a.B, b.B)) }

// queued is a candidate pair in Plan's queue with its last computed score.
type queued struct {
	p     Pair
	a, b  int // the pair's dense indices
	cost  float64
	open  bool
	score float64
}

// queue is a container/heap of T ordered by less.
type queue[T any] struct {
	items []T
	less  func(a, b T) bool
}

func (q *queue[T]) Len() int           { return len(q.items) }
func (q *queue[T]) Less(i, j int) bool { return q.less(q.items[i], q.items[j]) }
func (q *queue[T]) Swap(i, j int)      { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *queue[T]) Push(x any)         { q.items = append(q.items, x.(T)) }
func (q *queue[T]) Pop() any {
	x := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return x
}
