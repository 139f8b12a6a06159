package overlay

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Config tunes the overlay of one node.
type Config struct {
	// MaxHops is how many relays a message may cross before it is dropped. The tree path crosses
	// none; each shortcut adds one. It bounds any loop a wrong route could build.
	MaxHops int
	// Engine routes relayed messages and receives their timings; nil routes everything over the
	// tree (see Engine).
	Engine Engine
	// Replicas answers this region's clients' lookups from replicas and learns what they read
	// (see Replicas); nil: no replication.
	Replicas Replicas
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxHops: 4, // three relays on one path is more than any useful shortcut needs
	}
}

// ErrConfig wraps configuration errors.
var ErrConfig = errors.New("overlay config")

// Validate checks the config.
func (c *Config) Validate() error {
	if c.MaxHops < 1 || c.MaxHops > 32 {
		return fmt.Errorf("%w: MaxHops %d must be 1..32", ErrConfig, c.MaxHops)
	}
	return nil
}

// Overlay is the routing state of one node.
type Overlay struct {
	relay *Relay
}

// Stats counts what the node's overlay did.
type Stats struct {
	Relayed     uint64 // messages republished by the relay
	NoResponder uint64 // relayed requests answered "no responder"
	HopDrops    uint64 // messages dropped at the hop limit
	Malformed   uint64 // relay subjects that did not name a region subject
	BadReply    uint64 // relayed requests refused because their reply was not an inbox
	ViaShortcut uint64 // relayed messages sent over a shortcut connection
	Probes      uint64 // link probes answered
	FromReplica uint64 // lookups answered from a replica in this region
	// Lookups counts the answers to this region's clients' lookups that came back through the
	// relay, by outcome (replica answers and timeouts are not among them).
	Lookups LookupOutcomes
}

// Start starts the overlay of one node of region me on nc, a connection to the node's server with
// full permissions. node names the node uniquely within its region.
func Start(nc *nats.Conn, me regions.RegionID, node string, cfg Config, log zerolog.Logger) (*Overlay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r, err := startRelay(nc, me, node, cfg, log)
	if err != nil {
		return nil, err
	}
	return &Overlay{relay: r}, nil
}

// Stats returns the counters.
func (o *Overlay) Stats() Stats {
	return Stats{
		Relayed:     o.relay.relayed.Load(),
		NoResponder: o.relay.noResponder.Load(),
		HopDrops:    o.relay.hopDrops.Load(),
		Malformed:   o.relay.malformed.Load(),
		BadReply:    o.relay.badReply.Load(),
		ViaShortcut: o.relay.viaShortcut.Load(),
		Probes:      o.relay.probes.Load(),
		FromReplica: o.relay.fromReplica.Load(),
		Lookups:     o.relay.lookups.load(),
	}
}

// Stop stops the relay.
func (o *Overlay) Stop() error { return o.relay.stop() }

// Pending returns how many messages wait in the relay's subscriptions: its queue depth, which the
// cost engine reports as load.
func (o *Overlay) Pending() int {
	o.relay.mu.RLock()
	defer o.relay.mu.RUnlock()
	n := 0
	for _, s := range o.relay.subs {
		if m, _, err := s.Pending(); err == nil {
			n += m
		}
	}
	return n
}

// ServiceTime returns how long the relay takes per message (a moving mean over a sample of the
// messages it handled) and when it last handled a sampled one; zero times if it never did.
func (o *Overlay) ServiceTime() (time.Duration, time.Time) { return o.relay.service.read() }

// SetSlowdown makes the relay wait d before handling each message, as an overloaded relay would;
// 0 turns it off. It is a fault injector for the lab's load scenario: the queue that builds up is
// what the node reports as load, and what the cost engine routes around.
func (o *Overlay) SetSlowdown(d time.Duration) { o.relay.slowdown.Store(int64(max(d, 0))) }
