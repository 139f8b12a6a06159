// Package lab measures federations built by package fed on a topology: the lookup round trip
// between every ordered pair of regions (p50 and p99) and publish throughput on a sample of pairs,
// for FeDist and for the plain-NATS baseline in the same run. It sets each figure beside the two
// references the topology implies, the tree path RTT and the oracle (the shortest-path RTT over the
// allowed links), and writes report.md, report.json and report.png. For FeDist it also reports
// what its cost engine did: the path each pair's lookups took, the engine's link estimates against
// the emulator's truth (links.json), and its shortcuts and control traffic per region. It also
// runs the scale smoke: a federation of ~100 regions, its start-up time, peak RSS and registry
// convergence.
//
// Lookups are made as applications make them. In ModeNATS a plain nats.go client in region `to`
// subscribes to fd.<to>.get.lab.* and a plain client in region `from` sends requests to
// fd.<to>.get.lab.<a record ID of to>. In ModeFeDist both ends are FeDist's application client
// (package client): Client.Request sends a destination's traffic into its own region's relay when
// the node's route hints say the engine routes it off the tree, and Client.Serve copies the
// request's Fd-Path header (the relays it crossed) into the answer. ExpandPath turns that header
// into the regions crossed; a pair's fedist_path in report.json is its most frequent path among the
// timed lookups. Clients connect to their own region's servers on loopback; only traffic between
// regions crosses emulated WAN links.
//
// In ModeFeDist a routing warm-up runs before the lookups are timed (Config.RoutingWarmup): every
// pair sends a lookup per Config.RoutingEvery until no node's route table (node.Node.Routes) has
// changed for Config.RoutingStable, bounded; the report says whether the routes settled. While
// lookups are timed, in both modes, every pair also sends a background lookup per
// Config.BackgroundEvery, so that the engine sees steady demand between every pair and does not
// close as idle a shortcut whose pair waits for its turn. When the timed lookups end the lab reads
// every node's links, shortcuts and control byte counter. With Config.Skew every region's clock
// is offset by a seeded random amount (fed.Config.Skew), which links.json sets beside the engine's
// offset estimates.
//
// Pairs are measured concurrently (Config.Concurrency), each pair's samples one after another. The
// link emulator pipelines its delay lines, so pairs do not queue behind each other, but it releases
// a lone chunk by spinning for its last 1.2 ms, and on two cores several spinners at once delay
// other goroutines: 16 pairs at once added about 0.5 ms per tree link against 4 at once
// (BENCHMARKS.md), and on links of a few ms, where spinning fills much of each round trip, a
// lookup took 2.5-3 ms more than the matrix. So the run ends with a control
// (Config.ZeroDelayControl): every link's delay is set to 0 and the lookups are timed again at the
// same concurrency. What they take then is the servers, proxies and concurrency; the report
// attributes the rest of the overhead to the delay lines. Throughput pairs are measured one at a
// time. Nothing here asserts a timing; the figures are for people and the JSON for machines.
//
// Scenarios (Config.Scenarios) run on the FeDist federation after its timed lookups, before
// throughput and the control, the load scenario first (a failover leaves redials held back). Both
// pick their pairs from the engine's route tables (node.Node.Routes), let those pairs send their
// lookups for a while (Settle: their traffic is far above the background's and may move their
// routes; the failover plans again then), and check with each pair's own answers before acting
// that it still takes that route. ScenarioLoad slows
// down the relay that sits between sender and destination on the most routes
// (overlay.Overlay.SetSlowdown), while the pairs on it send a lookup every 20 ms without waiting
// for answers, and records their paths and p50 before, during and after; its verdict says plainly
// whether the engine routed around it (load.json). ScenarioFailover cuts, one at a time, up to
// FailoverConfig.TreePairs tree links that lie on both a pair's route and its tree path and that
// the engine's up links lead around, then the region pair of the first shortcut under up to
// FailoverConfig.ShortcutPairs pairs, while those pairs send a lookup every 20 ms; it times the
// reroute (cut → first answer on a path avoiding the link) and the return (heal → first answer on
// the path before), and repeats the tree-link cuts, held as long, on a plain-NATS federation of
// its own (failover.json).
//
// report.json is an object: the settings, the clock skew, the routing warm-up, a links summary,
// the regions section (shortcuts held and control bytes per second, per region) and pairs, one
// object per ordered pair. report.md opens with a one-line conclusion computed from the rows, says
// what the modes and every column mean, and explains the overhead with the run's own figures.
// report.png names the worst pairs by region. The lab does not check the engine's behaviour
// against targets; it measures and says what it saw.
package lab
