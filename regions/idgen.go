package regions

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"
)

// IDBucket is the KV bucket, in the region's own JetStream domain, that holds one sequence counter
// per region under SeqKey(region).
const IDBucket = "fedist-ids"

// maxConflicts bounds the compare-and-set attempts of one block claim. Every conflict means another
// generator claimed a block, so the region as a whole progressed; a claim that loses this many times
// in a row is facing a misbehaving writer, not ordinary contention.
const maxConflicts = 64

var (
	// ErrExhausted is returned once every sequence of the region, up to MaxSeq, has been handed out.
	ErrExhausted = errors.New("region has handed out every sequence up to MaxSeq")
	// ErrBadConfig is returned for a GeneratorConfig that fails Validate.
	ErrBadConfig = errors.New("bad generator config")
	// ErrBadCounter is returned when the stored counter is not a decimal sequence from 1 to MaxSeq+1.
	ErrBadCounter = errors.New("stored sequence counter is corrupt")
	// ErrCounterDeleted is returned when the counter key was deleted or purged. Recreating it at 1
	// would hand out IDs again, so the generator refuses; put a value above the highest ID ever
	// issued to recover.
	ErrCounterDeleted = errors.New("sequence counter was deleted; refusing to restart at 1")
	// ErrContention is returned when a block claim loses the compare-and-set maxConflicts times.
	ErrContention = errors.New("too many compare-and-set conflicts on the sequence counter")
)

// IDBucketConfig returns the configuration of the IDBucket. One revision per key is enough because
// each claim is checked against the latest revision only. The node sets Replicas to its region size.
// A claim survives a crashed process either way, but JetStream acknowledges before it syncs to disk,
// so only Replicas >= 3 (or a server with sync_interval: always) keeps it across a power loss.
func IDBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      IDBucket,
		Description: "FeDist record ID counters: seq.<rrrr> holds the next unclaimed sequence",
		History:     1,
	}
}

// SeqKey returns the default counter key of region r in the IDBucket: seq.<rrrr>.
func SeqKey(r RegionID) string { return "seq." + r.String() }

// GeneratorConfig configures a Generator.
type GeneratorConfig struct {
	// Block is how many sequences one compare-and-set claims, from 1 to MaxSeq. A generator stops
	// using its block when it stops (crash or restart), so at most Block-1 sequences are lost then.
	// Refills cost one KV round trip per Block IDs.
	Block uint64
	// Key is the counter's key in the bucket. Empty means SeqKey(region). Only tests and tools
	// that keep several counters for one region set it.
	Key string
}

// DefaultGeneratorConfig returns the configuration for a region node.
func DefaultGeneratorConfig() GeneratorConfig {
	return GeneratorConfig{
		// One KV round trip per 65536 IDs (every 1.3 ms at 50 M IDs/s). A crash wastes at most one
		// block, so it takes 2^32 crashes to use up the 48-bit space that way.
		Block: 1 << 16,
		Key:   "", // SeqKey(region), the key every node of the region shares
	}
}

// Validate reports the first field that cannot work, wrapping ErrBadConfig.
func (c GeneratorConfig) Validate() error {
	if c.Block == 0 || c.Block > MaxSeq {
		return fmt.Errorf("generator config: Block is %d, want 1 to %d (default %d): %w",
			c.Block, uint64(MaxSeq), DefaultGeneratorConfig().Block, ErrBadConfig)
	}
	if c.Key != "" && !validKVKey(c.Key) {
		return fmt.Errorf("generator config: Key %q is not a KV key "+
			"(letters, digits, -/_=. and no empty tokens): %w", c.Key, ErrBadConfig)
	}
	return nil
}

// validKVKey mirrors the key rule of nats.go, so a bad key fails at construction, not at first use.
func validKVKey(k string) bool {
	if k == "" || k[0] == '.' || k[len(k)-1] == '.' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-' || c == '/' || c == '_' || c == '=':
		case c == '.' && k[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// block is a claimed range of sequences [next, end). Callers take sequences with next.Add, so next
// may run past end; a value at or past end means the block is used up.
type block struct {
	next atomic.Uint64
	end  uint64
}

// GeneratorStats counts a generator's block claims since it was created.
type GeneratorStats struct {
	Blocks    uint64 // blocks claimed
	Conflicts uint64 // compare-and-set attempts lost to another generator
}

// Generator hands out the record IDs of one region. Any number of Generators, in one process or on
// the nodes of the region, may share the counter: each ID is handed out once. Next is safe for
// concurrent use and takes no lock while the current block lasts. A Generator owns no goroutine and
// needs no Close; dropping it abandons the rest of its block.
type Generator struct {
	kv     jetstream.KeyValue
	region RegionID
	key    string
	size   uint64

	cur       atomic.Pointer[block] // the block Next takes from; replaced only while holding refill
	refill    chan struct{}         // one slot, held while claiming a block; a lock that honors ctx
	exhausted atomic.Bool           // set once the counter reached MaxSeq+1; never cleared
	blocks    atomic.Uint64         // GeneratorStats.Blocks
	conflicts atomic.Uint64         // GeneratorStats.Conflicts
}

// NewGenerator returns a generator for region, keeping its counter in kv (normally the IDBucket).
// It reads the counter once, so an unreachable bucket or a corrupt counter fails here rather than at
// the first Next. It claims nothing until the first Next, which also detects a deleted counter.
func NewGenerator(ctx context.Context, kv jetstream.KeyValue, region RegionID, cfg GeneratorConfig) (*Generator, error) {
	if !region.Valid() {
		return nil, fmt.Errorf("new generator: %w", ErrReservedRegion)
	}
	if kv == nil {
		return nil, fmt.Errorf("new generator for %s: nil KeyValue: %w", region, ErrBadConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new generator for %s: %w", region, err)
	}
	g := &Generator{kv: kv, region: region, key: cfg.Key, size: cfg.Block, refill: make(chan struct{}, 1)}
	if g.key == "" {
		g.key = SeqKey(region)
	}
	g.cur.Store(&block{}) // empty: the first Next claims
	if _, _, err := g.read(ctx); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, err
	}
	return g, nil
}

// Region returns the region whose IDs g hands out.
func (g *Generator) Region() RegionID { return g.region }

// Stats returns the block claims so far.
func (g *Generator) Stats() GeneratorStats {
	return GeneratorStats{Blocks: g.blocks.Load(), Conflicts: g.conflicts.Load()}
}

// Next returns a new record ID of the region. IDs from one Generator increase in the order the calls
// take them. ctx bounds only a block claim; Next returns an error wrapping ErrExhausted once the
// region's sequences are used up.
func (g *Generator) Next(ctx context.Context) (ID, error) {
	b := g.cur.Load()
	if s := b.next.Add(1) - 1; s < b.end {
		return NewID(g.region, s), nil
	}
	return g.nextSlow(ctx, b)
}

// nextSlow claims a new block unless another caller replaced spent while this one waited.
func (g *Generator) nextSlow(ctx context.Context, spent *block) (ID, error) {
	select {
	case g.refill <- struct{}{}:
	case <-ctx.Done():
		return 0, fmt.Errorf("next ID of %s: %w", g.region, context.Cause(ctx))
	}
	defer func() { <-g.refill }()
	if b := g.cur.Load(); b != spent {
		if s := b.next.Add(1) - 1; s < b.end {
			return NewID(g.region, s), nil
		}
	}
	if g.exhausted.Load() {
		return 0, fmt.Errorf("next ID of %s: %w", g.region, ErrExhausted)
	}
	first, end, err := g.claim(ctx)
	if err != nil {
		return 0, err
	}
	b := &block{end: end}
	b.next.Store(first + 1)
	g.cur.Store(b)
	return NewID(g.region, first), nil
}

// claim moves the counter forward by up to g.size with compare-and-set and returns the claimed
// sequences [first, end). The caller holds refill.
func (g *Generator) claim(ctx context.Context) (uint64, uint64, error) {
	for range maxConflicts {
		if err := ctx.Err(); err != nil {
			return 0, 0, fmt.Errorf("claim IDs of %s: %w", g.region, context.Cause(ctx))
		}
		next, rev, err := g.read(ctx)
		missing := errors.Is(err, jetstream.ErrKeyNotFound)
		if err != nil && !missing {
			return 0, 0, err
		}
		if next > MaxSeq {
			g.exhausted.Store(true)
			return 0, 0, fmt.Errorf("claim IDs of %s: %w", g.region, ErrExhausted)
		}
		end := min(next+g.size, MaxSeq+1) // the last block may be short
		// Revision 0 creates the key only if the subject holds no message at all, not even a delete
		// marker, unlike KeyValue.Create, which would quietly restart a deleted counter at 1.
		_, err = g.kv.Update(ctx, g.key, strconv.AppendUint(nil, end, 10), rev)
		if err == nil {
			g.blocks.Add(1)
			return next, end, nil
		}
		if !isConflict(err) {
			return 0, 0, fmt.Errorf("claim IDs of %s: update %s: %w", g.region, g.key, err)
		}
		if missing {
			if _, _, err := g.read(ctx); errors.Is(err, jetstream.ErrKeyNotFound) {
				return 0, 0, fmt.Errorf("claim IDs of %s: key %s: %w", g.region, g.key, ErrCounterDeleted)
			}
		}
		g.conflicts.Add(1)
	}
	return 0, 0, fmt.Errorf("claim IDs of %s: %d attempts: %w", g.region, maxConflicts, ErrContention)
}

// read returns the next unclaimed sequence and the key's revision. A missing key reads as sequence
// 1, revision 0, with an error wrapping jetstream.ErrKeyNotFound.
func (g *Generator) read(ctx context.Context) (next, rev uint64, err error) {
	e, err := g.kv.Get(ctx, g.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 1, 0, fmt.Errorf("read %s: %w", g.key, err)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read IDs of %s: get %s: %w", g.region, g.key, err)
	}
	next, perr := strconv.ParseUint(string(e.Value()), 10, 64)
	if perr != nil || next == 0 || next > MaxSeq+1 {
		return 0, 0, fmt.Errorf("read IDs of %s: key %s holds %q, want 1 to %d: %w",
			g.region, g.key, e.Value(), uint64(MaxSeq)+1, ErrBadCounter)
	}
	return next, e.Revision(), nil
}

// isConflict reports whether err is a lost compare-and-set: a wrong last sequence (10071, or 10164
// on replicated streams), which nats.go maps to ErrKeyRevisionMismatch or ErrKeyExists.
func isConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
