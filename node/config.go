package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
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
		PollEvery:    250 * time.Millisecond, // a killed child shows up as down within ~0.3 s at its parent
		ReportEvery:  2 * time.Second,        // refresh for reports lost while the root was away
		ReportTTL:    7 * time.Second,        // three refreshes plus slack
		DownGrace:    3 * time.Second,        // long enough for every parent's first report to arrive
		JoinRetry:    time.Second,
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
	if c.Name == "" {
		return fmt.Errorf("%w: region name is required (-name)", ErrConfig)
	}
	if c.Parent == c.Broker.Region {
		return fmt.Errorf("%w: region %s cannot be its own parent", ErrConfig, c.Parent)
	}
	if c.Parent != 0 && len(c.Broker.ParentURLs) == 0 {
		return fmt.Errorf("%w: region %s has parent %s but no parent leafnode URL (-parent)", ErrConfig, c.Broker.Region, c.Parent)
	}
	for name, d := range map[string]time.Duration{"poll": c.PollEvery, "report": c.ReportEvery,
		"report TTL": c.ReportTTL, "join retry": c.JoinRetry, "JetStream timeout": c.JSTimeout} {
		if d <= 0 {
			return fmt.Errorf("%w: %s interval must be positive, got %v", ErrConfig, name, d)
		}
	}
	if c.IsRoot() && c.Broker.ClusterPort != 0 {
		// Each root node would run its own registry writer and down detector with its own view of
		// the link reports; until one is elected, the root region runs on one node.
		return fmt.Errorf("%w: the root region runs on one node for now (no -cluster on fedist-root)", ErrConfig)
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
