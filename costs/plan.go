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
	// Graph is the link state: tree links, and the shortcuts open now at their measured cost.
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
//	gain(a,b) = Σ_flows rate × saving(dist(s,d), min(dist(s,a)+c+RelayHop+dist(b,d), dist(s,b)+c+RelayHop+dist(a,d)))
//
// over the distances with the pairs chosen so far (saving is Select's: counted only when the
// router would switch). A pair that is open now counts its gain PlanKeep times, so noise in the
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
	rows := map[regions.RegionID]bool{}
	for _, f := range flows {
		rows[f.From] = true
	}
	for p := range cost {
		rows[p.A], rows[p.B] = true, true
	}
	dist := map[regions.RegionID]map[regions.RegionID]float64{}
	for r := range rows {
		dist[r] = distances(r, g, cfg)
	}
	pl := planner{cfg: cfg, dist: dist, flows: flows}
	q := &pairQueue{}
	for _, p := range slices.SortedFunc(maps.Keys(cost), comparePairs) {
		heap.Push(q, queued{p, cost[p], pl.score(p, cost[p], open)})
	}
	degree := map[regions.RegionID]int{}
	var out []Pair
	for q.Len() > 0 {
		top := heap.Pop(q).(queued)
		if degree[top.p.A] >= cfg.K || degree[top.p.B] >= cfg.K {
			continue
		}
		top.score = pl.score(top.p, top.cost, open)
		if q.Len() > 0 && top.score < (*q)[0].score {
			heap.Push(q, top) // stale: someone else may now be better
			continue
		}
		if gain := pl.gain(top.p, top.cost); gain <= 0 || gain < cfg.MinGain {
			continue
		}
		out = append(out, top.p)
		degree[top.p.A]++
		degree[top.p.B]++
		pl.add(top.p, top.cost)
	}
	slices.SortFunc(out, comparePairs)
	return out
}

// planner holds the distances between the rows (flow sources and candidate ends) as pairs are
// added.
type planner struct {
	cfg   *Config
	dist  map[regions.RegionID]map[regions.RegionID]float64
	flows []Flow
}

func (pl *planner) d(a, b regions.RegionID) float64 {
	if a == b {
		return 0
	}
	if c, ok := pl.dist[a][b]; ok {
		return c
	}
	return math.Inf(1)
}

// gain is the traffic × delay the pair p of cost c would save.
func (pl *planner) gain(p Pair, c float64) float64 {
	link := c + pl.cfg.RelayHop
	gain := 0.0
	for _, f := range pl.flows {
		from := pl.d(f.From, f.To)
		if math.IsInf(from, 1) {
			continue // unreachable: the tree repairs it, as in Select
		}
		via := min(pl.d(f.From, p.A)+link+pl.d(p.B, f.To), pl.d(f.From, p.B)+link+pl.d(p.A, f.To))
		gain += f.Rate * saving(pl.cfg, from, via)
	}
	return gain
}

// score is the gain, PlanKeep times for a pair open now.
func (pl *planner) score(p Pair, c float64, open map[Pair]float64) float64 {
	g := pl.gain(p, c)
	if _, ok := open[p]; ok {
		g *= pl.cfg.PlanKeep
	}
	return g
}

// add puts the pair p of cost c into the distances: a path may now cross it once.
func (pl *planner) add(p Pair, c float64) {
	link := c + pl.cfg.RelayHop
	fromA, fromB := maps.Clone(pl.dist[p.A]), maps.Clone(pl.dist[p.B])
	at := func(row map[regions.RegionID]float64, r, y regions.RegionID) float64 {
		if r == y {
			return 0
		}
		if c, ok := row[y]; ok {
			return c
		}
		return math.Inf(1)
	}
	for x, row := range pl.dist {
		toA, toB := pl.d(x, p.A), pl.d(x, p.B)
		for _, y := range slices.Collect(maps.Keys(fromA)) {
			if via := toB + link + at(fromA, p.A, y); via < pl.d(x, y) && x != y {
				row[y] = via
			}
		}
		for _, y := range slices.Collect(maps.Keys(fromB)) {
			if via := toA + link + at(fromB, p.B, y); via < pl.d(x, y) && x != y {
				row[y] = via
			}
		}
	}
}

// openPairs returns the shortcuts in g that are up, with their cost (the lower of the two ends'
// figures where both advertise it).
func openPairs(g *Graph) map[Pair]float64 {
	out := map[Pair]float64{}
	for _, es := range g.out {
		for _, e := range es {
			if e.Kind != Shortcut || !e.Up {
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
	cost  float64
	score float64
}

// pairQueue is a max-heap of candidates by score, the lower pair first on ties.
type pairQueue []queued

func (q pairQueue) Len() int { return len(q) }
func (q pairQueue) Less(i, j int) bool {
	if q[i].score != q[j].score {
		return q[i].score > q[j].score
	}
	return comparePairs(q[i].p, q[j].p) < 0
}
func (q pairQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pairQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *pairQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// MaxAdvertDemand bounds the flows one advert may list: a node advertises its busiest
// destinations only, as Select weighs only its busiest.
const MaxAdvertDemand = maxCandidates
