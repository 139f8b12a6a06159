// Package broker runs the embedded nats-server of one FeDist region node.
//
// A Broker owns one nats-server with a client listener, a leafnode listener for child regions, a
// leafnode remote to the parent region, optional cluster routes to the other nodes of its region, and
// JetStream in the region's own domain (Domain). Its log goes to zerolog. It reports which child
// regions are connected to it, and by which of their two links (ChildLinks), which is what down detection is built on.
//
// The server has two accounts: FedistAccount for FeDist's own state and control, AppAccount for
// applications; each link to the parent is one leafnode connection per account. One authenticator
// admits every connection: node certificates (mutual TLS) or the leaf token on leafnode links,
// configured users or client certificates on the client port, the node's own in-process users.
// A parent restricts what its children's links may carry (Config.ChildExports). The applications'
// account is kept free of JetStream's domain mappings, which nothing there uses and every message
// would be matched against (appmappings.go).
//
// The broker knows nothing of registries, routes or costs; the subject lists it enforces come from
// its callers (node, overlay).
package broker
