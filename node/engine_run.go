package node

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/vmihailenco/msgpack/v5"
)

// run drives the engine until the node stops: every tick it refreshes the link set, checks
// outages, sends the probes idle links need, advertises, and recomputes routes when something
// changed; every second it turns traffic counts into rates, reads the server's load and chooses
// shortcuts.
func (e *engine) run() {
	tick := time.NewTicker(e.n.cfg.EngineTick)
	defer tick.Stop()
	var lastSecond time.Time
	for {
		select {
		case <-e.n.ctx.Done():
			e.closeShortcuts()
			return
		case <-tick.C:
		}
		now := e.clock()
		if now.Sub(lastSecond) >= time.Second {
			e.everySecond(now, now.Sub(lastSecond))
			lastSecond = now
		}
		e.tick(now)
	}
}

// tick runs every EngineTick. The per-link checks (outages, probes) run every time; the link set,
// the advert and the expiry of other nodes' adverts every AdvertMinGap, or at once when a link
// of this node went down.
func (e *engine) tick(now time.Time) {
	var tree map[regions.RegionID]bool
	slow := now.Sub(e.slowAt) >= e.cfg.AdvertMinGap
	if slow {
		tree = e.treeNeighbours()
	}
	leaves := e.n.b.LeafPeers()
	e.mu.Lock()
	if slow {
		e.slowAt = now
		e.syncTreeLocked(tree)
	}
	// A tree link whose leafnode connection this node held and lost is down at once (a reset
	// connection needs no probe to tell); one that never ran through this node is left to probes.
	for peer, l := range e.links {
		if l.Kind() == costs.Tree && e.leaves[peer] && !leaves[peer] && l.Up() {
			l.Lost(now)
		}
	}
	e.leaves = leaves
	e.checkInboundLocked(now)
	var probes []regions.RegionID
	for peer, l := range e.links {
		if l.CheckDown(now) {
			e.dirty, e.urgent = true, !l.Up()
			if !l.Up() {
				e.linkDowns.Add(1)
			}
			e.log.Info().Stringer("peer", peer).Bool("up", l.Up()).Msg("link state changed")
		}
		if !e.probing[peer] && l.NeedProbe(now) {
			l.Sent(now, true)
			e.probing[peer] = true
			probes = append(probes, peer)
		}
	}
	var adv *costs.Advert
	if slow || e.urgent || e.mine == nil {
		mine := e.advertLocked()
		if e.state.Expire(now) > 0 {
			e.dirty = true
		}
		adv = e.adv.Next(*mine, now)
	}
	// Routes follow a link of this node that went down at once; other changes (adverts arriving,
	// links coming up) are batched, so a burst of adverts costs one computation. They are computed
	// from this node's links as they are now, not from the last advert: a sample that arrived
	// since must count, or it would wait for the next change elsewhere.
	if e.urgent || (e.dirty && now.Sub(e.routedAt) >= e.n.cfg.RouteEvery) {
		e.routedAt = now
		e.routeLocked(e.advertLocked())
	}
	var hints []regions.RegionID
	refresh := now.Sub(e.hintsAt) >= time.Second
	if refresh {
		hints, e.hintsAt = e.hints, now
	}
	e.mu.Unlock()
	if refresh {
		e.publishHints(hints) // on change and every second, for clients that connected since
	}
	for _, peer := range probes {
		e.probe(peer)
	}
	if adv != nil {
		e.publishAdvert(adv)
	}
}

// syncTreeLocked keeps one tree link per neighbour in the registry: new neighbours get one, gone
// ones lose theirs.
func (e *engine) syncTreeLocked(tree map[regions.RegionID]bool) {
	for peer, l := range e.links {
		if l.Kind() == costs.Tree && !tree[peer] {
			delete(e.links, peer)
			e.dirty = true
		}
	}
	for peer := range tree {
		if e.links[peer] == nil {
			e.links[peer] = costs.NewLink(peer, costs.Tree, &e.cfg)
		}
	}
}

// treeNeighbours returns the parent and the children of this region in the registry.
func (e *engine) treeNeighbours() map[regions.RegionID]bool {
	me := e.n.Region()
	out := map[regions.RegionID]bool{}
	for _, ent := range e.n.view.Entries() {
		switch {
		case ent.ID == me && ent.Parent.Valid():
			out[ent.Parent] = true
		case ent.Parent == me && ent.ID != me:
			out[ent.ID] = true
		}
	}
	return out
}

// advertLocked builds this node's current link state.
func (e *engine) advertLocked() *costs.Advert {
	now := e.clock()
	a := &costs.Advert{Region: e.n.Region(), Node: e.n.cfg.Broker.Node, Coord: e.viv.Coord(), Load: e.load,
		Shortcuts: len(e.shortcuts) + len(e.inbound)}
	for peer, l := range e.links {
		st := l.Status(now)
		if st.Kind == costs.Shortcut && e.want != nil && !e.want[peer] {
			continue // draining, out of the plan (chooseShortcuts): no route may take it
		}
		al := costs.AdvertLink{To: peer, Kind: st.Kind, Up: st.Up}
		if st.HasRTT {
			al.RTT = micros(st.RTT)
		}
		a.Links = append(a.Links, al)
	}
	for peer := range e.want {
		// A planned shortcut that is not open (its link cut, the peer full, a dial on its way)
		// and was open within plannedHold is listed down: no route takes it, and every plan
		// still counts it as open, so a short cut does not reshuffle the federation's shortcuts
		// (the lab's shortcut cuts came back after 5-6 s: the slots had gone elsewhere).
		if m, ok := e.measured[peer]; ok && e.links[peer] == nil && now.Sub(m.at) <= plannedHold {
			a.Links = append(a.Links, costs.AdvertLink{To: peer, Kind: costs.Shortcut, RTT: micros(m.rtt)})
		}
	}
	slices.SortFunc(a.Links, func(x, y costs.AdvertLink) int { return int(x.To) - int(y.To) })
	a.Demand = e.demandLocked(now)
	for peer, m := range e.measured {
		a.Measured = append(a.Measured, costs.AdvertLink{To: peer, Kind: costs.Shortcut, Up: true, RTT: micros(m.rtt)})
	}
	slices.SortFunc(a.Measured, func(x, y costs.AdvertLink) int { return int(x.To) - int(y.To) })
	e.mine = a
	return a
}

// plannedHold is how long a planned shortcut that closed is still advertised (down) as held.
const plannedHold = 30 * time.Second

// micros is an RTT as adverts carry it: µs, at least 1.
func micros(d time.Duration) uint32 { return uint32(min(max(d.Microseconds(), 1), 1<<31)) }

// minDemand is the least rate, in msgs/s, a region advertises as demand.
const minDemand = 0.05

// demandLocked is the region's demand to advertise: its busiest destinations (at most
// costs.MaxAdvertDemand) among those it sent to within IdleClose, so a shortcut whose traffic
// stopped leaves the plan, and is closed, about IdleClose later.
func (e *engine) demandLocked(now time.Time) costs.AdvertDemand {
	var out costs.AdvertDemand
	for d, r := range e.rates {
		if r >= minDemand && now.Sub(e.lastSent[d]) <= e.cfg.IdleClose {
			out = append(out, costs.DemandEntry{To: d, Rate: float32(r)})
		} else if r < minDemand {
			delete(e.rates, d)
			delete(e.lastSent, d)
		}
	}
	slices.SortFunc(out, func(a, b costs.DemandEntry) int {
		if a.Rate != b.Rate {
			return cmp.Compare(b.Rate, a.Rate)
		}
		return int(a.To) - int(b.To)
	})
	return out[:min(len(out), costs.MaxAdvertDemand)]
}

// routeLocked recomputes routes and publishes the relay's hops and the clients' hints.
func (e *engine) routeLocked(mine *costs.Advert) {
	e.dirty, e.urgent = false, false
	g := e.state.Graph(e.n.Region(), mine)
	if changed := e.router.Update(g); len(changed) > 0 {
		e.routeChanges.Add(uint64(len(changed)))
		e.log.Debug().Int("changed", len(changed)).Msg("routes changed")
	}
	hops := map[regions.RegionID]overlay.Hop{}
	var hints []regions.RegionID
	for _, r := range e.router.Table() {
		st := r.Step()
		switch st.Kind {
		case costs.StepShortcut:
			hops[r.Dest] = overlay.Hop{Kind: overlay.HopShortcut, Via: st.Via}
		case costs.StepWaypoint:
			hops[r.Dest] = overlay.Hop{Kind: overlay.HopWaypoint, Via: st.Via}
		default:
			continue
		}
		hints = append(hints, r.Dest)
	}
	e.hops.Store(&hops)
	if !slices.Equal(hints, e.hints) {
		e.hints, e.hintsAt = hints, time.Time{} // publish at the end of this tick
	}
}

// publishHints tells the region's clients which destinations take the relay.
func (e *engine) publishHints(hints []regions.RegionID) {
	ids := make([]uint16, len(hints))
	for i, h := range hints {
		ids[i] = uint16(h)
	}
	data, err := msgpack.Marshal(ids)
	if err == nil {
		err = e.n.anc.Publish(overlay.RoutesSubject(e.n.Region()), data)
	}
	if err != nil {
		e.log.Warn().Err(err).Msg("route hints")
	}
}

// probe times one exchange with peer's relay, in the background.
func (e *engine) probe(peer regions.RegionID) {
	e.mu.Lock()
	conn := e.n.anc
	sc, inNode := e.shortcuts[peer], e.inboundPeers[peer]
	if sc != nil {
		conn = sc.nc
	}
	e.mu.Unlock()
	e.n.wg.Add(1)
	go func() {
		defer e.n.wg.Done()
		ctx, cancel := context.WithTimeout(e.n.ctx, e.cfg.MaxRTT)
		defer cancel()
		var t1, t2, t3, t4 time.Time
		var err error
		if sc == nil && inNode != "" {
			t1, t2, t3, t4, err = e.n.ov.ProbeInbound(ctx, peer, inNode, e.clock)
		} else {
			t1, t2, t3, t4, err = overlay.Probe(ctx, conn, peer, e.clock)
		}
		e.bytes.Add(160) // request and answer with two timestamp headers, roughly
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.probing, peer)
		if err != nil {
			return // the link's outstanding probe ages until CheckDown marks it down
		}
		e.answeredLocked(peer, costs.Stamps{T1: t1, T2: t2, T3: t3, T4: t4}, true)
	}()
}

// everySecond turns the traffic counts into rates, reads the load and chooses shortcuts.
func (e *engine) everySecond(now time.Time, elapsed time.Duration) {
	if elapsed <= 0 || elapsed > 10*time.Second {
		elapsed = time.Second
	}
	e.sentMu.Lock()
	sent := e.sent
	e.sent = make(map[regions.RegionID]uint64, len(sent))
	e.sentMu.Unlock()
	e.mu.Lock()
	costs.UpdateRates(e.rates, sent, elapsed, e.cfg.RateHalfLife)
	for d, n := range sent {
		if n > 0 {
			e.lastSent[d] = now
		}
	}
	e.mu.Unlock()
	e.readLoad()
	e.chooseShortcuts(now)
}
