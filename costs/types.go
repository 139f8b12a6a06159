package costs

import (
	"errors"
	"time"

	"github.com/fedist/fedist/regions"
)

// Errors.
var (
	ErrConfig     = errors.New("costs config")
	ErrImpossible = errors.New("impossible timing sample")
	ErrAdvert     = errors.New("bad link-state advert")
)

// Kind says what carries a link.
type Kind uint8

const (
	// Tree is a parent–child leafnode link of the region tree.
	Tree Kind = 1
	// Shortcut is a node-to-node client connection opened by the cost engine.
	Shortcut Kind = 2
)

func (k Kind) String() string {
	switch k {
	case Tree:
		return "tree"
	case Shortcut:
		return "shortcut"
	}
	return "unknown"
}

// Stamps are the four timestamps of one exchange, as in NTP: T1 when the request left (local
// clock), T2 when it arrived at the peer and T3 when the answer left (peer's clock), T4 when the
// answer arrived (local clock).
type Stamps struct {
	T1, T2, T3, T4 time.Time
}

// Delay is the round trip without the peer's processing: (T4−T1) − (T3−T2).
func (s Stamps) Delay() time.Duration { return s.T4.Sub(s.T1) - s.T3.Sub(s.T2) }

// Offset is how far the peer's clock is ahead of the local one: ((T2−T1) + (T3−T4)) / 2.
func (s Stamps) Offset() time.Duration { return (s.T2.Sub(s.T1) + s.T3.Sub(s.T4)) / 2 }

// Load is what a node reports about itself in its adverts; Cost turns it into a penalty on the
// links that end at that node.
type Load struct {
	RelayQueue    int     `msgpack:"q"` // messages waiting in the relay's subscription
	PendingBytes  int64   `msgpack:"p"` // bytes pending to the node's server's slowest outbound connections
	SlowConsumers int64   `msgpack:"s"` // slow consumers seen by the server since the last advert
	CPU           float64 `msgpack:"c"` // process CPU use, 0..1 per core available
	// Service is how long the relay takes per message, in µs (overlay.Overlay.ServiceTime),
	// fading by half a second while no message passes it: a relay that stalls is routed around,
	// and tried again once its figure has faded.
	Service int64 `msgpack:"v"`
}

// Edge is one directed link of the link-state graph as its source region advertises it.
type Edge struct {
	From, To regions.RegionID
	Kind     Kind
	Cost     float64 // milliseconds of equivalent delay; see Cost
	Up       bool
}
