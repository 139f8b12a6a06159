package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// ScenarioReplication runs a Zipf read workload of other regions' records on a FeDist federation
// of its own, with small replica budgets, writes at the owners and a scan that tries to flush the
// hot set, and reports what demand-driven replication did (replication.json).
const ScenarioReplication Scenario = "replication"

// Replication phases, in order. Readers draw Zipf keys in all but phaseScan, where each reads
// distinct keys once; owners write only in phaseWarm.
const (
	phaseCold  = "cold"  // Zipf reads from empty stores: demand builds, replicas are taken
	phaseWarm  = "warm"  // Zipf reads and writes at the owners: hit ratio, lag, staleness
	phaseScan  = "scan"  // keys read ScanRepeat times each, many more than a store holds
	phaseAfter = "after" // Zipf reads again: did the hot set survive the scan?
)

var replPhases = []string{phaseCold, phaseWarm, phaseScan, phaseAfter}

// ReplicationConfig tunes the replication scenario. Every reader region reads records of all the
// other regions; every region is an owner too.
type ReplicationConfig struct {
	// KeysPerRegion is how many records of each owner region the Zipf reads draw from; a reader
	// draws from KeysPerRegion × (regions − 1), ranked once for the whole run (seeded by Seed).
	KeysPerRegion int
	// Zipf is the exponent s of the reads' distribution: rank k (from 1) is read in proportion to
	// k^−s. It must be above 1 (math/rand's Zipf).
	Zipf float64
	// Every is how often each reader region sends a lookup, without waiting for earlier answers;
	// MaxInFlight bounds its lookups under way (a tick finding them all busy is skipped and
	// counted) and RequestTimeout one lookup.
	Every          time.Duration
	MaxInFlight    int
	RequestTimeout time.Duration
	// ValueSize is the size of every record's value, in bytes: "<id>:<version>:" padded.
	ValueSize int
	// HotRanks is how many of a reader's top ranks count as hot for the hot-lookup p50s.
	HotRanks int
	// MaxEntries and MaxBytes are every node's replica budget (replication.StoreConfig).
	MaxEntries int
	MaxBytes   int64
	// WritesPerSec is each owner region's write rate during the warm phase, round-robin over its
	// WriteKeys records of highest rank; each write is reported with client.Client.Changed.
	WritesPerSec float64
	WriteKeys    int
	// ScanRepeat is how many times in a row the scan reads each of its keys: 1 is a plain scan
	// (which the detector stops: once-read keys are never candidates); the default, 4, passes the
	// detector's threshold, so scan keys are offered to the store and its admission must keep
	// the hot set.
	ScanRepeat int
	// Cold, Warm, Scan and After are the phases' lengths (see phaseCold and the others).
	Cold, Warm, Scan, After time.Duration
	// SampleEvery is how often every node's replication figures are read for the time series.
	SampleEvery time.Duration
	// Seed seeds the key ranking, the readers' draws and the nodes' sketches.
	Seed uint64
}

// DefaultReplicationConfig returns the settings fedist-lab uses: about 2 min 20 s of workload.
func DefaultReplicationConfig() ReplicationConfig {
	return ReplicationConfig{
		KeysPerRegion:  20,                    // 220 keys per reader on 12 regions, 1.1× MaxEntries: a hot set a store can learn in 40 s
		Zipf:           1.1,                   // the skew: the top 20 of 220 ranks carry ~60 % of reads
		Every:          25 * time.Millisecond, // 40 lookups/s per region, ~480/s on 12 regions
		MaxInFlight:    64,                    // 40/s × the slowest tree RTT (0.5 s) is 20: room for slow answers
		RequestTimeout: 5 * time.Second,       // above any path of the world matrix
		ValueSize:      200,                   // a small record; with EntryOverhead each entry costs 456 B
		HotRanks:       16,                    // the reads a replica should make fast first
		MaxEntries:     200,                   // most of a reader's 220 keys, fewer than the scan's 300
		MaxBytes:       88 << 10,              // 197 entries of 456 B: bytes bind just before MaxEntries
		WritesPerSec:   4,                     // per owner: each hot record changes every 2 s
		WriteKeys:      8,
		Cold:           40 * time.Second, // at 40 reads/s, the ~150 ranks read 3 times a minute or more pass the threshold
		Warm:           40 * time.Second,
		Scan:           30 * time.Second, // 1,200 reads: 300 new keys read 4 times each, 1.5× MaxEntries
		ScanRepeat:     4,
		After:          40 * time.Second,
		SampleEvery:    time.Second,
		Seed:           1,
	}
}

// Validate checks the config.
func (c *ReplicationConfig) Validate() error {
	switch {
	case c.KeysPerRegion < 1 || c.HotRanks < 1 || c.WriteKeys < 1 || c.MaxInFlight < 1:
		return fmt.Errorf("%w: replication KeysPerRegion, HotRanks, WriteKeys and MaxInFlight must be at least 1", ErrConfig)
	case !(c.Zipf > 1):
		return fmt.Errorf("%w: replication Zipf exponent %v: want above 1", ErrConfig, c.Zipf)
	case c.Every <= 0 || c.RequestTimeout <= 0 || c.SampleEvery <= 0:
		return fmt.Errorf("%w: replication Every, RequestTimeout and SampleEvery must be positive", ErrConfig)
	case c.ScanRepeat < 1:
		return fmt.Errorf("%w: replication ScanRepeat %d: want 1 or more reads of each scan key", ErrConfig, c.ScanRepeat)
	case c.Cold <= 0 || c.Warm <= 0 || c.Scan <= 0 || c.After <= 0:
		return fmt.Errorf("%w: replication phases Cold, Warm, Scan and After must be positive", ErrConfig)
	case c.ValueSize < 32:
		return fmt.Errorf("%w: replication ValueSize %d: want at least 32 bytes (the ID and version)", ErrConfig, c.ValueSize)
	case c.MaxEntries < 1 || c.MaxBytes < int64(c.ValueSize)+256:
		return fmt.Errorf("%w: replication budget %d entries, %d bytes: want at least one entry of ValueSize + 256 B", ErrConfig, c.MaxEntries, c.MaxBytes)
	case c.WritesPerSec < 0:
		return fmt.Errorf("%w: replication WritesPerSec must not be negative", ErrConfig)
	}
	return nil
}

// phaseLen returns the length of a phase.
func (c *ReplicationConfig) phaseLen(name string) time.Duration {
	switch name {
	case phaseCold:
		return c.Cold
	case phaseWarm:
		return c.Warm
	case phaseScan:
		return c.Scan
	}
	return c.After
}

// ReplicationReport is replication.json.
type ReplicationReport struct {
	Settings string `json:"settings"`
	Regions  int    `json:"regions"`
	// KeysPerReader is how many records each reader's Zipf reads draw from.
	KeysPerReader int   `json:"keys_per_reader"`
	MaxEntries    int   `json:"max_entries"`
	MaxBytes      int64 `json:"max_bytes"`
	HotRanks      int   `json:"hot_ranks"` // a reader's top ranks that count as hot
	// StaleAfterMs is the nodes' ReplicationConfig.StaleAfter: a replica is not served when its
	// owner was not heard from for this long. A read is stale when a newer version had committed
	// more than StaleAfterMs plus the owner-reader tree RTT before the read was sent.
	StaleAfterMs float64 `json:"stale_after_ms"`

	// HitRatioWarm is, over the warm phase, the share of repeat reads (of a key the reader had
	// read before) that a replica answered; HitRatioWarmAll counts every read.
	HitRatioWarm         *float64 `json:"hit_ratio_warm"`
	HitRatioWarmAll      *float64 `json:"hit_ratio_warm_all"`
	HitRatioAfterScan    *float64 `json:"hit_ratio_after_scan"`
	HitRatioAfterScanAll *float64 `json:"hit_ratio_after_scan_all"`
	// LagP50Ms is the median of the owners' lag p50s weighted by their samples, LagP99Ms the
	// largest owner p99 (a bound on the pooled p99: the owners give quantiles, not samples).
	LagP50Ms   *float64 `json:"lag_p50_ms"`
	LagP99Ms   *float64 `json:"lag_p99_ms"`
	LagSamples uint64   `json:"lag_samples"`
	// PathRTTMs is the tree RTT of the slowest owner-reader pair a replica answered for (pushes
	// travel the tree in FeDist's account); a push takes about half of it.
	PathRTTMs   *float64 `json:"path_rtt_ms"`
	PathOwner   string   `json:"path_rtt_owner"`
	PathReader  string   `json:"path_rtt_reader"`
	HotBeforeMs *float64 `json:"hot_p50_before_ms"` // hot reads in the cold phase answered by the owner
	HotAfterMs  *float64 `json:"hot_p50_after_ms"`  // hot reads in the warm phase, however answered
	// BudgetExceeded counts samples in which some node held more bytes or entries than its budget.
	BudgetExceeded int `json:"budget_exceeded"`
	// StaleReads counts answers older than the staleness bound allows (see StaleAfterMs);
	// BehindReads answers older than the last version committed when the read was sent, within
	// the bound, MaxBehindMs the longest such delay; WrongValues answers of another record.
	StaleReads  int     `json:"stale_reads"`
	BehindReads int     `json:"behind_reads"`
	MaxBehindMs float64 `json:"max_behind_ms"`
	WrongValues int     `json:"wrong_values"`
	Writes      int     `json:"writes"`
	WritesFail  int     `json:"writes_failed"`

	// StaleExamples are the first stale answers, to tell a replica stuck since its admission
	// from one that went back to an older version.
	StaleExamples []StaleRead `json:"stale_examples"`

	Phases  []ReplPhase        `json:"phases"`
	Owners  []ReplOwner        `json:"owners"`
	Readers []ReplReader       `json:"readers"`
	Samples []ReplSample       `json:"samples"`
	Notes   []string           `json:"notes"`
	pairs   map[[2]string]bool // owner, reader names: a replica answered
}

// StaleRead is one stale answer: the version a replica gave, the last committed when the read
// was sent, how long before the read the next version had committed, and whether a replica of
// the reader's region had answered a newer version earlier (Regressed).
type StaleRead struct {
	Reader    string  `json:"reader"`
	ID        string  `json:"id"`
	Phase     string  `json:"phase"`
	Version   int     `json:"version"`
	Latest    int     `json:"latest"`
	BehindMs  float64 `json:"behind_ms"`
	Regressed bool    `json:"regressed"`
}

// ReplPhase is one phase's reads over all readers.
type ReplPhase struct {
	Name    string  `json:"name"`
	StartS  float64 `json:"start_s"` // from the start of the workload
	EndS    float64 `json:"end_s"`
	Reads   int     `json:"reads"`
	Failed  int     `json:"failed"`
	Skipped int     `json:"skipped"` // ticks with MaxInFlight lookups under way
	Replica int     `json:"replica"` // answered by a replica
	// HitRatio is Replica ÷ answered reads; RepeatHitRatio the same over repeat reads only.
	HitRatio       *float64 `json:"hit_ratio"`
	Repeat         int      `json:"repeat_reads"`
	RepeatReplica  int      `json:"repeat_replica"`
	RepeatHitRatio *float64 `json:"repeat_hit_ratio"`
	P50Ms          *float64 `json:"p50_ms"`
	HotP50Ms       *float64 `json:"hot_p50_ms"`
	HotRemoteP50Ms *float64 `json:"hot_remote_p50_ms"` // hot reads the owner answered
	Stale          int      `json:"stale_reads"`
	Behind         int      `json:"behind_reads"`
	Writes         int      `json:"writes"`
}

// ReplOwner is one region's owner side at the end.
type ReplOwner struct {
	Region        string  `json:"region"`
	Holds         int     `json:"holds"`
	Readers       int     `json:"readers"`
	Pushes        uint64  `json:"pushes"`
	Invalidations uint64  `json:"invalidations"`
	LagP50Ms      float64 `json:"lag_p50_ms"`
	LagP99Ms      float64 `json:"lag_p99_ms"`
	LagSamples    uint64  `json:"lag_samples"`
}

// ReplReader is one region's reader side at the end: its nodes' counters summed, and its own
// reads' hit ratios.
type ReplReader struct {
	Region            string      `json:"region"`
	HitRatioWarm      *float64    `json:"hit_ratio_warm"`
	HitRatioAfterScan *float64    `json:"hit_ratio_after_scan"`
	Lookups           uint64      `json:"lookups"`
	Hits              uint64      `json:"hits"`
	Admitted          uint64      `json:"admitted"`
	Evictions         uint64      `json:"evictions"`
	Rejected          uint64      `json:"rejected"`
	Refused           uint64      `json:"refused_stale"` // replicas held but not served: owner unheard
	Gaps              uint64      `json:"gaps"`
	OverBudget        uint64      `json:"over_budget"`
	Entries           int         `json:"entries"`
	Bytes             int64       `json:"bytes"`
	Top               []DemandTop `json:"top"`
}

// DemandTop is one record of a reader's highest demand at the end (node.DemandStat), and its rank
// in the reader's Zipf order (0 for a scanned key).
type DemandTop struct {
	ID    string  `json:"id"`
	Rank  int     `json:"rank"`
	Count float64 `json:"count"`
	Rate  float64 `json:"rate_per_s"`
	Held  bool    `json:"held"`
}

// ReplSample is every region's replication figures at one moment.
type ReplSample struct {
	TS    float64 `json:"t_s"`
	Phase string  `json:"phase"`
	// HitRatio is over all regions' lookups since the previous sample; null without lookups.
	HitRatio *float64           `json:"hit_ratio"`
	Over     bool               `json:"over_budget"`
	Regions  []ReplSampleRegion `json:"regions"`
}

// ReplSampleRegion is one region's figures in a sample; with several nodes, summed (budgets too).
type ReplSampleRegion struct {
	Region     string   `json:"region"`
	HitRatio   *float64 `json:"hit_ratio"` // since the previous sample
	Lookups    uint64   `json:"lookups"`   // since the previous sample
	Hits       uint64   `json:"hits"`
	Bytes      int64    `json:"bytes"`
	MaxBytes   int64    `json:"max_bytes"`
	Entries    int      `json:"entries"`
	MaxEntries int      `json:"max_entries"`
	Evictions  uint64   `json:"evictions"` // since the start
	Candidates int      `json:"candidates"`
	Holding    int      `json:"holding"`
	LagP50Ms   float64  `json:"lag_p50_ms"` // owner side, its last 4096 samples
	LagP99Ms   float64  `json:"lag_p99_ms"`
}

// WriteJSON writes replication.json.
func (r *ReplicationReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
