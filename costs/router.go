package costs

import (
	"maps"
	"slices"
	"sync"

	"github.com/fedist/fedist/regions"
)

// Router keeps the local region's route table and damps it: a working route is replaced only by
// a clearly cheaper one, so measurement noise does not flap routes.
//
// On every Update, for each destination, the current route is kept unless
//   - it is broken: an edge of it is now down or no longer advertised, or
//   - the best route on the new graph is cheaper than the current one, re-costed on the new graph,
//     by both margins: new < current × (1 − SwitchRel) − SwitchAbs.
//
// A kept route's Cost is refreshed from the new graph. A destination no route reaches is dropped.
//
// Relay bound: no route in the table crosses more than maxRelays relays (Route.Relays). A
// destination whose cheapest route crosses more gets the cheapest one within the bound (see
// ComputeBounded; the pure tree path, crossing none, is always a candidate) or, if there is none,
// no route. A negative maxRelays means no bound.
//
// A Router is safe for concurrent use: the overlay may Lookup while the node calls Update. Routes
// it returns share their slices with the table and must not be modified.
type Router struct {
	me        regions.RegionID
	cfg       Config
	maxRelays int

	mu     sync.RWMutex // guards routes
	routes map[regions.RegionID]Route
}

// NewRouter returns a router for me with an empty table. It keeps a copy of cfg.
func NewRouter(me regions.RegionID, cfg *Config, maxRelays int) *Router {
	return &Router{me: me, cfg: *cfg, maxRelays: maxRelays, routes: make(map[regions.RegionID]Route)}
}

// Update recomputes the table from g and returns, sorted, the destinations whose route changed
// path, appeared or disappeared. A refreshed cost alone is not a change.
func (r *Router) Update(g *Graph) (changed []regions.RegionID) {
	fresh := ComputeBounded(r.me, g, &r.cfg, r.maxRelays)

	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[regions.RegionID]Route, len(fresh))
	for d, best := range fresh {
		cur, had := r.routes[d]
		if !had {
			next[d] = best
			changed = append(changed, d)
			continue
		}
		if kept, ok := r.keep(g, cur, best); ok {
			next[d] = kept
			continue
		}
		next[d] = best
		if !sameRoute(cur, best) {
			changed = append(changed, d)
		}
	}
	for d := range r.routes {
		if _, ok := next[d]; !ok {
			changed = append(changed, d)
		}
	}
	r.routes = next
	slices.Sort(changed)
	return changed
}

// keep returns cur re-costed on g if it should stay in place of best.
func (r *Router) keep(g *Graph, cur, best Route) (Route, bool) {
	cost, ok := evalPath(g, r.cfg.RelayHop, cur.Path, cur.Kinds)
	if !ok || (r.maxRelays >= 0 && cur.Relays() > r.maxRelays) {
		return Route{}, false
	}
	if best.Cost < cost*(1-r.cfg.SwitchRel)-r.cfg.SwitchAbs {
		return Route{}, false
	}
	cur.Cost = cost
	return cur, true
}

// Lookup returns the route to d.
func (r *Router) Lookup(d regions.RegionID) (Route, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rt, ok := r.routes[d]
	return rt, ok
}

// Table returns every route, sorted by Dest.
func (r *Router) Table() []Route {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Route, 0, len(r.routes))
	for _, d := range slices.Sorted(maps.Keys(r.routes)) {
		out = append(out, r.routes[d])
	}
	return out
}
