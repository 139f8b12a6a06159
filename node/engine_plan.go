package node

import (
	"maps"
	"slices"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// chooseShortcuts makes this node's shortcuts follow the federation's plan (costs.Plan), which
// every node computes alike from the same adverts: it dials the planned pairs it is the lower
// region of, and closes the shortcuts it opened that the plan no longer lists, PlanGrace after
// they left it, or at once when a planned one needs the slot. It never closes a shortcut another
// node opened to it: that is the opener's to close.
//
// A shortcut the plan dropped drains first: neither end advertises it any more (advertLocked), so
// every route moves off it, while answers to what it already carried still come back over it; only
// then does its opener close it. Closing at once lost the requests in flight (the lab counted
// 30-55 failed lookups per warm-up).
func (e *engine) chooseShortcuts(now time.Time) {
	e.mu.Lock()
	e.keepMeasuredLocked(now)
	if !e.planning && e.mine != nil && now.Sub(e.planAt) >= max(time.Second, planBudget*e.planTook) {
		e.planning = true
		in := e.planInputLocked()
		e.n.wg.Add(1)
		go e.runPlan(in, now)
	}
	closing, dials := e.followPlanLocked(now)
	e.mu.Unlock()
	e.act(closing, dials)
}

// planBudget bounds the plan's share of a core: the next plan starts no sooner than this many
// times as long as the last one took (BenchmarkPlan: 0.2 ms at 12 regions, 28 ms at 100, 9 s at
// 1000), and at most once a second.
const planBudget = 10

// runPlan computes the plan off the engine's lock and follows it at once.
func (e *engine) runPlan(in costs.PlanInput, at time.Time) {
	defer e.n.wg.Done()
	start := time.Now()
	plan := costs.Plan(&e.cfg, in)
	took := time.Since(start)
	if e.n.ctx.Err() != nil {
		return
	}
	e.mu.Lock()
	e.planning, e.plan, e.planAt, e.planTook = false, plan, at, took
	closing, dials := e.followPlanLocked(e.clock())
	e.mu.Unlock()
	e.act(closing, dials)
}

// keepMeasuredLocked records what the shortcuts measured (advertised, and kept measuredKeep).
func (e *engine) keepMeasuredLocked(now time.Time) {
	for peer, l := range e.links {
		if l.Kind() != costs.Shortcut {
			continue
		}
		if st := l.Status(now); st.HasRTT {
			e.measured[peer] = measuredRTT{rtt: st.RTT, at: now}
		}
	}
	for peer, m := range e.measured {
		if now.Sub(m.at) > measuredKeep {
			delete(e.measured, peer)
		}
	}
}

// followPlanLocked compares this node's shortcuts with the last plan: it returns the
// connections to close and the peers to dial, which the caller hands to act after unlocking.
func (e *engine) followPlanLocked(now time.Time) ([]*nats.Conn, []regions.RegionID) {
	if e.plan == nil && e.want == nil {
		return nil, nil // no plan yet
	}
	me := e.n.Region()
	want := map[regions.RegionID]bool{}
	for _, p := range e.plan {
		if p.Has(me) {
			want[p.Other(me)] = true
		}
	}
	for peer := range e.want {
		if !want[peer] {
			e.urgent = true // drain it: stop advertising it at this tick
		}
	}
	if !maps.Equal(want, e.want) {
		e.dirty = true // a link leaves or joins the advert
	}
	e.want = want
	var dials []regions.RegionID
	for _, peer := range slices.Sorted(maps.Keys(want)) {
		if peer < me || e.shortcuts[peer] != nil || e.dialing[peer] || e.inboundPeers[peer] != "" ||
			now.Before(e.failed[peer].retryAt) {
			continue // the lower region of a pair dials it; or it is open, on its way, or backing off
		}
		dials = append(dials, peer)
	}
	free := e.cfg.K - len(e.shortcuts) - len(e.dialing) - len(e.inbound)
	var closing []*nats.Conn
	for _, peer := range e.unplannedLocked(want, now) {
		sc := e.shortcuts[peer]
		if now.Sub(sc.unplanned) < e.cfg.PlanGrace && free >= len(dials) {
			continue
		}
		delete(e.shortcuts, peer)
		delete(e.links, peer)
		closing = append(closing, sc.nc)
		e.n.ov.RemoveShortcut(peer)
		e.dirty = true
		free++
		e.log.Info().Stringer("peer", peer).Msg("shortcut closed: not in the plan")
	}
	dials = dials[:max(0, min(len(dials), free))]
	for _, peer := range dials {
		e.dialing[peer] = true
	}
	return closing, dials
}

// act closes and dials what followPlanLocked decided, without the engine's lock.
func (e *engine) act(closing []*nats.Conn, dials []regions.RegionID) {
	for _, nc := range closing {
		nc.Close()
	}
	for _, peer := range dials {
		e.dial(peer)
	}
}

// unplannedLocked marks the shortcuts this node opened that the plan does not list, and returns
// them, longest out of the plan first.
func (e *engine) unplannedLocked(want map[regions.RegionID]bool, now time.Time) []regions.RegionID {
	var out []regions.RegionID
	for peer, sc := range e.shortcuts {
		if want[peer] {
			sc.unplanned = time.Time{}
			continue
		}
		if sc.unplanned.IsZero() {
			sc.unplanned = now
		}
		out = append(out, peer)
	}
	slices.SortFunc(out, func(a, b regions.RegionID) int {
		if c := e.shortcuts[a].unplanned.Compare(e.shortcuts[b].unplanned); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	return out
}

// planInputLocked snapshots what the plan is computed from, so that it runs off the lock.
func (e *engine) planInputLocked() costs.PlanInput {
	return costs.PlanInput{
		Graph:    e.state.RTTGraph(e.n.Region(), e.mine),
		Flows:    e.state.Flows(e.mine),
		Estimate: planEstimate(&e.cfg, e.state.Measured(e.mine), e.state.Coords(e.mine)),
	}
}

// planEstimate is the cost of a direct link a–b for the plan, as every node computes it: the
// RTT a shortcut between them measured, if either end advertised one, else the distance between
// their network coordinates. No load: the plan is computed on RTTs alone (LinkState.RTTGraph).
func planEstimate(cfg *costs.Config, measured map[costs.Pair]time.Duration,
	coords map[regions.RegionID]costs.Coord) func(a, b regions.RegionID) (float64, bool) {
	return func(a, b regions.RegionID) (float64, bool) {
		if rtt, ok := measured[costs.MakePair(a, b)]; ok {
			return costs.Cost(cfg, rtt, costs.Load{}), true
		}
		ca, ok1 := coords[a]
		cb, ok2 := coords[b]
		if !ok1 || !ok2 {
			return 0, false
		}
		return costs.Cost(cfg, ca.DistanceTo(cb), costs.Load{}), true
	}
}
