// Package lab measures federations built by package fed on a topology: the lookup round trip
// between every ordered pair of regions (p50 and p99) and publish throughput on a sample of pairs,
// for FeDist and for the plain-NATS baseline in the same run. It sets each figure beside the two
// references the topology implies, the tree path RTT and the oracle (the shortest-path RTT over the
// allowed links), and writes report.md, report.json and report.png. It also runs the scale smoke:
// a federation of ~100 regions, its start-up time, peak RSS and registry convergence.
//
// Lookups use only the public contract, so the same code measures both systems: a plain nats.go
// client in region `to` subscribes to fd.<to>.get.lab.*, and a client in region `from` sends
// requests to fd.<to>.get.lab.<a record ID of to>. Clients connect to their own region's servers
// on loopback; only traffic between regions crosses emulated WAN links.
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
// report.md opens with a one-line conclusion computed from the rows, says what the modes and every
// column mean, and explains the overhead with the run's own figures. report.png names the worst
// pairs by region.
package lab
