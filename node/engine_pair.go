package node

import (
	"errors"
	"fmt"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// Errors of RouteBetween.
var (
	ErrUnknownRegion = errors.New("region is not in the registry")
	ErrNoRoute       = errors.New("no advertised path between the regions")
)

// RouteBetween returns the route from region from to region to, as this node's link-state graph
// (every region's adverts, this node's own links) shows it. It is for monitoring: the relays do
// not use it.
//
// From this node's own region it is the route in force (Routes), damped by the router's
// hysteresis. From any other region it is computed afresh with the router's cost rules and relay
// bound (costs.ComputeBounded), without the hysteresis that region's own router applies, and from
// that region's adverts rather than its live links; so it may differ from the route that region
// uses until its adverts catch up, by at most the switch margins. From a region to itself it is
// the one-region path at cost 0.
//
// It fails with ErrUnknownRegion when either region is not in the node's registry view and with
// ErrNoRoute when no path over up links joins them (a region down, or not advertised yet).
func (n *Node) RouteBetween(from, to regions.RegionID) (costs.Route, error) {
	for _, r := range []regions.RegionID{from, to} {
		if _, ok := n.view.Status(r); !ok {
			return costs.Route{}, fmt.Errorf("route %s→%s: %s: %w", from, to, r, ErrUnknownRegion)
		}
	}
	if from == to {
		return costs.Route{Dest: to, Path: []regions.RegionID{from}}, nil
	}
	e := n.eng
	if from == n.Region() {
		if rt, ok := e.router.Lookup(to); ok {
			return rt, nil
		}
		return costs.Route{}, fmt.Errorf("route %s→%s: %w", from, to, ErrNoRoute)
	}
	e.mu.Lock()
	g := e.state.Graph(n.Region(), e.mine)
	cfg := e.cfg
	e.mu.Unlock()
	// The same bound as the router's (newEngine): MaxHops less the origin's and the destination's relays.
	maxRelays := max(n.cfg.Overlay.MaxHops-2, 0)
	rt, ok := costs.ComputeBounded(from, g, &cfg, maxRelays)[to]
	if !ok {
		return costs.Route{}, fmt.Errorf("route %s→%s: %w", from, to, ErrNoRoute)
	}
	return rt, nil
}
