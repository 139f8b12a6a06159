// Package fault runs FeDist's daemons as real processes on 127.0.0.1 and injects faults into them
// (SIGKILL, SIGSTOP/SIGCONT, a partition, a root restart) while applications keep working, then
// checks with a Jepsen-style lost-ack checker that every acknowledged write survived.
//
// The tests build fedist-root and fedist-node once (go build), start each daemon with free ports
// and its own -store, read the ports from its JSON log, and restart a killed daemon on the same
// store and ports. Every wait is a bounded poll under the test's context; the tests assert
// behaviour, never a duration, and print what they measured on lines of the form
//
//	FAULT <scenario> detect_ms=… converge_ms=… acked=… lost=…
//
// for collecting (go test -v -run . ./integration/fault/ | grep FAULT). A run of the package takes
// about two minutes on two cores.
//
// The test tree is root ← a ← a1 and root ← b; a is the hub that relays between a1 and the rest.
// Lookups are made with the Go client (package client) at 50 a second, open loop, bypassing
// replicas, and classified: ok, ErrNoResponder, ErrRegionDown (both "fast failures"), or the
// lookup's 3 s deadline. While a scenario runs, the writers record a History:
//   - joins: short-lived regions, each a fedist-node process, acknowledged when the node logs that
//     the root accepted it (the root answers after its registry write) and killed right after, so
//     the registry keeps their entries (down);
//   - Zyx (examples/zyx) users and posts created through its HTTP API in two regions.
//
// Afterwards History.Check looks every acknowledged write up (the registry entry at the root and in
// a mirror down the tree; the Zyx record through another region's instance) and the test fails if
// one is missing. A write without an answer is "unknown": it may or may not have happened.
//
// The scenarios:
//   - TestKillRegionMidTraffic: SIGKILL of b while a1 looks b up. Lookups fail fast (none started
//     after the first fast failure waits for its deadline), the root and a1's registry copy show b
//     down; b restarted on its store is active again everywhere and answers lookups.
//   - TestStopContRegion: SIGSTOP of b, then SIGCONT. It reports whether and when b is marked down
//     (its links time out after the leafnode pings: about 8 s) and how lookups fail meanwhile (they
//     wait for their deadline until then); it asserts that lookups fail fast once a1's registry copy
//     shows b down, and that b is active and serving after SIGCONT.
//   - TestPartitionHub: a's leafnode link to the root runs through a LeafProxy, which is cut and
//     healed (shortcuts off, so the cut is a partition). a and a1 are marked down at the root, the
//     subtree keeps answering its own lookups (every one of them succeeds), lookups from b into it
//     fail fast; after the heal every registry copy shows all active and lookups cross again.
//   - TestRootRestartMidTraffic: SIGKILL of the root with lookups across it, restart on its store:
//     the regions relink, lookups across the tree resume, the registry converges (a registry write
//     made after the restart reaches a1's copy). Then b is killed right away and the time until a1's
//     copy shows it down is measured; the test fails only if that takes over a minute.
//   - TestKillRelayMidTraffic: SIGKILL of the hub a while b and a1 look each other up through it
//     (shortcuts off). Lookups both ways fail fast, a and a1 go down; after a restarts, a1 relinks
//     and lookups cross a again.
//   - TestKillRootNodeHA: the root on three clustered nodes (-cluster, -routes, -replicas 3), a and
//     b under it; each root node in turn (the elected registry writer first) is killed and
//     restarted. Joins go on being acknowledged while a node is down, lookups from a to b go on,
//     and no acknowledged write is lost.
//
// What it does not do: it injects no disk faults and no clock skew, loses no store (see
// internal/daemon's TestIDsSurviveKillAndLostStore), and its partitions are of one leafnode link
// with resets, not silent drops (SIGSTOP stands in for a silent peer). In-process federations with
// emulated WAN links are integration/fed's.
package fault
