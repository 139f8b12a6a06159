package replication

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrConfig is wrapped by every error that NewDetector and NewStore return for a bad config.
var ErrConfig = errors.New("bad replication config")

// EntryOverhead is what the Store charges each entry on top of its value's length, in bytes: the
// heap an entry takes whatever its value. That is its record (the Key, list links, times, hit
// count and slice header: 144 bytes as allocated), its slot in the key map (about 52 bytes fresh,
// up to twice that before the map is rebuilt; see churnMap) and its share of the admission sketch
// (8 bytes). Measured: up to 214 bytes per entry in all (TestStoreEntryOverhead). The bytes of Kind
// strings are not counted: kinds are a handful of shared tokens. A Store never holds more than
// MaxBytes / EntryOverhead entries, whatever MaxEntries says.
const EntryOverhead = 256

// DetectorConfig sizes a Detector. Its memory is fixed by these numbers (see Detector.MemoryBytes)
// and does not grow with the number of distinct keys observed.
type DetectorConfig struct {
	// Width and Depth size the count-min sketch: Depth rows of Width counters (8 bytes each). An
	// estimate exceeds the true decayed count by at most e/Width of the total decayed count with
	// probability 1 - e^-Depth; conservative update makes it tighter in practice.
	Width, Depth int
	// TopK is how many heavy hitters are tracked by key; Top and Candidates see only these.
	TopK int
	// HalfLife: a lookup counts 1 when it happens and half as much HalfLife later. A steady rate of
	// r lookups/s settles at a decayed count of r × HalfLife / ln 2.
	HalfLife time.Duration
	// Threshold is the decayed count above which a key is a candidate for replication.
	Threshold float64
	// Seed seeds the key hash; 0 picks a random one. Set it to replay a run exactly.
	Seed uint64
}

// DefaultDetectorConfig returns settings for a node that serves up to a few thousand remote
// lookups per second.
func DefaultDetectorConfig() DetectorConfig {
	return DetectorConfig{
		Width:     4096,             // 128 KiB of counters; error ≤ 0.07 % of the total decayed count
		Depth:     4,                // that bound fails for a key with probability e^-4 ≈ 2 %
		TopK:      256,              // more hot records than a node would replicate from one region
		HalfLife:  60 * time.Second, // a record read steadily once every 20 s stays a candidate
		Threshold: 2,                // more than two recent reads: one read of a record is not demand
	}
}

// Limits of DetectorConfig: beyond them a detector costs memory for no accuracy.
const (
	minWidth    = 16
	maxWidth    = 1 << 24
	maxDepth    = 16
	maxTopK     = 1 << 20
	minHalfLife = time.Millisecond
)

// Validate says what is wrong with c, in an error wrapping ErrConfig, or returns nil.
func (c DetectorConfig) Validate() error {
	switch {
	case c.Width < minWidth || c.Width > maxWidth:
		return fmt.Errorf("detector Width %d: want %d..%d counters per row (default %d): %w",
			c.Width, minWidth, maxWidth, DefaultDetectorConfig().Width, ErrConfig)
	case c.Depth < 1 || c.Depth > maxDepth:
		return fmt.Errorf("detector Depth %d: want 1..%d rows (default %d): %w",
			c.Depth, maxDepth, DefaultDetectorConfig().Depth, ErrConfig)
	case c.TopK < 1 || c.TopK > maxTopK:
		return fmt.Errorf("detector TopK %d: want 1..%d heavy hitters (default %d): %w",
			c.TopK, maxTopK, DefaultDetectorConfig().TopK, ErrConfig)
	case c.HalfLife < minHalfLife:
		return fmt.Errorf("detector HalfLife %v: want at least %v (default %v): %w",
			c.HalfLife, minHalfLife, DefaultDetectorConfig().HalfLife, ErrConfig)
	case !(c.Threshold > 0) || math.IsInf(c.Threshold, 0):
		return fmt.Errorf("detector Threshold %v: want a positive finite decayed count (default %v): %w",
			c.Threshold, DefaultDetectorConfig().Threshold, ErrConfig)
	}
	return nil
}

// StoreConfig bounds a Store. Both bounds hold after every call, and during it: room is made
// before a value is stored.
type StoreConfig struct {
	// MaxBytes bounds the sum over entries of len(value) + EntryOverhead.
	MaxBytes int64
	// MaxEntries bounds the number of entries. It also sizes the admission sketch: 8 bytes per
	// entry, at most 2 MiB.
	MaxEntries int
	// Seed seeds the key hash of the admission sketch; 0 picks a random one.
	Seed uint64
}

// DefaultStoreConfig returns a budget for a node that gives replicas a modest share of its memory.
func DefaultStoreConfig() StoreConfig {
	return StoreConfig{
		MaxBytes:   64 << 20, // 64 MiB: small next to a NATS server's own buffers
		MaxEntries: 100_000,  // binds first while values average under ~415 bytes (671 - EntryOverhead)
	}
}

// Validate says what is wrong with c, in an error wrapping ErrConfig, or returns nil.
func (c StoreConfig) Validate() error {
	switch {
	case c.MaxBytes < EntryOverhead:
		return fmt.Errorf("store MaxBytes %d: want at least the per-entry overhead %d, or no entry fits (default %d): %w",
			c.MaxBytes, EntryOverhead, DefaultStoreConfig().MaxBytes, ErrConfig)
	case c.MaxEntries < 1:
		return fmt.Errorf("store MaxEntries %d: want at least 1 (default %d): %w",
			c.MaxEntries, DefaultStoreConfig().MaxEntries, ErrConfig)
	}
	return nil
}
