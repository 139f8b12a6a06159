// Package fed builds whole federations in one process for tests and the WAN lab: every region of a
// topology (package topo) as FeDist region nodes, or, as the baseline, as plain nats-servers in the
// same leafnode tree with the same JetStream domains and limits and nothing of FeDist.
//
// Every connection that one region opens to another goes through an emulated WAN link
// (integration/linkemu) whose round-trip time comes from the topology's RTT matrix. Net keeps one
// link per (from region, to region, target address) and creates it on first use, so the dial path
// between ANY allowed pair can be emulated: a child's leafnode remote to its parent (nats-server
// cannot take a dialer there, so the child is given the link's address instead: Net.Addr), and
// nats.go connections such as relays, shortcuts and probes (nats.SetCustomDialer(Net.Dialer(a, b)),
// or Federation.ConnectFrom). The registry keeps the real addresses; only the dial path changes.
//
// A Federation gives per-region handles (client URLs, Connect, the running servers and nodes) and
// controls: Cut, Heal and SetRTT act on a region pair; Kill and Restart act on a region, which
// restarts on the same store and ports. Every goroutine it starts is waited for by Start or Close.
//
// It does not route, measure or assert timings: the lab (integration/lab) measures, and tests
// assert behaviour. CheckLinks reports a server that reaches its parent without going through its
// emulated link, which would make any figure measured over it meaningless.
package fed
