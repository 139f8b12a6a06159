package node

import (
	"fmt"
	"time"

	"github.com/fedist/fedist/replication"
)

// ReplicationConfig tunes demand-driven replication (see replicas.go).
type ReplicationConfig struct {
	// Off turns replication off: the relay then carries every lookup to its home region.
	Off bool
	// Detector counts this region's lookups of other regions' records; a record whose decayed
	// count passes Detector.Threshold becomes a candidate.
	Detector replication.DetectorConfig
	// Store is the node's replica budget, in bytes and entries; never exceeded.
	Store replication.StoreConfig
	// Bandwidth is the replication traffic a reader node takes in, in bytes per second: values it
	// admits and updates pushed to its replicas. An update past it drops the replica instead.
	Bandwidth int
	// PushBandwidth is what an owner node pushes as values, in bytes per second; a change past it
	// is pushed as an invalidation, which the reader answers by dropping its replica.
	PushBandwidth int
	// Heartbeat is how often an owner node tells each reader node holding its records that its
	// stream is alive and how far it is; the reader renews its holds at the same pace.
	Heartbeat time.Duration
	// StaleAfter bounds staleness: a replica whose home region has not been heard from for this
	// long is not served, and the lookup goes to the home region (which fails during a partition).
	StaleAfter time.Duration
	// MaxAge bounds how long a replica is served without a push or a refresh: a replica still read
	// when half of it has passed is refreshed from the home region in the background, and past it
	// the next lookup goes to the home region. It covers a change the application committed but
	// never reported (it stopped between its commit and Changed).
	MaxAge time.Duration
	// HoldTTL is how long an owner node keeps the holds of a reader node that stopped renewing.
	HoldTTL time.Duration
	// MaxHolds bounds the holds an owner node keeps, over all readers.
	MaxHolds int
}

// DefaultReplicationConfig returns the defaults.
func DefaultReplicationConfig() ReplicationConfig {
	return ReplicationConfig{
		Detector:      replication.DefaultDetectorConfig(),
		Store:         replication.DefaultStoreConfig(),
		Bandwidth:     4 << 20, // 4 MiB/s
		PushBandwidth: 4 << 20,
		Heartbeat:     500 * time.Millisecond,
		StaleAfter:    2 * time.Second, // four heartbeats
		MaxAge:        time.Minute,     // one background lookup per hot record per 30 s
		HoldTTL:       10 * time.Second,
		MaxHolds:      1_000_000,
	}
}

// Validate checks the config.
func (c ReplicationConfig) Validate() error {
	if c.Off {
		return nil
	}
	if err := c.Detector.Validate(); err != nil {
		return err
	}
	if err := c.Store.Validate(); err != nil {
		return err
	}
	switch {
	case c.Bandwidth <= 0 || c.PushBandwidth <= 0:
		return fmt.Errorf("%w: replication bandwidths must be positive (bytes per second)", ErrConfig)
	case c.Heartbeat <= 0 || c.StaleAfter < 2*c.Heartbeat:
		return fmt.Errorf("%w: replication StaleAfter %v must be at least two heartbeats (%v)", ErrConfig, c.StaleAfter, c.Heartbeat)
	case c.MaxAge < c.StaleAfter:
		return fmt.Errorf("%w: replication MaxAge %v must be at least StaleAfter (%v)", ErrConfig, c.MaxAge, c.StaleAfter)
	case c.HoldTTL < 2*c.Heartbeat:
		return fmt.Errorf("%w: replication HoldTTL %v must be at least two heartbeats (%v)", ErrConfig, c.HoldTTL, c.Heartbeat)
	case c.MaxHolds < 1:
		return fmt.Errorf("%w: replication MaxHolds must be positive", ErrConfig)
	}
	return nil
}
