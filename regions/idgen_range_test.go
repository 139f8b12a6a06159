package regions

import (
	"strconv"
	"testing"
	"time"
)

func TestGeneratorNextRange(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	const r RegionID = 0x40
	g := newGenerator(t, kv, r, 10)
	for i, step := range []struct {
		max, first, n uint64
	}{
		{0, 0, 0},     // asks for nothing, claims nothing
		{5, 1, 5},     // the first block is [1, 11)
		{10, 6, 5},    // only the rest of the block
		{3, 11, 3},    // a new block [11, 21)
		{1, 14, 1},    //
		{100, 15, 6},  // never more than the block holds
		{100, 21, 10}, // a whole new block, no more
	} {
		first, n, err := g.NextRange(t.Context(), step.max)
		want := NewID(r, step.first)
		if step.n == 0 {
			want = 0
		}
		if err != nil || first != want || n != step.n {
			t.Fatalf("step %d: NextRange(%d) = %s, %d, %v; want %s, %d", i, step.max, first, n, err, want, step.n)
		}
	}
	if id, err := g.Next(t.Context()); err != nil || id != NewID(r, 31) {
		t.Fatalf("Next after the ranges = %s, %v; want %s", id, err, NewID(r, 31))
	}
	if st := g.Stats(); st.Blocks != 4 {
		t.Errorf("Stats = %+v, want 4 blocks", st)
	}
	if first, n, err := g.NextRange(t.Context(), 1<<64-1); err != nil || first != NewID(r, 32) || n != 9 {
		t.Fatalf("NextRange(MaxUint64) = %s, %d, %v; want %s, 9", first, n, err, NewID(r, 32))
	}
}

// TestGeneratorAdaptsBlock drives the block size with a fake clock: blocks used up at once double
// up to MaxBlock, blocks that last between Refill and 4×Refill keep their size, and blocks that last
// longer halve down to Block.
func TestGeneratorAdaptsBlock(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	const r RegionID = 0x41
	clock := newFakeClock()
	cfg := DefaultGeneratorConfig()
	cfg.Block, cfg.MaxBlock, cfg.Refill, cfg.Clock = 4, 32, time.Second, clock
	g := newGeneratorConfig(t, kv, r, cfg)
	next := uint64(1)
	for i, step := range []struct {
		lasted time.Duration // how long the previous block lasted
		size   uint64
	}{
		{0, 4}, // the first claim
		{0, 8},
		{time.Second / 2, 16},
		{0, 32},
		{0, 32}, // MaxBlock
		{2 * time.Second, 32},
		{4 * time.Second, 32},
		{5 * time.Second, 16},
		{time.Minute, 8},
		{time.Minute, 4},
		{time.Minute, 4}, // Block
		{0, 8},
	} {
		clock.Advance(step.lasted)
		first, n, err := g.NextRange(t.Context(), 1000) // takes the whole block at once
		if err != nil || first != NewID(r, next) || n != step.size {
			t.Fatalf("step %d: NextRange = %s, %d, %v; want %s, %d", i, first, n, err, NewID(r, next), step.size)
		}
		if st := g.Stats(); st.BlockSize != step.size {
			t.Errorf("step %d: Stats.BlockSize = %d, want %d", i, st.BlockSize, step.size)
		}
		next += n
	}
	if got, want := counter(t, kv, r), next; got != strconv.FormatUint(want, 10) {
		t.Errorf("counter = %s, want %d", got, want)
	}
}

// TestGeneratorBackoff checks the waits between lost compare-and-sets: exponential from BackoffMin,
// capped at BackoffMax, each jittered within [d/2, d).
func TestGeneratorBackoff(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	clock := newFakeClock()
	cfg := fixedBlock(10)
	cfg.BackoffMin, cfg.BackoffMax, cfg.Clock = time.Millisecond, 8*time.Millisecond, clock
	g := newGeneratorConfig(t, &racingKV{KeyValue: kv, races: 6, value: "77"}, 0x42, cfg)
	if id, err := g.Next(t.Context()); err != nil || id != NewID(0x42, 77) {
		t.Fatalf("Next after 6 conflicts = %s, %v; want %s", id, err, NewID(0x42, 77))
	}
	waits := clock.Waits()
	caps := []time.Duration{1, 2, 4, 8, 8, 8}
	if len(waits) != len(caps) {
		t.Fatalf("waits = %v, want %d of them", waits, len(caps))
	}
	for i, w := range waits {
		d := caps[i] * time.Millisecond
		if w < d/2 || w >= d {
			t.Errorf("wait %d = %v, want in [%v, %v)", i+1, w, d/2, d)
		}
	}
	if st := g.Stats(); st.Conflicts != 6 || st.Blocks != 1 {
		t.Errorf("Stats = %+v, want 6 conflicts, 1 block", st)
	}
}
