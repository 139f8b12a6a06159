package regions

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when told to. After records the wait and fires at once, so
// a test sees every backoff without spending it.
type fakeClock struct {
	mu    sync.Mutex // guards now, waits
	now   time.Time
	waits []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

func TestNextBlock(t *testing.T) {
	cfg := DefaultGeneratorConfig()
	cfg.Block, cfg.MaxBlock, cfg.Refill = 16, 100, time.Second
	for _, tc := range []struct {
		name   string
		cur    uint64
		lasted time.Duration
		want   uint64
	}{
		{"used up fast doubles", 16, 10 * time.Millisecond, 32},
		{"doubling stops at MaxBlock", 64, 0, 100},
		{"at MaxBlock stays", 100, 0, 100},
		{"just under Refill doubles", 32, time.Second - 1, 64},
		{"at Refill keeps", 32, time.Second, 32},
		{"between Refill and 4×Refill keeps", 32, 3 * time.Second, 32},
		{"at 4×Refill keeps", 32, 4 * time.Second, 32},
		{"rare refills halve", 32, 4*time.Second + 1, 16},
		{"halving stops at Block", 16, time.Hour, 16},
		{"odd size halves down, not below Block", 25, time.Hour, 16},
		{"from MaxBlock halves", 100, time.Hour, 50},
		{"a clock stepping back counts as fast", 16, -time.Hour, 32},
	} {
		if got := cfg.nextBlock(tc.cur, tc.lasted); got != tc.want {
			t.Errorf("%s: nextBlock(%d, %v) = %d, want %d", tc.name, tc.cur, tc.lasted, got, tc.want)
		}
	}

	fixed := cfg
	fixed.MaxBlock = 0
	for _, lasted := range []time.Duration{0, time.Hour} {
		if got := fixed.nextBlock(16, lasted); got != 16 {
			t.Errorf("MaxBlock 0: nextBlock(16, %v) = %d, want 16 (fixed)", lasted, got)
		}
	}

	// A steady rate never flaps: from any size, the size a steady rate settles at stays put.
	for _, rate := range []float64{1, 10, 20, 33, 64, 99, 1000} { // sequences per second
		size := cfg.Block
		for range 20 {
			size = cfg.nextBlock(size, time.Duration(float64(size)/rate*float64(time.Second)))
		}
		if next := cfg.nextBlock(size, time.Duration(float64(size)/rate*float64(time.Second))); next != size {
			t.Errorf("rate %v/s: size %d moves on to %d, want a fixed point", rate, size, next)
		}
	}
}

func TestBackoff(t *testing.T) {
	cfg := DefaultGeneratorConfig()
	cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, 100*time.Millisecond
	for n := 1; n <= 100; n++ {
		d := cfg.BackoffMax
		if n <= 8 {
			d = min(cfg.BackoffMax, cfg.BackoffMin<<(n-1))
		}
		for _, r := range []float64{0, 0.5, 0.999999} {
			got := cfg.backoff(n, r)
			if got < d/2 || got >= d {
				t.Errorf("backoff(%d, %v) = %v, want in [%v, %v)", n, r, got, d/2, d)
			}
		}
	}
	if got := cfg.backoff(0, 0); got != cfg.BackoffMin/2 {
		t.Errorf("backoff(0, 0) = %v, want %v (as n = 1)", got, cfg.BackoffMin/2)
	}
	huge := cfg
	huge.BackoffMin, huge.BackoffMax = time.Microsecond, time.Duration(1<<63-1)
	for n := 1; n < 200; n++ {
		if got := huge.backoff(n, 0.5); got <= 0 {
			t.Fatalf("backoff(%d) with BackoffMax %v = %v, want > 0 (overflow)", n, huge.BackoffMax, got)
		}
	}
}
