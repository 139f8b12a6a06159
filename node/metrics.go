package node

import (
	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// LinkCosts returns the cost of each measured link of this node, as the router costs it: the RTT of
// the node's last built advert plus the far region's load (costs.Cost), in Edge.Cost's
// milliseconds of equivalent delay. The advert is rebuilt on the engine's slow tick, so a cost may
// lag Links by that long. A link not measured yet has no cost and is left out; none is returned
// before the first advert. It is a read-only view for monitoring.
func (n *Node) LinkCosts() []costs.Edge {
	e := n.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mine == nil {
		return nil
	}
	return e.state.Edges(e.mine)
}

// RouteChanges counts the destinations whose route changed, summed over every recomputation since
// the node started.
func (n *Node) RouteChanges() uint64 { return n.eng.routeChanges.Load() }

// LinkDowns counts the times a link of this node went down (an outage bound passed, or its
// connection closed).
func (n *Node) LinkDowns() uint64 { return n.eng.linkDowns.Load() }

// IDStats returns the figures of this node's ID generator (blocks claimed in the region's bucket,
// lost compare-and-sets, skipped blocks), or false before it started.
func (n *Node) IDStats() (regions.GeneratorStats, bool) {
	g := n.generator()
	if g == nil {
		return regions.GeneratorStats{}, false
	}
	return g.Stats(), true
}
