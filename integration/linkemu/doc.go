// Package linkemu implements a user-space WAN link emulator: a TCP proxy on 127.0.0.1 that adds
// one-way delay, jitter and a bandwidth cap to every connection through it, and can cut and heal.
//
// The kernel FeDist tests run on has no netem, so regions that all listen on 127.0.0.1 are put
// "far apart" by routing each directed pair of regions through its own Link. A Mesh keeps one Link
// per directed (from, to) pair. A TCP connection opened from A to B carries both directions, so
// the round-trip time through one Link is 2*Config.Delay; Mesh.SetRTT sets Delay to rtt/2 on the
// links both ways.
//
// Invariants a caller may rely on:
//   - Delay is a pipelined delay line, not a sleep per read. Each chunk read from one side is
//     stamped with its read time and released to the other side at read time + Delay (± Jitter),
//     so a 100 ms link still carries many MB/s.
//   - Bytes are never reordered. Release times are monotonic in each direction; jitter bunches
//     chunks but never lets one overtake another.
//   - Bandwidth is a token bucket (golang.org/x/time/rate) per direction, shared by all
//     connections through the Link, as one WAN pipe would be. No read is larger than the bucket.
//   - Config changes (SetConfig, SetRTT) apply to existing connections from the next chunk on.
//   - Cut resets every connection at once (the peers read ECONNRESET, not a clean EOF, and
//     bytes still in the delay line are lost), and while cut a connection is accepted and reset
//     at once, so peers see the partition promptly instead of waiting for a timeout.
//   - Every goroutine belongs to its Link's WaitGroup; Close waits for all of them.
//
// What it does not do:
//   - It does not delay the TCP handshake. A client's connect completes against the local
//     listener at once; only the bytes that follow pay the delay.
//   - It does not drop, corrupt or duplicate bytes, and it does not model a silent partition
//     (packets black-holed until TCP gives up). A cut is always an immediate reset.
//   - It takes no Clock. It exists to shape real sockets, whose bytes arrive in real time; the
//     pure timing rule (releaseAt) takes now as an argument and is tested on its own.
//
// Go's timers fire up to about a millisecond late on Linux (the runtime's netpoller sleeps in
// epoll_wait, whose timeout has millisecond resolution). For a chunk alone in its delay line, as in
// request/response traffic, the writer therefore sleeps on a timer until spinWindow before the
// release and yields in a loop for the rest: up to 1.2 ms of CPU per such chunk buys release times
// within microseconds. Bulk traffic, with chunks queued behind, uses the timer alone; a late wakeup
// then releases everything due at once, so it costs neither throughput nor CPU.
//
// Why not Shopify/toxiproxy: it is a separate server driven over an HTTP API, it pulls in many
// dependencies, and its latency toxic sleeps per chunk rather than running a pipelined one-way
// delay line, so its throughput falls as latency rises. The prior art we follow instead is the
// slowProxy in nats-server's test suite, which shapes bandwidth with golang.org/x/time/rate.
package linkemu
