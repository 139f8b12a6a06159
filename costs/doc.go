// Package costs measures the links between regions and turns the measurements into routes.
//
// It is pure: observations (four NTP timestamps, probe results, dial timings, load figures, link
// state adverts from other regions) and the current time come in; link costs, adverts, shortcut
// choices and route tables come out. It never touches a socket or reads the clock itself, so every
// decision can be replayed in a test. The node (package node) owns the sockets and the ticker.
//
// Pieces, one file each:
//   - estimator.go: RTT and clock offset from NTP-style timestamps, filtered by the minimum delay
//     of a sliding window; impossible samples are rejected.
//   - link.go: one link's state: its estimator, when it needs a probe (only when it carried no
//     timed traffic for Config.ProbeIdle), counters of probes and piggy-backed samples, setup cost,
//     and outage detection with a bound tied to the link's RTT.
//   - vivaldi.go: network coordinates (Vivaldi, as in hashicorp/serf) that estimate the RTT of
//     links that are not open, refined by every measured link.
//   - cost.go: the one cost per link, from the viewing region's side (formula in Cost).
//   - advert.go: link-state adverts (msgpack), their significance test and rate limit.
//   - graph.go, routes.go: the link-state graph and shortest paths (gonum's graph/path), route
//     tables with waypoints, and hysteresis so noise does not flap routes.
//   - plan.go: the shortcuts the federation should hold, by traffic × gain within K per region:
//     one plan every node computes alike from everyone's advertised demand (what the node follows).
//   - select.go: one node's own choice from its own traffic, the policy before the plan; the
//     simulator (integration/shortcutsim) still runs it as the baseline the plan is measured
//     against.
//
// Invariants a caller may rely on: a route table never lists a path over a link marked down; a
// region is reachable when any advertised path reaches it, not only the tree; a route changes only
// when the new path is cheaper by Config.SwitchRel and Config.SwitchAbs or the old one broke.
//
// It does not decide who may send an advert (the node checks signatures) and does not carry
// traffic (package overlay does).
package costs
