package costs

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/fedist/fedist/regions"
)

// maxCandidates bounds the peers Select weighs per call to the busiest destinations: it runs one
// Dijkstra per candidate, so the work stays flat in federations of thousands of regions, and a
// destination outside the top 16 by traffic would rarely repay a connection.
const maxCandidates = 16

// SelectInput is what Select decides from.
type SelectInput struct {
	Me    regions.RegionID
	Graph *Graph // current link state, including my own edges
	// Traffic is the recent rate from me to each destination region, in msgs/s.
	Traffic map[regions.RegionID]float64
	// Open maps my open shortcuts to when each last carried traffic; a shortcut that has carried
	// nothing yet should map to when it was opened, or it counts as idle at once.
	Open map[regions.RegionID]time.Time
	// Inbound is the number of shortcuts other nodes opened to me; they count against K.
	Inbound int
	// Fixed are the regions whose nodes opened those shortcuts: already linked to me (the
	// shortcut is used both ways), so they are never candidates, and Select never closes them.
	Fixed map[regions.RegionID]bool
	// Estimate is the cost of a direct link me→peer (from network coordinates), ok=false if
	// unknown. Nil: nothing is opened.
	Estimate func(peer regions.RegionID) (cost float64, ok bool)
	// PeerFull reports that the peer already holds K shortcuts. Nil: never.
	PeerFull func(peer regions.RegionID) bool
	Now      time.Time
}

// Selection is what to change: shortcuts to open, best first, and shortcuts to close, sorted.
type Selection struct {
	Open  []regions.RegionID
	Close []regions.RegionID
}

// Select chooses which shortcuts to open and close.
//
// The gain of a shortcut me→p, in ms × msg/s, is what it saves the traffic:
//
//	gain(p) = Σ_d traffic(d) × saving(dist(me,d), est(p) + RelayHop + dist(p,d))
//
// where saving is the difference when the router would switch to the new path (cheaper by
// SwitchRel and SwitchAbs) and 0 otherwise.
//
// over the destinations d with traffic, where dist is the route cost on the graph (as in Compute)
// and est(p) is Estimate(p). Destinations unreachable from me contribute nothing: the tree repairs
// them, and traffic alone must not stampede every node towards a partitioned region.
//
// In order:
//  1. Close every open shortcut idle for more than Config.IdleClose.
//  2. Candidates: the maxCandidates busiest destinations that are not me, not open, not Fixed, not a tree
//     neighbour (up or down: a tree link comes back by itself), with a known estimate and not
//     PeerFull. dist(p,·) is computed once per candidate.
//  3. While slots remain (K − open shortcuts kept − Inbound), and fewer than Config.OpensPerCall
//     were chosen in this call, open the candidate of highest gain if that gain is positive and at
//     least Config.MinGain; the shortcut is added to the graph at cost est(p) and the gains are
//     recomputed.
//  4. If no slot is left, replace at most one shortcut: the weakest kept one, by its current gain
//     (what the traffic would lose without it), is closed and the best remaining candidate is
//     opened, if that candidate passes step 3's test and gains more than twice as much. Only
//     shortcuts I advertise as up are judged (one not measured yet would look worthless), and one
//     without which a destination becomes unreachable is never the weakest.
//
// Ties go to the lower region ID, so equal inputs give equal output.
func Select(cfg *Config, in SelectInput) Selection {
	var sel Selection
	g := NewGraph()
	if in.Graph != nil {
		g = in.Graph.Clone()
	}
	var kept []regions.RegionID
	for _, p := range slices.Sorted(maps.Keys(in.Open)) {
		if in.Now.Sub(in.Open[p]) > cfg.IdleClose {
			sel.Close = append(sel.Close, p)
			dropShortcut(g, in.Me, p)
		} else {
			kept = append(kept, p)
		}
	}
	free := cfg.K - len(kept) - in.Inbound
	traffic := busiest(in.Traffic, in.Me)
	cands := candidates(g, in, traffic)
	if len(cands) == 0 {
		return sel
	}
	for i := range cands {
		cands[i].dist = distances(cands[i].peer, g, cfg)
	}
	base := distances(in.Me, g, cfg)
	for ; free > 0; free-- {
		if cfg.OpensPerCall > 0 && len(sel.Open) == cfg.OpensPerCall {
			return sel
		}
		i, gain := bestCandidate(cfg, cands, base, traffic)
		if i < 0 || gain <= 0 || gain < cfg.MinGain {
			return sel
		}
		sel.Open = append(sel.Open, cands[i].peer)
		addShortcut(g, in.Me, cands[i].peer, cands[i].est)
		cands = slices.Delete(cands, i, i+1)
		base = distances(in.Me, g, cfg)
	}
	i, gain := bestCandidate(cfg, cands, base, traffic)
	if i < 0 || gain <= 0 || gain < cfg.MinGain {
		return sel
	}
	if weak, weakGain, ok := weakest(g, cfg, in.Me, kept, base, traffic); ok && gain > 2*weakGain {
		sel.Close = append(sel.Close, weak)
		slices.Sort(sel.Close)
		sel.Open = append(sel.Open, cands[i].peer)
	}
	return sel
}

// flow is the traffic to one destination.
type flow struct {
	dest regions.RegionID
	rate float64
}

// busiest returns the positive, finite traffic other than to me, busiest first, ties by ID.
func busiest(traffic map[regions.RegionID]float64, me regions.RegionID) []flow {
	var out []flow
	for d, r := range traffic {
		if d != me && r > 0 && !math.IsInf(r, 1) {
			out = append(out, flow{d, r})
		}
	}
	slices.SortFunc(out, func(a, b flow) int { return cmp.Or(cmp.Compare(b.rate, a.rate), cmp.Compare(a.dest, b.dest)) })
	return out
}

// saving is what a path of cost via saves over one of cost from, counted only when the router
// would switch to it (cheaper by SwitchRel and SwitchAbs, see Router): a shortcut that saves less
// would hold a slot at both ends and never carry a message.
func saving(cfg *Config, from, via float64) float64 {
	if via >= from*(1-cfg.SwitchRel)-cfg.SwitchAbs {
		return 0
	}
	return from - via
}

// candidate is a peer a shortcut could go to.
type candidate struct {
	peer regions.RegionID
	est  float64
	dist map[regions.RegionID]float64 // route costs from peer
}

func candidates(g *Graph, in SelectInput, traffic []flow) []candidate {
	var out []candidate
	if in.Estimate == nil {
		return nil
	}
	for _, f := range traffic {
		if len(out) == maxCandidates {
			break
		}
		p := f.dest
		if _, open := in.Open[p]; open || in.Fixed[p] || treeLinked(g, in.Me, p) {
			continue
		}
		if in.PeerFull != nil && in.PeerFull(p) {
			continue
		}
		est, ok := in.Estimate(p)
		if !ok || est < 0 || math.IsNaN(est) || math.IsInf(est, 0) {
			continue
		}
		out = append(out, candidate{peer: p, est: est})
	}
	return out
}

// bestCandidate returns the index and gain of the candidate of highest gain (lower ID on ties),
// or -1.
func bestCandidate(cfg *Config, cands []candidate, base map[regions.RegionID]float64, traffic []flow) (int, float64) {
	best, bestGain := -1, 0.0
	for i, c := range cands {
		gain := 0.0
		for _, f := range traffic {
			from, ok1 := base[f.dest]
			via, ok2 := c.dist[f.dest]
			if ok1 && ok2 {
				gain += f.rate * saving(cfg, from, c.est+cfg.RelayHop+via)
			}
		}
		if best < 0 || gain > bestGain || (gain == bestGain && c.peer < cands[best].peer) {
			best, bestGain = i, gain
		}
	}
	return best, bestGain
}

// weakest returns the kept shortcut whose loss would cost the traffic least, among those I
// advertise as up, with that loss; a shortcut without which a destination is unreachable is
// never the weakest.
func weakest(g *Graph, cfg *Config, me regions.RegionID, kept []regions.RegionID, base map[regions.RegionID]float64, traffic []flow) (regions.RegionID, float64, bool) {
	var weak regions.RegionID
	weakGain := math.Inf(1)
	for _, p := range kept {
		if e, ok := g.Edge(me, p, Shortcut); !ok || !e.Up {
			continue
		}
		without := g.Clone()
		dropShortcut(without, me, p)
		dist := distances(me, without, cfg)
		loss := 0.0
		for _, f := range traffic {
			if was, ok := base[f.dest]; ok {
				now, ok := dist[f.dest]
				if !ok {
					now = math.Inf(1)
				}
				loss += f.rate * max(0, now-was)
			}
		}
		if loss < weakGain {
			weak, weakGain = p, loss
		}
	}
	return weak, weakGain, !math.IsInf(weakGain, 1)
}

func treeLinked(g *Graph, a, b regions.RegionID) bool {
	_, ab := g.Edge(a, b, Tree)
	_, ba := g.Edge(b, a, Tree)
	return ab || ba
}

// dropShortcut removes the shortcut between me and p, both directions.
func dropShortcut(g *Graph, me, p regions.RegionID) {
	dropEdge(g, me, p, Shortcut)
	dropEdge(g, p, me, Shortcut)
}

func dropEdge(g *Graph, from, to regions.RegionID, kind Kind) {
	if es, ok := g.out[from]; ok {
		g.out[from] = slices.DeleteFunc(es, func(e Edge) bool { return e.To == to && e.Kind == kind })
	}
}

// addShortcut puts an up shortcut me→p of cost est into g, replacing any stale one.
func addShortcut(g *Graph, me, p regions.RegionID, est float64) {
	dropEdge(g, me, p, Shortcut)
	e := Edge{From: me, To: p, Kind: Shortcut, Cost: est, Up: true}
	i, _ := slices.BinarySearchFunc(g.out[me], e, compareEdges)
	g.out[me] = slices.Insert(g.out[me], i, e)
}
