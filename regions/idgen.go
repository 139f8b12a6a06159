package regions

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// IDBucket is the KV bucket, in the region's own JetStream domain, that holds one sequence counter
// per region under SeqKey(region).
const IDBucket = "fedist-ids"

var (
	// ErrExhausted is returned once every sequence of the region, up to MaxSeq, has been handed out.
	ErrExhausted = errors.New("region has handed out every sequence up to MaxSeq")
	// ErrBadConfig is returned for a GeneratorConfig that fails Validate.
	ErrBadConfig = errors.New("bad generator config")
	// ErrBadCounter is returned when the stored counter is not a decimal sequence from 1 to MaxSeq+1.
	ErrBadCounter = errors.New("stored sequence counter is corrupt")
	// ErrCounterDeleted is returned when the counter key was deleted or purged and
	// GeneratorConfig.Floor is 0. Recreating it at 1 would hand out IDs again, so the generator
	// refuses; set Floor to a high-water mark, or put a value above the highest ID ever issued.
	ErrCounterDeleted = errors.New("sequence counter was deleted; refusing to restart at 1")
	// ErrContention is wrapped, together with the context's error, when ctx ends while a block claim
	// is losing compare-and-set conflicts. Conflicts alone never fail a claim: each one means another
	// generator claimed a block, so the claim backs off and tries again.
	ErrContention = errors.New("block claim kept losing compare-and-set on the sequence counter")
)

// IDBucketConfig returns the configuration of the IDBucket. One revision per key is enough because
// each claim is checked against the latest revision only. The node sets Replicas to its region size.
// A claim survives a crashed process either way, but JetStream acknowledges before it syncs to disk,
// so only Replicas >= 3 (or a server with sync_interval: always) keeps it across a power loss; a
// GeneratorConfig.Floor from a HighWater covers the rest.
func IDBucketConfig() jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      IDBucket,
		Description: "FeDist record ID counters: seq.<rrrr> holds the next unclaimed sequence",
		History:     1,
	}
}

// SeqKey returns the default counter key of region r in the IDBucket: seq.<rrrr>.
func SeqKey(r RegionID) string { return "seq." + r.String() }

// block is a claimed range of sequences [first, end). Callers take sequences with next.Add, so next
// may run past end; a value at or past end means the block is used up.
type block struct {
	next       atomic.Uint64
	first, end uint64
	claimed    time.Time // when the claim succeeded; zero for the empty block a Generator starts with
}

// take hands out up to want sequences of b, and at most the block's length so that next cannot
// overflow. It returns the first and how many; n is 0 once b is used up.
func (b *block) take(want uint64) (first, n uint64) {
	want = min(want, b.end-b.first)
	if want == 0 {
		return 0, 0
	}
	s := b.next.Add(want) - want
	if s >= b.end {
		return 0, 0
	}
	return s, min(want, b.end-s)
}

// GeneratorStats counts a generator's block claims since it was created.
type GeneratorStats struct {
	Blocks    uint64 // blocks claimed in KV, including skipped ones
	Conflicts uint64 // compare-and-set attempts lost to another generator
	Skipped   uint64 // blocks claimed but never used because Commit failed
	BlockSize uint64 // sequences the latest claim asked for; the next claim doubles, halves or repeats it
}

// Generator hands out the record IDs of one region. Any number of Generators, in one process or on
// the nodes of the region, may share the counter: each ID is handed out once. Next and NextRange
// are safe for concurrent use and take no lock while the current block lasts. A Generator owns no
// goroutine and needs no Close; dropping it abandons the rest of its block.
type Generator struct {
	kv     jetstream.KeyValue
	region RegionID
	cfg    GeneratorConfig // validated, with Key and Clock filled in

	cur       atomic.Pointer[block] // the block Next takes from; replaced only while holding refill
	refill    chan struct{}         // one slot, held while claiming a block; a lock that honors ctx
	floor     uint64                // lowest sequence a claim may take: cfg.Floor, then the latest end; guarded by refill
	size      atomic.Uint64         // GeneratorStats.BlockSize; written while holding refill
	exhausted atomic.Bool           // set once the counter reached MaxSeq+1; never cleared
	blocks    atomic.Uint64         // GeneratorStats.Blocks
	conflicts atomic.Uint64         // GeneratorStats.Conflicts
	skipped   atomic.Uint64         // GeneratorStats.Skipped
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
	if cfg.Key == "" {
		cfg.Key = SeqKey(region)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	g := &Generator{kv: kv, region: region, cfg: cfg, refill: make(chan struct{}, 1), floor: cfg.Floor}
	g.size.Store(cfg.Block)
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
	return GeneratorStats{Blocks: g.blocks.Load(), Conflicts: g.conflicts.Load(),
		Skipped: g.skipped.Load(), BlockSize: g.size.Load()}
}

// Next returns a new record ID of the region. IDs from one Generator increase in the order the calls
// take them. ctx bounds only a block claim; Next returns an error wrapping ErrExhausted once the
// region's sequences are used up, and the error of GeneratorConfig.Commit if that refuses a block.
func (g *Generator) Next(ctx context.Context) (ID, error) {
	b := g.cur.Load()
	if s := b.next.Add(1) - 1; s < b.end { // take(1), spelled out: this is the hot path
		return NewID(g.region, s), nil
	}
	id, _, err := g.nextSlow(ctx, b, 1)
	return id, err
}

// NextRange hands out n consecutive record IDs first, first+1, …, first+n-1, with 1 <= n <= max,
// for a caller that serves IDs in bulk. The IDs come from one block: NextRange returns fewer than
// max when the current block has fewer left, and claims a new block only when none is left. With
// max 0 it returns 0, 0, nil. It may be mixed freely with Next, with the same guarantees and errors.
func (g *Generator) NextRange(ctx context.Context, max uint64) (first ID, n uint64, err error) {
	if max == 0 {
		return 0, 0, nil
	}
	b := g.cur.Load()
	if s, n := b.take(max); n > 0 {
		return NewID(g.region, s), n, nil
	}
	return g.nextSlow(ctx, b, max)
}

// nextSlow claims a new block unless another caller replaced spent while this one waited, and takes
// up to want sequences from it.
func (g *Generator) nextSlow(ctx context.Context, spent *block, want uint64) (ID, uint64, error) {
	select {
	case g.refill <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, fmt.Errorf("next ID of %s: %w", g.region, context.Cause(ctx))
	}
	defer func() { <-g.refill }()
	prev := g.cur.Load()
	if prev != spent {
		if s, n := prev.take(want); n > 0 {
			return NewID(g.region, s), n, nil
		}
	}
	if g.exhausted.Load() {
		return 0, 0, fmt.Errorf("next ID of %s: %w", g.region, ErrExhausted)
	}
	size := g.size.Load()
	if !prev.claimed.IsZero() {
		size = g.cfg.nextBlock(size, g.cfg.Clock.Now().Sub(prev.claimed))
	}
	first, end, err := g.claim(ctx, size)
	if err != nil {
		return 0, 0, err
	}
	g.floor = end // even if Commit refuses: the sequences are spent either way
	if g.cfg.Commit != nil {
		if err := g.cfg.Commit(ctx, end); err != nil {
			g.skipped.Add(1)
			return 0, 0, fmt.Errorf("next ID of %s: commit block [%d, %d), skipped: %w", g.region, first, end, err)
		}
	}
	b := &block{first: first, end: end, claimed: g.cfg.Clock.Now()}
	n := min(want, end-first)
	b.next.Store(first + n)
	g.size.Store(size)
	g.cur.Store(b)
	return NewID(g.region, first), n, nil
}

// claim moves the counter forward by size with compare-and-set and returns the claimed sequences
// [first, end). It retries lost compare-and-sets, backing off with jitter, until ctx ends. The
// caller holds refill.
func (g *Generator) claim(ctx context.Context, size uint64) (first, end uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, fmt.Errorf("claim IDs of %s: %w", g.region, context.Cause(ctx))
	}
	for lost := 0; ; {
		first, end, err = g.claimOnce(ctx, size)
		if err == nil {
			return first, end, nil
		}
		if !isConflict(err) {
			if lost > 0 && ctx.Err() != nil {
				return 0, 0, fmt.Errorf("claim IDs of %s after %d conflicts: %w: %w", g.region, lost, ErrContention, err)
			}
			return 0, 0, err
		}
		lost++
		g.conflicts.Add(1)
		select {
		case <-g.cfg.Clock.After(g.cfg.backoff(lost, rand.Float64())):
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("claim IDs of %s after %d conflicts: %w: %w",
				g.region, lost, ErrContention, context.Cause(ctx))
		}
	}
}

// claimOnce makes one compare-and-set attempt to claim size sequences from at least g.floor. A lost
// compare-and-set returns an error for which isConflict holds.
func (g *Generator) claimOnce(ctx context.Context, size uint64) (first, end uint64, err error) {
	next, rev, err := g.read(ctx)
	missing := errors.Is(err, jetstream.ErrKeyNotFound)
	if err != nil && !missing {
		return 0, 0, err
	}
	first = max(next, g.floor) // a counter below the floor moves up in the same compare-and-set
	if first > MaxSeq {
		g.exhausted.Store(true)
		return 0, 0, fmt.Errorf("claim IDs of %s: %w", g.region, ErrExhausted)
	}
	end = min(first+size, MaxSeq+1) // the last block may be short
	value := strconv.AppendUint(nil, end, 10)
	switch {
	case !missing:
		_, err = g.kv.Update(ctx, g.cfg.Key, value, rev)
	case g.cfg.Floor > 0:
		// Create also writes over a delete or purge marker, with compare-and-set on the marker's
		// revision; the configured floor makes restarting there safe.
		_, err = g.kv.Create(ctx, g.cfg.Key, value)
	default:
		// Revision 0 creates the key only if the subject holds no message at all, not even a delete
		// marker, unlike KeyValue.Create, which would quietly restart a deleted counter at 1.
		_, err = g.kv.Update(ctx, g.cfg.Key, value, 0)
	}
	if err == nil {
		g.blocks.Add(1)
		return first, end, nil
	}
	err = fmt.Errorf("claim IDs of %s: update %s: %w", g.region, g.cfg.Key, err)
	if isConflict(err) && missing && g.cfg.Floor == 0 {
		if _, _, rerr := g.read(ctx); errors.Is(rerr, jetstream.ErrKeyNotFound) {
			return 0, 0, fmt.Errorf("claim IDs of %s: key %s: %w", g.region, g.cfg.Key, ErrCounterDeleted)
		}
	}
	return 0, 0, err
}

// read returns the next unclaimed sequence and the key's revision. A missing key reads as sequence
// 1, revision 0, with an error wrapping jetstream.ErrKeyNotFound.
func (g *Generator) read(ctx context.Context) (next, rev uint64, err error) {
	e, err := g.kv.Get(ctx, g.cfg.Key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 1, 0, fmt.Errorf("read %s: %w", g.cfg.Key, err)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read IDs of %s: get %s: %w", g.region, g.cfg.Key, err)
	}
	next, perr := strconv.ParseUint(string(e.Value()), 10, 64)
	if perr != nil || next == 0 || next > MaxSeq+1 {
		return 0, 0, fmt.Errorf("read IDs of %s: key %s holds %q, want 1 to %d: %w",
			g.region, g.cfg.Key, e.Value(), uint64(MaxSeq)+1, ErrBadCounter)
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
