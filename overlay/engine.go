package overlay

import (
	"strconv"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// HopKind says how a relay sends a message on toward its destination.
type HopKind uint8

const (
	// HopTree publishes fd.<d>.… on the node's own server: plain NATS interest carries it over the
	// tree to d. It is what a relay does when no engine is set or no route is known.
	HopTree HopKind = iota
	// HopWaypoint publishes fdh.<via>.<d>.… on the node's own server: the tree carries it to
	// region via's relay, which continues by its own route table.
	HopWaypoint
	// HopShortcut publishes fdh.<via>.<d>.… on the shortcut connection to a node of region via.
	HopShortcut
)

// Hop is a relay's next step for one destination.
type Hop struct {
	Kind HopKind
	Via  regions.RegionID
}

// Engine is what the relay needs from the cost engine: the next hop for a destination, the
// node's clock, and a place to report what crossed each link. The relay calls it on every message,
// so it must be fast and safe for concurrent use. A nil Engine means tree routing and no timing.
type Engine interface {
	// Next returns the hop toward d. d is never the relay's own region. origin is set when the
	// message entered the federation's relays here (from a client of this region), not from
	// another relay.
	Next(d regions.RegionID, origin bool) Hop
	// Now is the node's clock; timestamps in headers use it.
	Now() time.Time
	// Timed reports whether the relay should time an exchange with the relay of peer (one link
	// away, on the tree or over a shortcut), and records that one went out.
	Timed(peer regions.RegionID) bool
	// Answered hands over the four timestamps of a completed exchange with peer's relay.
	Answered(peer regions.RegionID, t1, t2, t3, t4 time.Time)
	// Carried counts a message sent to peer without timing (a publish, or an untimed request).
	Carried(peer regions.RegionID)
}

// Headers of the routing and timing protocol.
const (
	// HeaderT1 is set by a relay on a request it sends to the next relay over one link: the send
	// time on its clock, in unix nanoseconds. The next relay removes it.
	HeaderT1 = "Fd-T1"
	// HeaderT2 and HeaderT3 are set by that next relay on the answer: when the request arrived and
	// when the answer left, on its clock. The first relay removes them.
	HeaderT2 = "Fd-T2"
	HeaderT3 = "Fd-T3"
	// HeaderPath lists the regions whose relays a message crossed, comma-separated, in order.
	// Client.Serve copies it into its answer, so a caller can see the path its request took.
	HeaderPath = "Fd-Path"
)

func stamp(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func readStamp(h nats.Header, key string) (time.Time, bool) {
	if h == nil {
		return time.Time{}, false
	}
	v := h.Get(key)
	if v == "" {
		return time.Time{}, false
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil || ns <= 0 {
		return time.Time{}, false
	}
	return time.Unix(0, ns), true
}

// treeOnly is the engine of a relay that has none: every hop is the tree, nothing is timed.
type treeOnly struct{}

func (treeOnly) Next(regions.RegionID, bool) Hop                                       { return Hop{Kind: HopTree} }
func (treeOnly) Now() time.Time                                                        { return time.Now() }
func (treeOnly) Timed(regions.RegionID) bool                                           { return false }
func (treeOnly) Answered(regions.RegionID, time.Time, time.Time, time.Time, time.Time) {}
func (treeOnly) Carried(regions.RegionID)                                              {}
