package fed

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/integration/linkemu"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// Mode says what kind of federation to build on a topology.
type Mode string

const (
	// ModeFeDist builds FeDist region nodes (node.Start): broker, registry mirror and join.
	ModeFeDist Mode = "fedist"
	// ModeNATS builds the baseline: plain embedded nats-servers in the same leafnode tree, with the
	// same JetStream domain per region and the same limits, and nothing of FeDist.
	ModeNATS Mode = "nats"
)

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("federation config")

// Config describes a federation to build.
type Config struct {
	// Topology gives the regions, their nodes, the allowed links and their RTTs. Required.
	Topology *topo.Topology
	// Mode is ModeFeDist or ModeNATS.
	Mode Mode
	// Dir holds each server's JetStream files, in Dir/<mode>-<rrrr>-<node>. Empty means a temporary
	// folder that Close removes.
	Dir string
	// Link gives every emulated link its Jitter and Bandwidth. Each link's Delay is half the RTT
	// of its region pair, from the topology or from SetRTT.
	Link linkemu.Config
	// LeafReconnect is the pause between a child server's attempts to reach its parent.
	LeafReconnect time.Duration
	// LeafDialTimeout bounds one TCP dial from a child server to its parent.
	LeafDialTimeout time.Duration
	// NodeConfig turns a region's broker config into its node config (ModeFeDist only). The
	// broker config arrives complete: ports, store, parent URLs through the emulator, and log.
	NodeConfig func(b broker.Config, r topo.Region) node.Config
	// Skew sets a region's clock ahead (or behind) real time by its value; the cost engine's
	// clock-offset estimate is checked against it (fedist-lab -skew). nil means no skew.
	Skew map[regions.RegionID]time.Duration
	// StartParallel bounds how many regions start at once. A region starts once its parent is
	// ready, so a federation starts in about depth × (one region's start-up) when this is large.
	StartParallel int
	// ReadyTimeout bounds how long Start and Restart wait for regions to become ready.
	ReadyTimeout time.Duration
	// Log receives FeDist's and nats-server's logs.
	Log zerolog.Logger
}

// DefaultConfig returns a config for tests on loopback: links shaped by RTT alone, and node
// timings tightened so that a cut shows up in the registry within about a second.
func DefaultConfig(top *topo.Topology, mode Mode) Config {
	return Config{
		Topology:        top,
		Mode:            mode,
		Link:            linkemu.DefaultConfig(), // no jitter, no bandwidth cap: the RTT alone
		LeafReconnect:   100 * time.Millisecond,  // a healed link is used again within ~0.1 s
		LeafDialTimeout: 2 * time.Second,         // broker's default; the emulator adds no dial delay
		NodeConfig:      FastNodeConfig,          // 50 ms link polls, 1 s down grace
		StartParallel:   8,                       // enough to overlap waits, few enough for 2 cores
		ReadyTimeout:    60 * time.Second,        // a 100-region federation on 2 cores, with -race
		Log:             zerolog.Nop(),           // tests opt in to logs
	}
}

// DefaultWANConfig returns a config for lab runs over intercontinental RTTs: the node timings of
// node.DefaultWANConfig and nats-server's default reconnect pause.
func DefaultWANConfig(top *topo.Topology, mode Mode) Config {
	c := DefaultConfig(top, mode)
	c.LeafReconnect = time.Second       // nats-server's default
	c.LeafDialTimeout = 5 * time.Second // a dial may wait behind a busy proxy; do not give up early
	c.NodeConfig = WANNodeConfig
	c.ReadyTimeout = 2 * time.Minute // joins cross up to ~1 s of RTT and retry every 2 s
	return c
}

// FastNodeConfig is node.DefaultConfig with the timings the node package's own tests use.
func FastNodeConfig(b broker.Config, r topo.Region) node.Config {
	c := node.DefaultConfig(b, r.Name, r.Parent)
	c.PollEvery = 50 * time.Millisecond // a lost child link is reported within ~50 ms
	c.ReportEvery = 500 * time.Millisecond
	c.ReportTTL = 2 * time.Second
	c.DownGrace = time.Second
	c.JoinRetry = 100 * time.Millisecond
	c.DrainWait = 100 * time.Millisecond
	return c
}

// WANNodeConfig is node.DefaultWANConfig.
func WANNodeConfig(b broker.Config, r topo.Region) node.Config {
	return node.DefaultWANConfig(b, r.Name, r.Parent)
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.Topology == nil:
		return fmt.Errorf("%w: no topology", ErrConfig)
	case c.Mode != ModeFeDist && c.Mode != ModeNATS:
		return fmt.Errorf("%w: mode %q: want %q or %q", ErrConfig, c.Mode, ModeFeDist, ModeNATS)
	case c.Mode == ModeFeDist && c.NodeConfig == nil:
		return fmt.Errorf("%w: NodeConfig is required in mode %s", ErrConfig, c.Mode)
	case c.LeafReconnect <= 0 || c.LeafDialTimeout <= 0 || c.ReadyTimeout <= 0:
		return fmt.Errorf("%w: LeafReconnect, LeafDialTimeout and ReadyTimeout must be positive", ErrConfig)
	case c.StartParallel < 1:
		return fmt.Errorf("%w: StartParallel %d: want at least 1", ErrConfig, c.StartParallel)
	}
	if err := c.Link.Validate(); err != nil {
		return fmt.Errorf("%w: link: %w", ErrConfig, err)
	}
	return nil
}
