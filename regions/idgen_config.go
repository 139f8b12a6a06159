package regions

import (
	"context"
	"fmt"
	"time"
)

// shrinkAfter is how many Refill periods a block must last before the next claim halves. It is above
// 2 so that a steady rate never flaps: a block that just doubled lasts under 2×Refill, and one that
// just halved lasts over 2×Refill, so neither triggers the opposite step.
const shrinkAfter = 4

// Clock is a Generator's time source: Now for block-size adaptation, After for backoff waits. A nil
// Clock means real time. Tests pass a fake to step time and to record waits.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// realClock is the Clock a nil GeneratorConfig.Clock stands for.
type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// GeneratorConfig configures a Generator.
type GeneratorConfig struct {
	// Block is the smallest number of sequences one compare-and-set claims, and the size of the
	// first claim, from 1 to MaxSeq. A generator stops using its block when it stops (crash or
	// restart), so at most the current block size minus 1 sequences are lost then.
	Block uint64
	// MaxBlock is the largest block the generator grows to under load, from Block to MaxSeq; 0 means
	// Block (a fixed block size). Refills cost one KV round trip per block, so a busy generator
	// makes MaxBlock/Block times fewer round trips and conflicts than a fixed-size one.
	MaxBlock uint64
	// Refill is the time between claims a generator aims for. A block used up in under Refill makes
	// the next claim twice as large (up to MaxBlock); one that lasted over 4×Refill makes it half as
	// large (down to Block). Required when MaxBlock > Block.
	Refill time.Duration
	// BackoffMin and BackoffMax bound the wait after a lost compare-and-set: after the n-th conflict
	// in a row the claim waits a random time in [d/2, d), d = min(BackoffMax, BackoffMin×2^(n-1)).
	// There is no attempt limit: each conflict means another generator claimed a block, so the
	// region progressed. Only the caller's ctx ends the retries.
	BackoffMin, BackoffMax time.Duration
	// Floor is the lowest sequence the generator may ever claim: a high-water mark learnt elsewhere
	// (a HighWater file, the root's record). A stored counter below Floor is moved up to Floor by the
	// claim's compare-and-set. A missing or deleted counter is recreated at Floor if Floor > 0, and
	// refused with ErrCounterDeleted if Floor is 0. Floor is at most MaxSeq+1 (a spent region).
	Floor uint64
	// Commit, if set, is called after a block [first, end) is claimed in KV and before any of its
	// IDs is handed out, with the block's end (the lowest sequence it did not claim). A node uses it
	// to raise a HighWater and to record the end at the root. If Commit fails, the block's sequences
	// are skipped, never handed out, and Next returns the error; the next call claims a new block.
	// Calls of one Generator never overlap and see increasing ends.
	Commit func(ctx context.Context, end uint64) error
	// Key is the counter's key in the bucket. Empty means SeqKey(region). Only tests and tools
	// that keep several counters for one region set it.
	Key string
	// Clock is the time source; nil means real time.
	Clock Clock
}

// DefaultGeneratorConfig returns the configuration for a region node.
func DefaultGeneratorConfig() GeneratorConfig {
	return GeneratorConfig{
		// One KV round trip per 65536 IDs for an idle or moderate generator. A crash wastes at most one
		// block, so it takes 2^32 crashes of small-block generators to use up the 48-bit space.
		Block: 1 << 16,
		// 16×Block: at 1 M IDs/s a node refills about once a second. A crash of a busy node wastes at
		// most 2^20 sequences, 2^28 crashes' worth of the 48-bit space.
		MaxBlock: 1 << 20,
		// A node claiming more than once a second is busy enough that doubling pays: it halves its KV
		// round trips and its share of conflicts. One idle for 4 s shrinks back, wasting less on a crash.
		Refill: time.Second,
		// About one KV round trip inside a region: the conflict means another node just won its claim,
		// so the counter is free again by then.
		BackoffMin: time.Millisecond,
		// Seven doublings of BackoffMin; with jitter, even dozens of generators colliding on one counter
		// spread out within this wait, and a refill never stalls longer than this per conflict.
		BackoffMax: 100 * time.Millisecond,
		Floor:      0,   // the node sets it from its HighWater file or the root's record
		Commit:     nil, // the node sets it to raise its HighWater
		Key:        "",  // SeqKey(region), the key every node of the region shares
		Clock:      nil, // real time
	}
}

// Validate reports the first field that cannot work, wrapping ErrBadConfig.
func (c GeneratorConfig) Validate() error {
	def := DefaultGeneratorConfig()
	switch {
	case c.Block == 0 || c.Block > MaxSeq:
		return fmt.Errorf("generator config: Block is %d, want 1 to %d (default %d): %w",
			c.Block, uint64(MaxSeq), def.Block, ErrBadConfig)
	case c.MaxBlock != 0 && (c.MaxBlock < c.Block || c.MaxBlock > MaxSeq):
		return fmt.Errorf("generator config: MaxBlock is %d, want 0 or Block (%d) to %d (default %d): %w",
			c.MaxBlock, c.Block, uint64(MaxSeq), def.MaxBlock, ErrBadConfig)
	case c.MaxBlock > c.Block && c.Refill <= 0:
		return fmt.Errorf("generator config: Refill is %v, want > 0 when MaxBlock > Block (default %v): %w",
			c.Refill, def.Refill, ErrBadConfig)
	case c.BackoffMin <= 0 || c.BackoffMax < c.BackoffMin:
		return fmt.Errorf("generator config: BackoffMin %v and BackoffMax %v, want 0 < BackoffMin <= BackoffMax "+
			"(default %v and %v): %w", c.BackoffMin, c.BackoffMax, def.BackoffMin, def.BackoffMax, ErrBadConfig)
	case c.Floor > MaxSeq+1:
		return fmt.Errorf("generator config: Floor is %d, want 0 to %d: %w", c.Floor, uint64(MaxSeq)+1, ErrBadConfig)
	case c.Key != "" && !validKVKey(c.Key):
		return fmt.Errorf("generator config: Key %q is not a KV key "+
			"(letters, digits, -/_=. and no empty tokens): %w", c.Key, ErrBadConfig)
	}
	return nil
}

// maxBlock returns MaxBlock, or Block if MaxBlock is 0.
func (c GeneratorConfig) maxBlock() uint64 { return max(c.MaxBlock, c.Block) }

// nextBlock returns the size of the claim that follows a block of size cur that lasted lasted, from
// its claim to the refill: twice cur if it lasted under Refill, half if over shrinkAfter×Refill,
// always within [Block, maxBlock].
func (c GeneratorConfig) nextBlock(cur uint64, lasted time.Duration) uint64 {
	hi := c.maxBlock()
	switch {
	case hi == c.Block:
		return c.Block
	case lasted < c.Refill:
		if cur > hi/2 {
			return hi
		}
		return max(2*cur, c.Block)
	case lasted > shrinkAfter*c.Refill:
		return min(max(cur/2, c.Block), hi)
	}
	return min(max(cur, c.Block), hi)
}

// backoff returns the wait after the n-th conflict in a row (n >= 1): r (in [0, 1)) of the way
// through [d/2, d), d = min(BackoffMax, BackoffMin×2^(n-1)).
func (c GeneratorConfig) backoff(n int, r float64) time.Duration {
	n = max(n, 1)
	d := c.BackoffMax
	if n-1 < 62 && c.BackoffMin <= c.BackoffMax>>(n-1) {
		d = c.BackoffMin << (n - 1)
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
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
