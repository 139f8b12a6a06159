// Package broker runs the embedded nats-server of one FeDist region node.
//
// A Broker owns one nats-server with a client listener, a leafnode listener for child regions, a
// leafnode remote to the parent region, optional cluster routes to the other nodes of its region, and
// JetStream in the region's own domain (Domain). Its log goes to zerolog. It reports which child
// regions are connected to it (Children), which is what down detection is built on.
//
// The broker knows nothing of registries, routes or costs, and it never edits subject mappings on
// its own: callers (the overlay) do that through Account.
package broker
