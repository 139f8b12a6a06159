package overlay

import (
	"errors"
	"fmt"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Config tunes the overlay of one node.
type Config struct {
	// MaxHops is how many forwarders (egress, relays) a message may cross before it is dropped. The
	// tree path uses one (the destination's egress); relays add one each. It bounds any loop that a
	// wrong route could build.
	MaxHops int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxHops: 4, // egress + up to three relays; more than any useful shortcut path needs
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
	acc      *server.Account
	mappings []Mapping
	egress   *Egress
}

// Stats counts what the node's overlay did.
type Stats struct {
	Forwarded   uint64 // lookups handed to a local responder
	NoResponder uint64 // lookups answered "no responder"
	HopDrops    uint64 // messages dropped at the hop limit
}

// Start installs the mappings of region me on acc and starts the lookup egress on nc, a connection
// to the same server with full permissions.
//
// node names this node uniquely among the nodes of its region.
func Start(acc *server.Account, nc *nats.Conn, me regions.RegionID, node string, cfg Config, log zerolog.Logger) (*Overlay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	o := &Overlay{acc: acc, mappings: Mappings(me)}
	if err := install(acc, o.mappings); err != nil {
		uninstall(acc, o.mappings)
		return nil, err
	}
	eg, err := startEgress(nc, me, node, cfg.MaxHops, log)
	if err != nil {
		uninstall(acc, o.mappings)
		return nil, err
	}
	o.egress = eg
	return o, nil
}

// Stats returns the counters.
func (o *Overlay) Stats() Stats {
	return Stats{
		Forwarded:   o.egress.forwarded.Load(),
		NoResponder: o.egress.noResponder.Load(),
		HopDrops:    o.egress.hopDrops.Load(),
	}
}

// Stop removes the egress subscription and the mappings.
func (o *Overlay) Stop() error {
	err := o.egress.stop()
	uninstall(o.acc, o.mappings)
	return err
}

func errorsJoin(errs ...error) error { return errors.Join(errs...) }
