package linkemu

import (
	"errors"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", DefaultConfig(), true},
		{"wan", DefaultWANConfig(), true},
		{"jitter equals delay", Config{Delay: 5 * ms, Jitter: 5 * ms}, true},
		{"negative delay", Config{Delay: -ms}, false},
		{"negative jitter", Config{Delay: ms, Jitter: -ms}, false},
		{"jitter exceeds delay", Config{Delay: ms, Jitter: 2 * ms}, false},
		{"negative bandwidth", Config{Bandwidth: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate() = %v, want nil", err)
			}
			if !tt.ok && !errors.Is(err, ErrBadConfig) {
				t.Fatalf("Validate() = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestChunkAndBurstSize(t *testing.T) {
	tests := []struct{ bandwidth, chunk, burst int }{
		{0, maxChunk, maxChunk},               // unlimited: largest reads; the bucket is unused
		{100, minChunk, minChunk},             // tiny cap: still a useful read
		{2_000_000, 20_000, 100_000},          // 1/100 s per read, 1/20 s of credit
		{1_000_000_000, maxChunk, 50_000_000}, // fast cap: reads clamped
	}
	for _, tt := range tests {
		chunk, burst := chunkSize(tt.bandwidth), burstSize(tt.bandwidth)
		if chunk != tt.chunk || burst != tt.burst {
			t.Errorf("bandwidth %d: chunk %d, burst %d; want %d, %d", tt.bandwidth, chunk, burst, tt.chunk, tt.burst)
		}
		if chunk > burst {
			t.Errorf("bandwidth %d: chunk %d exceeds burst %d", tt.bandwidth, chunk, burst)
		}
	}
}

func TestReleaseAt(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name          string
		now, prev     time.Time
		delay, jitter time.Duration
		u             float64
		want          time.Time
	}{
		{"no delay", t0, time.Time{}, 0, 0, 0.3, t0},
		{"delay", t0, time.Time{}, 50 * ms, 0, 0.9, t0.Add(50 * ms)},
		{"jitter low end", t0, time.Time{}, 50 * ms, 10 * ms, 0, t0.Add(40 * ms)},
		{"jitter middle", t0, time.Time{}, 50 * ms, 10 * ms, 0.5, t0.Add(50 * ms)},
		{"jitter high end", t0, time.Time{}, 50 * ms, 10 * ms, 0.75, t0.Add(55 * ms)},
		{"never before prev", t0, t0.Add(58 * ms), 50 * ms, 10 * ms, 0, t0.Add(58 * ms)},
		{"delay lowered under a full line", t0, t0.Add(90 * ms), 5 * ms, 0, 0, t0.Add(90 * ms)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := releaseAt(tt.now, tt.prev, tt.delay, tt.jitter, tt.u); !got.Equal(tt.want) {
				t.Fatalf("releaseAt = %v after now, want %v", got.Sub(tt.now), tt.want.Sub(tt.now))
			}
		})
	}
}

// TestReleaseAtMonotonic checks the order rule against its bound on a long run of random reads:
// releases never go backwards and never exceed now + delay + jitter.
func TestReleaseAtMonotonic(t *testing.T) {
	const delay, jitter = 20 * time.Millisecond, 15 * time.Millisecond
	now, prev := time.Unix(1000, 0), time.Time{}
	for i := range 10_000 {
		now = now.Add(time.Duration(i%7) * 100 * time.Microsecond)
		u := float64((i*7919)%1000) / 1000
		r := releaseAt(now, prev, delay, jitter, u)
		if r.Before(prev) || r.After(now.Add(delay+jitter)) || r.Before(now.Add(delay-jitter)) {
			t.Fatalf("read %d: release %v, prev %v, now %v", i, r, prev, now)
		}
		prev = r
	}
}
