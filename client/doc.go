// Package client is the Go API an application uses to talk to its FeDist region: publish to any
// region, request and look records up by ID anywhere, subscribe and serve in its own region, hand out
// record IDs, and watch the region registry.
//
// A Client is a nats.go connection to one region's nodes plus a live copy of the registry. It learns
// its region from the server it connects to. Lookups fail fast and precisely: ErrUnknownRegion and
// ErrRegionDown come from the local registry copy without a round trip; ErrNoResponder and
// ErrNotFound come from the reply-status convention in package overlay, which plain NATS clients can
// read too. Subscribe and Serve are known to other regions only once their interest has crossed the
// tree; WaitInterest and WaitServe wait for that, with probes that the subscriptions answer and never
// pass to their handlers. The client never routes anything itself: the region's node does.
package client
