package daemon

import (
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/prometheus/client_golang/prometheus"
)

// nodeCollector exports what GET /registry, /links and /routes show, and the relay's counters.
type nodeCollector struct {
	n *node.Node

	regions, ready                                 family
	linkUp, linkRTT, linkCost, linkSetup           family
	linkMsgs, linkProbes, linkRejected             family
	routes, shortcuts                              family
	relayed, noResponder, hopDrops, malformed      family
	badReply, viaShortcut, fromReplica, probesDone family
	relayQueue, controlBytes                       family
	routeChanges, linkDowns, lookups               family
	idBlocks, idConflicts, idSkipped               family
	regStale, regLag, regBeatAge, regWriter        family
}

func newNodeCollector(n *node.Node) *nodeCollector {
	link := []string{"peer", "kind"} // peer: the far region, 4 hex digits; kind: tree or shortcut
	return &nodeCollector{n: n,
		regions:    gauge("fedist_regions", "Regions in this node's copy of the registry, by status.", "status"),
		regStale:   gauge("fedist_registry_stale", "1 while this node's registry copy cannot be taken as current: no beat from the root for the stale bound, or the copy behind the root's revision that long."),
		regLag:     gauge("fedist_registry_lag_revisions", "Registry revisions the root's last beat named that this node's copy has not applied yet."),
		regWriter:  gauge("fedist_registry_writer", "1 on the root node that is the elected registry writer (the registry stream's leader), else 0."),
		regBeatAge: gauge("fedist_registry_beat_age_seconds", "Time since the root's last registry beat arrived; absent at the root and before the first."),
		ready:      gauge("fedist_node_ready", "1 when GET /healthz?ready answers 200: joined and, below the root, the parent link up."),

		linkUp:       gauge("fedist_link_up", "1 while the cost engine sees the link up, 0 while down or not measured yet.", link...),
		linkRTT:      gauge("fedist_link_rtt_seconds", "Least round-trip delay in the estimator's window; absent while the link has no live sample.", link...),
		linkCost:     gauge("fedist_link_cost_seconds", "Routing cost of the link as equivalent delay (RTT plus the far end's load); absent until measured.", link...),
		linkSetup:    gauge("fedist_link_setup_seconds", "Connection setup cost of the link beyond one RTT.", link...),
		linkMsgs:     counter("fedist_link_messages_total", "Messages the link carried, probes excluded.", link...),
		linkProbes:   counter("fedist_link_probes_total", "Probes sent on the link, by reason: busy, idle, stall (outage check).", append(link, "reason")...),
		linkRejected: counter("fedist_link_rejected_samples_total", "Impossible timing samples refused on the link.", link...),

		routes:    gauge("fedist_routes", "Regions this node has a route to, by the route's first step: tree, waypoint, shortcut.", "step"),
		shortcuts: gauge("fedist_shortcuts", "Shortcut connections held, by direction: opened by this node, accepted from others.", "direction"),

		relayed:      counter("fedist_relay_messages_total", "Messages republished by the relay."),
		noResponder:  counter("fedist_relay_no_responder_total", "Relayed requests answered no responder."),
		hopDrops:     counter("fedist_relay_hop_limit_drops_total", "Messages dropped at the hop limit."),
		malformed:    counter("fedist_relay_malformed_total", "Relay subjects that did not name a region subject."),
		badReply:     counter("fedist_relay_bad_reply_total", "Relayed requests refused because their reply subject was not an inbox."),
		viaShortcut:  counter("fedist_relay_shortcut_messages_total", "Relayed messages sent over a shortcut connection."),
		fromReplica:  counter("fedist_relay_replica_answers_total", "Lookups answered from a replica held in this region."),
		probesDone:   counter("fedist_relay_probes_answered_total", "Link probes the relay answered."),
		relayQueue:   gauge("fedist_relay_queue_messages", "Messages waiting in the relay's subscriptions (the load the cost engine advertises)."),
		controlBytes: counter("fedist_control_bytes_total", "Bytes of cost-engine control traffic (adverts, probes) sent and received."),
		routeChanges: counter("fedist_route_changes_total", "Destinations whose route changed, summed over every route computation."),
		linkDowns:    counter("fedist_link_down_total", "Times a link of this node went down (outage bound passed, or its connection closed)."),
		idBlocks:     counter("fedist_id_blocks_claimed_total", "ID blocks this node's generator claimed in the region's bucket, skipped ones included."),
		idConflicts:  counter("fedist_id_claim_conflicts_total", "Block claims lost to another generator of the region (compare-and-set)."),
		idSkipped:    counter("fedist_id_blocks_skipped_total", "Blocks claimed but never used because their commit failed."),
		lookups:      counter("fedist_lookups_total", "Lookups of this region's clients answered through the relay, by outcome: ok, not_found, no_responder, unreachable (unknown or down region, hop limit), failed, replica (answered here).", "outcome"),
	}
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.regions, c.ready, c.linkUp, c.linkRTT, c.linkCost, c.linkSetup, c.linkMsgs,
		c.linkProbes, c.linkRejected, c.routes, c.shortcuts, c.relayed, c.noResponder, c.hopDrops,
		c.malformed, c.badReply, c.viaShortcut, c.fromReplica, c.probesDone, c.relayQueue, c.controlBytes,
		c.routeChanges, c.linkDowns, c.lookups, c.idBlocks, c.idConflicts, c.idSkipped,
		c.regStale, c.regLag, c.regBeatAge, c.regWriter)
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.n
	byStatus := map[regions.Status]int{}
	for _, e := range n.View().Entries() {
		byStatus[e.Status]++
	}
	for _, s := range []regions.Status{regions.StatusJoining, regions.StatusActive, regions.StatusDraining, regions.StatusDown} {
		c.regions.emit(ch, float64(byStatus[s]), string(s))
	}
	c.ready.emit(ch, boolFloat(readiness(n) == nil))
	st := n.RegistryState()
	c.regStale.emit(ch, boolFloat(st.Stale))
	c.regWriter.emit(ch, boolFloat(n.RegistryWriter()))
	c.regLag.emit(ch, float64(st.RootRevision-min(st.Revision, st.RootRevision)))
	if st.BeatAgeSec >= 0 && st.RootRevision > 0 && n.Parent() != 0 {
		c.regBeatAge.emit(ch, st.BeatAgeSec)
	}

	c.collectLinks(ch)

	steps := map[string]int{"tree": 0, "waypoint": 0, "shortcut": 0}
	for _, rt := range n.Routes() {
		if k := rt.Step().Kind.String(); k != "none" {
			steps[k]++
		}
	}
	for step, count := range steps {
		c.routes.emit(ch, float64(count), step)
	}
	sc := n.Shortcuts()
	c.shortcuts.emit(ch, float64(len(sc.Opened)), "opened")
	c.shortcuts.emit(ch, float64(sc.Accepted), "accepted")

	if ov := n.Overlay(); ov != nil {
		s := ov.Stats()
		c.relayed.emit(ch, float64(s.Relayed))
		c.noResponder.emit(ch, float64(s.NoResponder))
		c.hopDrops.emit(ch, float64(s.HopDrops))
		c.malformed.emit(ch, float64(s.Malformed))
		c.badReply.emit(ch, float64(s.BadReply))
		c.viaShortcut.emit(ch, float64(s.ViaShortcut))
		c.fromReplica.emit(ch, float64(s.FromReplica))
		c.probesDone.emit(ch, float64(s.Probes))
		c.relayQueue.emit(ch, float64(ov.Pending()))
		c.lookups.emit(ch, float64(s.Lookups.OK), "ok")
		c.lookups.emit(ch, float64(s.Lookups.NotFound), "not_found")
		c.lookups.emit(ch, float64(s.Lookups.NoResponder), "no_responder")
		c.lookups.emit(ch, float64(s.Lookups.Unreachable), "unreachable")
		c.lookups.emit(ch, float64(s.Lookups.Failed), "failed")
		c.lookups.emit(ch, float64(s.FromReplica), "replica")
	}
	c.controlBytes.emit(ch, float64(n.ControlBytes()))
	if ids, ok := n.IDStats(); ok {
		c.idBlocks.emit(ch, float64(ids.Blocks))
		c.idConflicts.emit(ch, float64(ids.Conflicts))
		c.idSkipped.emit(ch, float64(ids.Skipped))
	}
	c.routeChanges.emit(ch, float64(n.RouteChanges()))
	c.linkDowns.emit(ch, float64(n.LinkDowns()))
}

// collectLinks exports GET /links, and each link's cost from the node's last advert.
func (c *nodeCollector) collectLinks(ch chan<- prometheus.Metric) {
	type key struct {
		peer regions.RegionID
		kind costs.Kind
	}
	cost := map[key]float64{}
	for _, e := range c.n.LinkCosts() {
		cost[key{e.To, e.Kind}] = e.Cost
	}
	for _, l := range c.n.Links() {
		peer, kind := l.Peer.String(), l.Kind.String()
		c.linkUp.emit(ch, boolFloat(l.Up), peer, kind)
		if l.HasRTT {
			c.linkRTT.emit(ch, l.RTT.Seconds(), peer, kind)
		}
		if ms, ok := cost[key{l.Peer, l.Kind}]; ok {
			c.linkCost.emit(ch, ms*float64(time.Millisecond)/float64(time.Second), peer, kind)
		}
		c.linkSetup.emit(ch, l.Setup.Seconds(), peer, kind)
		c.linkMsgs.emit(ch, float64(l.Msgs), peer, kind)
		c.linkProbes.emit(ch, float64(l.ProbesBusy), peer, kind, "busy")
		c.linkProbes.emit(ch, float64(l.ProbesIdle), peer, kind, "idle")
		c.linkProbes.emit(ch, float64(l.ProbesStall), peer, kind, "stall")
		c.linkRejected.emit(ch, float64(l.Rejected), peer, kind)
	}
}
