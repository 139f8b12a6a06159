package replication

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func key(i uint64) Key { return Key{Kind: "users", ID: regions.NewID(7, i+1)} }

func newTestDetector(t testing.TB, edit func(*DetectorConfig)) *Detector {
	t.Helper()
	cfg := DefaultDetectorConfig()
	cfg.Seed = 1
	if edit != nil {
		edit(&cfg)
	}
	d, err := NewDetector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// zipfStream returns n lookups of keys 0..universe-1 drawn from Zipf(s=1.1), one a millisecond,
// and every key's exact decayed count at the end.
func zipfStream(seed uint64, n, universe int, halfLife time.Duration) (keys []uint64, end time.Time, exact map[uint64]float64) {
	r := rand.New(rand.NewPCG(seed, 0))
	z := rand.NewZipf(r, 1.1, 1, uint64(universe-1))
	keys = make([]uint64, n)
	for i := range keys {
		keys[i] = z.Uint64()
	}
	end = t0.Add(time.Duration(n-1) * time.Millisecond)
	exact = make(map[uint64]float64)
	for i, k := range keys {
		age := end.Sub(t0.Add(time.Duration(i) * time.Millisecond))
		exact[k] += math.Exp2(-float64(age) / float64(halfLife))
	}
	return keys, end, exact
}

// TestDetectorZipf checks the detector against exact decayed counts of skewed streams: it names
// at least 18 of the true top 20, never underestimates, and overestimates the top keys by no more
// than the count-min bound e/Width of the total.
func TestDetectorZipf(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		d := newTestDetector(t, func(c *DetectorConfig) { c.Seed = seed })
		keys, end, exact := zipfStream(seed, 300_000, 100_000, d.cfg.HalfLife)
		for i, k := range keys {
			d.Observe(key(k), t0.Add(time.Duration(i)*time.Millisecond))
		}

		byCount := make([]uint64, 0, len(exact))
		total := 0.0
		for k, c := range exact {
			byCount = append(byCount, k)
			total += c
		}
		slices.SortFunc(byCount, func(a, b uint64) int { return -compareFloat(exact[a], exact[b]) })

		top := d.Top(20, end)
		if len(top) != 20 {
			t.Fatalf("seed %d: Top(20) returned %d", seed, len(top))
		}
		named := make(map[Key]bool)
		for i, dm := range top {
			named[dm.Key] = true
			if i > 0 && dm.Count > top[i-1].Count {
				t.Errorf("seed %d: Top not sorted at %d", seed, i)
			}
		}
		found := 0
		for _, k := range byCount[:20] {
			if named[key(k)] {
				found++
			}
		}
		if found < 18 {
			t.Errorf("seed %d: Top(20) holds %d of the true top 20, want ≥ 18", seed, found)
		}

		bound := math.E / float64(d.cfg.Width) * total
		for rank, k := range byCount {
			est, want := d.Estimate(key(k), end), exact[k]
			if est < want*(1-1e-9)-1e-9 {
				t.Fatalf("seed %d: key of rank %d estimated %.6f below its true count %.6f", seed, rank, est, want)
			}
			if rank < 20 && est > want+bound {
				t.Errorf("seed %d: key of rank %d estimated %.3f, true %.3f, bound +%.3f", seed, rank, est, want, bound)
			}
		}
		t.Logf("seed %d: %d of top 20 found; %d keys; overestimate bound %.2f of total %.0f", seed, found, len(exact), bound, total)
	}
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// TestDetectorDecay checks that a count halves with every half-life, that the candidate flag and
// count follow the threshold, and that Rate is the steady rate behind Count.
func TestDetectorDecay(t *testing.T) {
	d := newTestDetector(t, func(c *DetectorConfig) { c.Threshold = 3 }) // HalfLife 60 s
	k := key(1)
	for i := range 8 {
		est, cand := d.Observe(k, t0)
		if want := float64(i + 1); est != want || cand != (want > 3) {
			t.Fatalf("Observe #%d = %v, %v; want %v, %v", i+1, est, cand, want, want > 3)
		}
	}
	for _, c := range []struct {
		after time.Duration
		want  float64
		cands int
	}{
		{0, 8, 1},
		{time.Minute, 4, 1},
		{2 * time.Minute, 2, 0},
		{5 * time.Minute, 0.25, 0},
	} {
		now := t0.Add(c.after)
		if got := d.Estimate(k, now); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Estimate after %v = %v, want %v", c.after, got, c.want)
		}
		if got := d.Candidates(now); got != c.cands {
			t.Errorf("Candidates after %v = %d, want %d", c.after, got, c.cands)
		}
		top := d.Top(5, now)
		if len(top) != 1 || top[0].Key != k || math.Abs(top[0].Count-c.want) > 1e-9 {
			t.Fatalf("Top after %v = %+v, want %v with count %v", c.after, top, k, c.want)
		}
		if want := c.want * math.Ln2 / 60; math.Abs(top[0].Rate-want) > 1e-12 {
			t.Errorf("Rate after %v = %v, want %v", c.after, top[0].Rate, want)
		}
	}
}

// TestDetectorLongRun checks that counts survive the rescaling to a new landmark, that a count
// from long ago vanishes without overflow, and that time does not run backwards.
func TestDetectorLongRun(t *testing.T) {
	d := newTestDetector(t, func(c *DetectorConfig) { c.HalfLife = time.Second })
	a, b := key(1), key(2)
	d.Observe(a, t0)
	now := t0
	for i := range 300 { // 300 half-lives, four rescalings, b seen every half-life
		now = t0.Add(time.Duration(i+1) * time.Second)
		d.Observe(b, now)
	}
	if got := d.Estimate(b, now); math.Abs(got-2) > 1e-6 { // 1 + 1/2 + 1/4 + … → 2
		t.Errorf("steady key = %v, want 2", got)
	}
	if got := d.Estimate(a, now); got > 1e-80 {
		t.Errorf("key seen 300 half-lives ago = %v, want ~0", got)
	}
	later := now.Add(1_000_000 * time.Second)
	if got := d.Estimate(b, later); got != 0 || math.IsNaN(got) {
		t.Errorf("after 1e6 half-lives = %v, want 0", got)
	}
	if est, _ := d.Observe(a, t0); est != 1 { // t0 is in the past: counted as at later
		t.Errorf("Observe in the past = %v, want 1", est)
	}
	if got := d.Estimate(a, t0); got != 1 {
		t.Errorf("Estimate in the past = %v, want 1 (as at the latest time seen)", got)
	}
}

// TestDetectorMemoryConstant observes 1e3 and 1e6 distinct keys: the heap the detector holds
// afterwards is the same, and the heavy-hitter table never grows past TopK.
func TestDetectorMemoryConstant(t *testing.T) {
	// held returns the heap that only the detector keeps alive: with it, less without it.
	held := func(distinct int) (uint64, int) {
		d := newTestDetector(t, nil)
		for i := range distinct {
			d.Observe(key(uint64(i)), t0.Add(time.Duration(i)*time.Microsecond))
		}
		if n := d.top.byKey.len(); n > d.cfg.TopK || len(d.top.heap) > d.cfg.TopK {
			t.Fatalf("%d keys: heavy-hitter table holds %d/%d, TopK %d", distinct, n, len(d.top.heap), d.cfg.TopK)
		}
		mem := d.MemoryBytes()
		var with, without runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&with)
		runtime.KeepAlive(d)
		d = nil
		runtime.GC()
		runtime.ReadMemStats(&without)
		return with.HeapAlloc - without.HeapAlloc, mem
	}
	small, memSmall := held(1_000)
	large, memLarge := held(1_000_000)
	if memSmall != memLarge {
		t.Errorf("MemoryBytes %d vs %d", memSmall, memLarge)
	}
	t.Logf("heap held: %d bytes after 1e3 keys, %d after 1e6; MemoryBytes %d", small, large, memLarge)
	for _, h := range []uint64{small, large} {
		if float64(h) < 0.75*float64(memLarge) || float64(h) > 1.5*float64(memLarge) {
			t.Errorf("heap held %d, want within 0.75..1.5 × MemoryBytes %d", h, memLarge)
		}
	}
	if diff := math.Abs(float64(large) - float64(small)); diff > 0.25*float64(memLarge) {
		t.Errorf("1e6 keys hold %d bytes, 1e3 keys %d: differ by more than a quarter of MemoryBytes", large, small)
	}
}

func TestDetectorConcurrent(t *testing.T) {
	d := newTestDetector(t, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				now := t0.Add(time.Duration(i) * time.Millisecond)
				d.Observe(key(uint64(i%50)), now)
				if i%100 == g {
					d.Top(10, now)
					d.Candidates(now)
				}
			}
		})
	}
	wg.Wait()
	if got := d.Estimate(key(0), t0.Add(1999*time.Millisecond)); got < 8*40*0.97 {
		t.Errorf("estimate %v, want ≥ %v (320 lookups within 2 s, half-life 60 s)", got, 8*40*0.97)
	}
}

func TestDetectorConfigErrors(t *testing.T) {
	for _, c := range []struct {
		field string
		edit  func(*DetectorConfig)
	}{
		{"Width", func(c *DetectorConfig) { c.Width = 0 }},
		{"Width", func(c *DetectorConfig) { c.Width = 1 << 30 }},
		{"Depth", func(c *DetectorConfig) { c.Depth = 0 }},
		{"Depth", func(c *DetectorConfig) { c.Depth = 100 }},
		{"TopK", func(c *DetectorConfig) { c.TopK = -1 }},
		{"HalfLife", func(c *DetectorConfig) { c.HalfLife = 0 }},
		{"Threshold", func(c *DetectorConfig) { c.Threshold = 0 }},
		{"Threshold", func(c *DetectorConfig) { c.Threshold = math.NaN() }},
		{"Threshold", func(c *DetectorConfig) { c.Threshold = math.Inf(1) }},
	} {
		cfg := DefaultDetectorConfig()
		c.edit(&cfg)
		d, err := NewDetector(cfg)
		if d != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: got %v, %v; want an ErrConfig naming %s", cfg, d, err, c.field)
		}
	}
	if _, err := NewDetector(DefaultDetectorConfig()); err != nil {
		t.Errorf("default config: %v", err)
	}
}
