package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// Config describes one region node.
type Config struct {
	// Broker is the embedded server's config; Broker.Region is this node's region.
	Broker broker.Config
	// Name is the region's human name, e.g. "eu-west-1". Every node of a region uses the same one.
	Name string
	// Parent is the parent region's ID. 0 means "learn it from the leafnode link": the parent's
	// server name carries its region. A node with no Broker.ParentURLs is a root node.
	Parent regions.RegionID

	// Overlay tunes the routing of application traffic.
	Overlay overlay.Config
	// Costs tunes the cost engine: link measurement, adverts, routes and shortcuts. Costs.K is the
	// most shortcut connections the node holds, opened and accepted (-shortcuts); 0 turns shortcuts
	// off, and the node then routes over the tree only, still measuring its tree links.
	Costs costs.Config
	// Replication tunes demand-driven replication of other regions' records into this node.
	Replication ReplicationConfig
	// EngineTick is how often the cost engine checks outages, sends the probes idle links need,
	// advertises and recomputes routes when something changed.
	EngineTick time.Duration
	// RouteEvery batches route computations: adverts arriving and links coming up are acted on at
	// most this often. A link of this node that goes down is acted on at the next tick.
	RouteEvery time.Duration
	// DialRetry and DialRetryMax pace shortcut dials to a region after one failed: the pause
	// doubles from DialRetry up to DialRetryMax, so a shortcut whose link was cut is back within
	// about DialRetryMax of the heal, and an unreachable region costs a dial every DialRetryMax.
	DialRetry    time.Duration
	DialRetryMax time.Duration
	// Clock is the node's clock for link timing; nil means time.Now. The lab skews it to check
	// the clock-offset estimate.
	Clock func() time.Time
	// ShortcutDialer returns the dialer of shortcut connections to region peer (nats.go's
	// CustomDialer); nil dials directly. The lab puts its WAN emulator there.
	ShortcutDialer func(peer regions.RegionID) nats.CustomDialer

	// OpenClients turns client permissions off: an application user may then publish and subscribe
	// to anything in the application account. By default a client of region R has the permissions
	// of overlay.AppPublish and overlay.AppSubscribe. FeDist's own account stays closed either way.
	OpenClients bool

	// Replicas is the JetStream replica count of the region's buckets. Use 3 in a region of three
	// or more nodes; with one or two nodes keep 1 (a two-node JetStream cluster has no quorum when
	// either node is down, so R2 buys nothing).
	Replicas int

	// PollEvery is how often the node reads its leafnode links to spot children that left.
	PollEvery time.Duration
	// ReportEvery is how often a node re-sends its link report when nothing changed.
	ReportEvery time.Duration
	// ReportTTL is how long the root trusts a report; a reporter silent that long counts as gone.
	ReportTTL time.Duration
	// DownGrace is how long after it starts, or after admitting a region, the root waits for link
	// reports before it marks a region down.
	DownGrace time.Duration
	// BeatEvery is how often the root's registry writer tells every region the registry's
	// revision (SubjectBeat); StaleAfter is how long a region goes without that word, or with its
	// registry copy behind it, before it reports its registry stale (Node.RegistryState).
	BeatEvery  time.Duration
	StaleAfter time.Duration
	// JoinPatience is how long a join refused because the parent is not registered or not active
	// yet keeps retrying: when a whole federation starts at once, a child can ask before its parent
	// has been admitted. Other refusals are final at once.
	JoinPatience time.Duration
	// JoinRetry is the pause between join attempts while the root cannot be reached.
	JoinRetry time.Duration
	// DrainWait is how long Leave keeps serving after marking the region draining.
	DrainWait time.Duration
	// JoinTimeout bounds the wait for the leafnode link to the parent; 0 waits for ever (a parent
	// that starts later is found as soon as it listens).
	JoinTimeout time.Duration
	// JSTimeout bounds one JetStream call of the node (a registry or ID bucket read or write).
	JSTimeout time.Duration

	Log zerolog.Logger
}

// DefaultConfig returns timings for loopback and LAN.
func DefaultConfig(b broker.Config, name string, parent regions.RegionID) Config {
	return Config{
		Broker:       b,
		Name:         name,
		Parent:       parent,
		Replicas:     1,
		Overlay:      overlay.DefaultConfig(),
		Costs:        costs.DefaultConfig(),
		Replication:  DefaultReplicationConfig(),
		EngineTick:   100 * time.Millisecond, // an outage is acted on within a tenth of a second of its bound
		RouteEvery:   500 * time.Millisecond, // a burst of adverts costs one computation; a relay's own failed links act at once
		DialRetry:    500 * time.Millisecond,
		DialRetryMax: 2 * time.Second,        // back on the best path within ~3 s of a heal (4 s gave 4.8-5.2 s in the lab)
		PollEvery:    250 * time.Millisecond, // a killed child shows up as down within ~0.3 s at its parent
		ReportEvery:  2 * time.Second,        // refresh for reports lost while the root was away
		ReportTTL:    7 * time.Second,        // three refreshes plus slack
		DownGrace:    3 * time.Second,        // long enough for every parent's first report to arrive
		JoinRetry:    time.Second,
		BeatEvery:    time.Second,
		StaleAfter:   4 * time.Second,  // three beats lost, plus a mirror's usual lag
		JoinPatience: 15 * time.Second, // a parent that starts at the same moment joins well within this
		DrainWait:    2 * time.Second,  // in-flight requests finish; new ones already see "draining"
		JSTimeout:    5 * time.Second,  // a region's own JetStream; several meta-leader elections fit
		Log:          b.Log,
	}
}

// DefaultWANConfig returns timings for parents and children on different continents.
func DefaultWANConfig(b broker.Config, name string, parent regions.RegionID) Config {
	c := DefaultConfig(b, name, parent)
	c.ReportEvery = 5 * time.Second // reports cross the WAN; keep the refresh cheap
	c.ReportTTL = 16 * time.Second
	c.DownGrace = 8 * time.Second // a report may take a few RTTs and a reconnect to arrive
	c.JoinRetry = 2 * time.Second
	c.StaleAfter = 8 * time.Second // beats cross several WAN hops
	return c
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("node config")

// Validate checks the config.
func (c *Config) Validate() error {
	if err := c.Broker.Validate(); err != nil {
		return err
	}
	if err := c.Overlay.Validate(); err != nil {
		return err
	}
	if err := c.Costs.Validate(); err != nil {
		return err
	}
	if err := c.Replication.Validate(); err != nil {
		return err
	}
	if c.Name == "" {
		return fmt.Errorf("%w: region name is required (-name)", ErrConfig)
	}
	if c.Parent == c.Broker.Region {
		return fmt.Errorf("%w: region %s cannot be its own parent", ErrConfig, c.Parent)
	}
	if c.Parent != 0 && len(c.Broker.ParentURLs) == 0 {
		return fmt.Errorf("%w: region %s has parent %s but no parent leafnode URL (-parent)", ErrConfig, c.Broker.Region, c.Parent)
	}
	for name, d := range map[string]time.Duration{"beat": c.BeatEvery, "stale-after": c.StaleAfter, "poll": c.PollEvery, "report": c.ReportEvery,
		"report TTL": c.ReportTTL, "join retry": c.JoinRetry, "JetStream timeout": c.JSTimeout, "engine tick": c.EngineTick, "route interval": c.RouteEvery, "dial retry": c.DialRetry, "dial retry max": c.DialRetryMax} {
		if d <= 0 {
			return fmt.Errorf("%w: %s interval must be positive, got %v", ErrConfig, name, d)
		}
	}
	switch {
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("%w: replicas %d must be 1..5", ErrConfig, c.Replicas)
	case c.Replicas > 1 && c.Broker.ClusterPort == 0:
		return fmt.Errorf("%w: replicas %d need a clustered region (-cluster and -routes)", ErrConfig, c.Replicas)
	case c.Replicas > 1 && len(c.Broker.Routes) > 0 && c.Replicas > len(c.Broker.Routes):
		return fmt.Errorf("%w: replicas %d exceed the %d nodes listed in -routes", ErrConfig, c.Replicas, len(c.Broker.Routes))
	}
	if c.ReportTTL <= c.ReportEvery {
		return fmt.Errorf("%w: report TTL %v must exceed the report interval %v", ErrConfig, c.ReportTTL, c.ReportEvery)
	}
	return nil
}

// IsRoot reports whether this node belongs to the root region.
func (c *Config) IsRoot() bool { return len(c.Broker.ParentURLs) == 0 }
