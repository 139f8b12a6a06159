package shortcutsim

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// Result is what one simulation reached.
type Result struct {
	Pairs       int                   // ordered pairs
	Within      int                   // pairs whose route cost ≤ 1.10 × oracle
	WithinPlus2 int                   // pairs whose route cost ≤ 1.10 × oracle + 2 ms (the lab's bound)
	OnTree      int                   // pairs whose best route is the tree path
	Rounds      int                   // rounds until one changed nothing (MaxRounds if none did)
	Settled     bool                  // a round changed nothing
	Changes     int                   // shortcuts opened and closed over all rounds
	Shortcuts   [][2]regions.RegionID // open at the end: opener, accepter
	MostPerNode int                   // the most shortcuts one region held at the end (K bounds it)
	WorstRatio  float64               // the largest route cost / oracle
	Worst       [2]regions.RegionID
}

// MaxRounds bounds a simulation that does not settle.
const MaxRounds = 50

// shortcut is an open shortcut: opened by From, accepted by To.
type shortcut struct{ From, To regions.RegionID }

// Options vary the simulation.
type Options struct {
	Rate float64 // msgs/s from every region to every other
	// Penalty is added to the cost of every link, as a load penalty (costs.Cost) reported alike
	// by every node would be: what nodes sharing one process's CPU report in the lab.
	Penalty float64
	// CountTransit adds to a region's traffic what other regions' routes send through it (as the
	// relay counts every message it forwards), not only its own.
	CountTransit bool
	// Simultaneous: every region decides on the graph as it was at the start of the round, and the
	// choices are applied in a random order (Seed), a full peer refusing, as nodes deciding at the
	// same moment on the same adverts would. Otherwise each region sees the choices made before it.
	Simultaneous bool
	Seed         uint64
	// EstimateError makes the estimate of an unopened link (network coordinates in the engine)
	// off by up to this fraction either way, fixed per pair (Seed); the graph keeps the true RTT
	// of open links, as the engine measures them once open.
	EstimateError float64
	// Plan: every region applies costs.Plan, computed on the same graph and everyone's traffic,
	// instead of costs.Select on its own: it opens the planned pairs it is the lower end of and
	// closes its shortcuts that are not planned.
	Plan bool
}

// Run simulates cfg's shortcut choice on t.
func Run(t *topo.Topology, cfg costs.Config, o Options) (Result, error) {
	rate := o.Rate
	rs := t.Regions()
	ids := make([]regions.RegionID, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	traffic := map[regions.RegionID]float64{}
	for _, id := range ids {
		traffic[id] = rate
	}
	open := map[shortcut]bool{}
	count := func(r regions.RegionID) int {
		n := 0
		for s := range open {
			if s.From == r || s.To == r {
				n++
			}
		}
		return n
	}
	now := time.Unix(0, 0)
	measured := map[costs.Pair]bool{} // pairs that were open once: their estimate is their RTT
	var res Result
	for res.Rounds < MaxRounds && !res.Settled {
		res.Rounds++
		changed := 0
		type choice struct {
			me  regions.RegionID
			sel costs.Selection
		}
		var choices []choice
		apply := func(c choice) {
			me, sel := c.me, c.sel
			for _, p := range sel.Close {
				if open[shortcut{me, p}] {
					delete(open, shortcut{me, p})
					changed++
				}
			}
			for _, p := range sel.Open {
				if count(me) < cfg.K && count(p) < cfg.K && !open[shortcut{me, p}] && !open[shortcut{p, me}] {
					open[shortcut{me, p}] = true
					changed++
				}
			}
		}
		g, err := graph(t, ids, open, o.Penalty)
		if err != nil {
			return res, err
		}
		rnd := rand.New(rand.NewPCG(o.Seed, uint64(res.Rounds)))
		if o.Plan {
			changed = applyPlan(t, ids, g, &cfg, o, open, measured)
			res.Changes += changed
			res.Settled = changed == 0
			continue
		}
		for _, me := range ids {
			if !o.Simultaneous {
				if g, err = graph(t, ids, open, o.Penalty); err != nil {
					return res, err
				}
			}
			demand := withoutMe(traffic, me)
			if o.CountTransit {
				addTransit(demand, me, ids, g, &cfg, rate)
			}
			mine := map[regions.RegionID]time.Time{}
			fixed := map[regions.RegionID]bool{}
			for s := range open {
				switch me {
				case s.From:
					mine[s.To] = now
				case s.To:
					fixed[s.From] = true
				}
			}
			sel := costs.Select(&cfg, costs.SelectInput{
				Me: me, Graph: g, Traffic: demand, Open: mine, Inbound: len(fixed), Fixed: fixed, Now: now,
				Estimate: func(p regions.RegionID) (float64, bool) {
					return estimate(t, o, me, p)
				},
				PeerFull: func(p regions.RegionID) bool { return count(p) >= cfg.K },
			})
			if o.Simultaneous {
				choices = append(choices, choice{me, sel})
			} else {
				apply(choice{me, sel})
			}
		}
		rnd.Shuffle(len(choices), func(i, j int) { choices[i], choices[j] = choices[j], choices[i] })
		for _, c := range choices {
			apply(c)
		}
		res.Changes += changed
		res.Settled = changed == 0
	}
	g, err := graph(t, ids, open, o.Penalty)
	if err != nil {
		return res, err
	}
	for s := range open {
		res.Shortcuts = append(res.Shortcuts, [2]regions.RegionID{s.From, s.To})
	}
	slices.SortFunc(res.Shortcuts, func(a, b [2]regions.RegionID) int { return int(a[0])<<16 + int(a[1]) - (int(b[0])<<16 + int(b[1])) })
	for _, id := range ids {
		res.MostPerNode = max(res.MostPerNode, count(id))
		routes := costs.Compute(id, g, &cfg)
		for _, d := range ids {
			if d == id {
				continue
			}
			res.Pairs++
			oracle, err := t.OracleRTT(id, d)
			if err != nil {
				return res, err
			}
			r, ok := routes[d]
			if !ok {
				return res, fmt.Errorf("%s has no route to %s", id, d)
			}
			cost, _ := pathRTT(t, r.Path)
			if cost <= 1.10*oracle+1e-9 {
				res.Within++
			}
			if cost <= 1.10*oracle+2 {
				res.WithinPlus2++
			}
			if tree, err := t.TreeRTT(id, d); err == nil && cost >= tree-1e-9 {
				res.OnTree++
			}
			if ratio := cost / oracle; ratio > res.WorstRatio {
				res.WorstRatio, res.Worst = ratio, [2]regions.RegionID{id, d}
			}
		}
	}
	return res, nil
}

// estimate is the engine's estimate of an unopened link a–b: its RTT, off by up to
// o.EstimateError, plus the load penalty.
func estimate(t *topo.Topology, o Options, a, b regions.RegionID) (float64, bool) {
	rtt, ok := t.LinkRTT(a, b)
	if o.EstimateError > 0 {
		lo, hi := min(a, b), max(a, b)
		u := rand.New(rand.NewPCG(o.Seed, uint64(lo)<<16|uint64(hi))).Float64()*2 - 1
		rtt *= 1 + o.EstimateError*u
	}
	return rtt + o.Penalty, ok
}

// applyPlan runs costs.Plan on g with uniform traffic and makes open match it, a full region
// refusing; it returns how many shortcuts it opened and closed.
//
// A pair that was open once is estimated at its true RTT from then on, as the engine, which
// advertises what its shortcuts measured, does.
func applyPlan(t *topo.Topology, ids []regions.RegionID, g *costs.Graph, cfg *costs.Config, o Options, open map[shortcut]bool, measured map[costs.Pair]bool) int {
	var flows []costs.Flow
	for _, a := range ids {
		for _, b := range ids {
			if a != b {
				flows = append(flows, costs.Flow{From: a, To: b, Rate: o.Rate})
			}
		}
	}
	plan := costs.Plan(cfg, costs.PlanInput{Graph: g, Flows: flows,
		Estimate: func(a, b regions.RegionID) (float64, bool) {
			if measured[costs.MakePair(a, b)] {
				rtt, ok := t.LinkRTT(a, b)
				return rtt + o.Penalty, ok
			}
			return estimate(t, o, a, b)
		}})
	want := map[costs.Pair]bool{}
	for _, p := range plan {
		want[p] = true
	}
	changed := 0
	for s := range open {
		if !want[costs.MakePair(s.From, s.To)] {
			delete(open, s)
			changed++
		}
	}
	degree := map[regions.RegionID]int{}
	for s := range open {
		degree[s.From]++
		degree[s.To]++
	}
	for _, p := range plan {
		if !open[shortcut{p.A, p.B}] && !open[shortcut{p.B, p.A}] && degree[p.A] < cfg.K && degree[p.B] < cfg.K {
			open[shortcut{p.A, p.B}] = true
			measured[p] = true
			degree[p.A]++
			degree[p.B]++
			changed++
		}
	}
	return changed
}

// graph is the link-state graph: tree links and open shortcuts, both ways, at their matrix RTT.
func graph(t *topo.Topology, ids []regions.RegionID, open map[shortcut]bool, penalty float64) (*costs.Graph, error) {
	out := map[regions.RegionID][]costs.Edge{}
	add := func(a, b regions.RegionID, kind costs.Kind) error {
		rtt, ok := t.LinkRTT(a, b)
		if !ok {
			return fmt.Errorf("no RTT for %s-%s", a, b)
		}
		out[a] = append(out[a], costs.Edge{From: a, To: b, Kind: kind, Cost: rtt + penalty, Up: true})
		out[b] = append(out[b], costs.Edge{From: b, To: a, Kind: kind, Cost: rtt + penalty, Up: true})
		return nil
	}
	for _, r := range t.Regions() {
		if r.Parent != 0 {
			if err := add(r.ID, r.Parent, costs.Tree); err != nil {
				return nil, err
			}
		}
	}
	for _, s := range slices.SortedFunc(maps.Keys(open), func(a, b shortcut) int {
		if a.From != b.From {
			return int(a.From) - int(b.From)
		}
		return int(a.To) - int(b.To)
	}) {
		if err := add(s.From, s.To, costs.Shortcut); err != nil {
			return nil, err
		}
	}
	g := costs.NewGraph()
	for _, id := range ids {
		if err := g.SetEdges(id, out[id]); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// pathRTT is the matrix RTT along path.
func pathRTT(t *topo.Topology, path []regions.RegionID) (float64, bool) {
	sum := 0.0
	for i := 1; i < len(path); i++ {
		rtt, ok := t.LinkRTT(path[i-1], path[i])
		if !ok {
			return 0, false
		}
		sum += rtt
	}
	return sum, true
}

func withoutMe(traffic map[regions.RegionID]float64, me regions.RegionID) map[regions.RegionID]float64 {
	out := maps.Clone(traffic)
	delete(out, me)
	return out
}

// addTransit adds to demand, for every other region's route that crosses me before its end, that
// region's rate to the route's destination.
func addTransit(demand map[regions.RegionID]float64, me regions.RegionID, ids []regions.RegionID, g *costs.Graph, cfg *costs.Config, rate float64) {
	for _, v := range ids {
		if v == me {
			continue
		}
		for d, r := range costs.Compute(v, g, cfg) {
			if d == me {
				continue
			}
			for _, hop := range r.Path[1 : len(r.Path)-1] {
				if hop == me {
					demand[d] += rate
				}
			}
		}
	}
}
