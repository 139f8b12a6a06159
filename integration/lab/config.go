package lab

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
)

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("lab config")

// Config describes one lab run.
type Config struct {
	// Topology is the federation to build and measure. Required.
	Topology *topo.Topology
	// Modes are measured one after the other, each on a federation of its own.
	Modes []fed.Mode
	// Samples is the number of timed lookups per ordered pair. p99 of fewer than 100 samples is
	// the nearest-rank value, i.e. close to the maximum.
	Samples int
	// Concurrency is how many pairs are measured at once; each pair's lookups are sequential.
	Concurrency int
	// RequestTimeout bounds one lookup; 0 means 2 s plus three tree path RTTs of the pair.
	RequestTimeout time.Duration
	// WarmupTimeout bounds how long a pair may take to answer its first lookup, while interest
	// spreads through the tree.
	WarmupTimeout time.Duration
	// ThroughputPairs is how many pairs get a publish throughput figure, chosen evenly over the
	// tree path RTTs; 0 skips throughput.
	ThroughputPairs int
	// ThroughputMsgs and ThroughputTime bound each throughput run: it publishes this many
	// messages, or for this long, whichever ends first.
	ThroughputMsgs int
	ThroughputTime time.Duration
	// MsgSize is the payload size of throughput messages, in bytes.
	MsgSize int
	// ZeroDelayControl repeats the timed lookups, at the same concurrency, after setting every
	// link's delay to 0. What they take then is the servers, the emulator's proxies and the
	// concurrency without the delay lines, so the report can say how much of the overhead over the
	// matrix the delay lines add (their release spin, see package linkemu).
	ZeroDelayControl bool
	// BackgroundEvery: while lookups are timed, every pair also sends one untimed lookup per this
	// interval, in both modes, so that the cost engine sees steady traffic between every pair and a
	// shortcut is not closed as idle (costs.Config.IdleClose) while its pair waits for its turn. 0
	// sends none.
	BackgroundEvery time.Duration

	// RoutingWarmup bounds the routing warm-up (ModeFeDist only), which runs between the first
	// answers and the timed lookups: every pair sends a lookup per RoutingEvery until the route
	// tables of all nodes (node.Node.Routes) have not changed for RoutingStable, and for at least
	// 2 × RoutingStable in all. 0 skips it.
	RoutingWarmup time.Duration
	RoutingStable time.Duration
	RoutingEvery  time.Duration

	// Skew gives each region's clock (ModeFeDist) an offset drawn uniformly from [−Skew, +Skew]
	// with seed SkewSeed (fed.Config.Skew); links.json compares the engine's offset estimates
	// with these. 0 means no skew.
	Skew     time.Duration
	SkewSeed int64

	// Scenarios run on the FeDist federation after its timed lookups (ModeFeDist must be among
	// the modes): ScenarioFailover writes failover.json, ScenarioLoad load.json.
	// ScenarioReplication runs after the modes on a FeDist federation of its own
	// (replication.json).
	Scenarios   []Scenario
	Failover    FailoverConfig
	Load        LoadConfig
	Replication ReplicationConfig

	// Federation returns the federation config for a mode; DefaultConfig uses fed.DefaultWANConfig.
	Federation func(top *topo.Topology, mode fed.Mode) fed.Config
	// Progress receives one line per step and per few pairs while the run goes on; nil is silent.
	Progress io.Writer
}

// DefaultConfig returns settings that measure 12 regions in both modes in a few minutes on two
// cores.
func DefaultConfig(top *topo.Topology) Config {
	return Config{
		Topology:         top,
		Modes:            []fed.Mode{fed.ModeNATS, fed.ModeFeDist},
		Samples:          30, // enough for a stable p50; p99 is then the nearest-rank maximum
		Concurrency:      16, // ~0.5 ms more per tree link than 4 at once on 2 cores, in a quarter of the time
		WarmupTimeout:    30 * time.Second,
		ThroughputPairs:  4,
		ThroughputMsgs:   200_000,                // 25 MB of 128 B messages
		ThroughputTime:   5 * time.Second,        // per pair; bounds a slow system
		MsgSize:          128,                    // the size ARCHITECTURE's baselines use
		ZeroDelayControl: true,                   // 0.1 s per mode on small.json; it splits the overhead for the report
		BackgroundEvery:  500 * time.Millisecond, // 2 msg/s per pair: keeps used shortcuts open, 264 msg/s on 12 regions
		RoutingWarmup:    45 * time.Second,       // shortcuts open within seconds; adverts refresh every 10 s
		RoutingStable:    5 * time.Second,        // five of the engine's shortcut decisions (one per second) in a row
		RoutingEvery:     100 * time.Millisecond, // 10 msg/s per pair, ~1300 msg/s on 12 regions: well above MinGain
		SkewSeed:         1,
		Failover:         DefaultFailoverConfig(),
		Load:             DefaultLoadConfig(),
		Replication:      DefaultReplicationConfig(),
		Federation:       fed.DefaultWANConfig,
	}
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.Topology == nil:
		return fmt.Errorf("%w: no topology", ErrConfig)
	case len(c.Modes) == 0:
		return fmt.Errorf("%w: no modes", ErrConfig)
	case c.Samples < 1 || c.Concurrency < 1:
		return fmt.Errorf("%w: samples %d and concurrency %d must be at least 1", ErrConfig, c.Samples, c.Concurrency)
	case c.ThroughputPairs < 0 || (c.ThroughputPairs > 0 && (c.ThroughputMsgs < 1 || c.ThroughputTime <= 0 || c.MsgSize < 1)):
		return fmt.Errorf("%w: throughput needs positive message count, time and size", ErrConfig)
	case c.Federation == nil || c.WarmupTimeout <= 0:
		return fmt.Errorf("%w: Federation and WarmupTimeout are required", ErrConfig)
	}
	for _, m := range c.Modes {
		if m != fed.ModeFeDist && m != fed.ModeNATS {
			return fmt.Errorf("%w: mode %q: want %q or %q", ErrConfig, m, fed.ModeFeDist, fed.ModeNATS)
		}
	}
	switch {
	case c.BackgroundEvery < 0 || c.Skew < 0:
		return fmt.Errorf("%w: BackgroundEvery and Skew must not be negative", ErrConfig)
	case c.RoutingWarmup < 0 || c.RoutingWarmup > 0 && (c.RoutingStable <= 0 || c.RoutingEvery <= 0):
		return fmt.Errorf("%w: a routing warm-up needs positive RoutingStable and RoutingEvery", ErrConfig)
	case len(c.Scenarios) > 0 && !slices.Contains(c.Modes, fed.ModeFeDist):
		return fmt.Errorf("%w: scenarios %v need mode %s (-mode fedist or both)", ErrConfig, c.Scenarios, fed.ModeFeDist)
	}
	for _, s := range c.Scenarios {
		var err error
		switch s {
		case ScenarioFailover:
			err = c.Failover.Validate()
		case ScenarioLoad:
			err = c.Load.Validate()
		case ScenarioReplication:
			err = c.Replication.Validate()
		default:
			err = fmt.Errorf("%w: scenario %q: want %q, %q or %q", ErrConfig, s, ScenarioFailover, ScenarioLoad, ScenarioReplication)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
