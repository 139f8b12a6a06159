package node

import (
	"slices"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// Links returns the state of every link the cost engine measures from this node: its tree links
// (parent and children) and its shortcuts.
func (n *Node) Links() []costs.LinkStatus {
	e := n.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.clock()
	out := make([]costs.LinkStatus, 0, len(e.links))
	for _, l := range e.links {
		out = append(out, l.Status(now))
	}
	slices.SortFunc(out, func(a, b costs.LinkStatus) int { return int(a.Peer) - int(b.Peer) })
	return out
}

// Routes returns the engine's current route to every region it can reach.
func (n *Node) Routes() []costs.Route {
	e := n.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.router.Table()
}

// ShortcutStats says which shortcuts the node opened and how many other nodes opened to it.
type ShortcutStats struct {
	Opened   []regions.RegionID `json:"opened"`
	Accepted int                `json:"accepted"`
}

// Shortcuts returns the node's shortcut connections.
func (n *Node) Shortcuts() ShortcutStats {
	e := n.eng
	e.mu.Lock()
	defer e.mu.Unlock()
	var s ShortcutStats
	for peer := range e.shortcuts {
		s.Opened = append(s.Opened, peer)
	}
	slices.Sort(s.Opened)
	s.Accepted = len(e.inbound)
	return s
}

// ControlBytes returns the bytes of cost-engine control traffic this node sent and received since
// it started: adverts (with their signatures) and probes.
func (n *Node) ControlBytes() uint64 { return n.eng.bytes.Load() }
