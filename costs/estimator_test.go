package costs

import (
	"errors"
	"testing"
	"time"
)

// measureEpoch is the local clock's start in the tests; any non-zero time works.
var measureEpoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// stampsFor builds the stamps of one exchange that leaves at t1 on the local clock, takes out one
// way and back the other, is held proc by a peer whose clock is skew ahead of ours.
func stampsFor(t1 time.Time, skew, out, back, proc time.Duration) Stamps {
	t2 := t1.Add(out + skew)
	t3 := t2.Add(proc)
	return Stamps{T1: t1, T2: t2, T3: t3, T4: t3.Add(back - skew)}
}

func measureConfig(t testing.TB) *Config {
	t.Helper()
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

func TestEstimatorSkew(t *testing.T) {
	for _, skew := range []time.Duration{-200 * time.Millisecond, 0, 200 * time.Millisecond} {
		e := NewEstimator(measureConfig(t))
		now := measureEpoch
		// Symmetric 40 ms paths plus queueing on some samples; 3 ms of peer processing.
		for i, q := range []time.Duration{9, 0, 25, 3, 0, 14} {
			q *= time.Millisecond
			s := stampsFor(now, skew, 20*time.Millisecond+q, 20*time.Millisecond, 3*time.Millisecond)
			now = s.T4
			if err := e.Add(s, now); err != nil {
				t.Fatalf("skew %v sample %d: %v", skew, i, err)
			}
		}
		rtt, ok := e.RTT(now)
		if !ok || rtt != 40*time.Millisecond {
			t.Errorf("skew %v: RTT = %v, %v; want 40ms", skew, rtt, ok)
		}
		off, ok := e.Offset(now)
		if d := off - skew; !ok || d > time.Millisecond || d < -time.Millisecond {
			t.Errorf("skew %v: Offset = %v, %v; want within 1ms of the skew", skew, off, ok)
		}
	}
}

// With asymmetric paths the offset is wrong by exactly half the asymmetry; nothing can tell the
// two apart from four timestamps.
func TestEstimatorAsymmetry(t *testing.T) {
	for _, tc := range []struct{ out, back, skew time.Duration }{
		{30 * time.Millisecond, 10 * time.Millisecond, 0},
		{10 * time.Millisecond, 30 * time.Millisecond, 0},
		{70 * time.Millisecond, 12 * time.Millisecond, 150 * time.Millisecond},
		{5 * time.Millisecond, 95 * time.Millisecond, -80 * time.Millisecond},
	} {
		e := NewEstimator(measureConfig(t))
		s := stampsFor(measureEpoch, tc.skew, tc.out, tc.back, time.Millisecond)
		if err := e.Add(s, s.T4); err != nil {
			t.Fatal(err)
		}
		off, _ := e.Offset(s.T4)
		rtt, _ := e.RTT(s.T4)
		if want := tc.skew + (tc.out-tc.back)/2; off != want {
			t.Errorf("%+v: Offset = %v, want skew + (out-back)/2 = %v", tc, off, want)
		}
		if rtt != tc.out+tc.back {
			t.Errorf("%+v: RTT = %v, want %v", tc, rtt, tc.out+tc.back)
		}
	}
}

func TestEstimatorOutliers(t *testing.T) {
	cfg := measureConfig(t)
	e := NewEstimator(cfg)
	now := measureEpoch
	add := func(rtt time.Duration) {
		t.Helper()
		s := stampsFor(now, 0, rtt/2, rtt/2, 0)
		if err := e.Add(s, s.T4); err != nil {
			t.Fatal(err)
		}
		now = s.T4
	}
	// One sample per second; every third waits 400 ms in a queue.
	for i := range 40 {
		rtt := 50 * time.Millisecond
		if i%3 == 0 {
			rtt += 400 * time.Millisecond
		}
		add(rtt)
		now = now.Add(time.Second)
		if got, _ := e.RTT(now); got != 50*time.Millisecond && i > 0 {
			t.Fatalf("sample %d: RTT = %v, spikes must not raise it", i, got)
		}
	}
	if e.Samples() != cfg.Window {
		t.Errorf("Samples = %d, want the window %d", e.Samples(), cfg.Window)
	}
}

// A permanent rise is followed once the last low sample is older than SampleTTL, even when the
// window is long enough to hold it.
func TestEstimatorRise(t *testing.T) {
	cfg := measureConfig(t)
	cfg.Window = 100
	e := NewEstimator(cfg)
	now := measureEpoch
	var lastLow time.Time
	for i := range 20 {
		rtt := 50 * time.Millisecond
		if i >= 10 {
			rtt = 80 * time.Millisecond
		}
		s := stampsFor(now, 0, rtt/2, rtt/2, 0)
		if err := e.Add(s, s.T4); err != nil {
			t.Fatal(err)
		}
		if i == 9 {
			lastLow = s.T4
		}
		now = s.T4.Add(5 * time.Second)
		got, _ := e.RTT(now)
		want := 50 * time.Millisecond
		if now.Sub(lastLow) > cfg.SampleTTL && i >= 10 {
			want = 80 * time.Millisecond
		}
		if got != want {
			t.Fatalf("sample %d, %v after the last low one: RTT = %v, want %v", i, now.Sub(lastLow), got, want)
		}
	}
	if _, ok := e.RTT(now.Add(cfg.SampleTTL + time.Second)); ok {
		t.Error("RTT reported after every sample expired")
	}
}

// A sample is live up to and including SampleTTL after it was added.
func TestEstimatorTTLEdge(t *testing.T) {
	cfg := measureConfig(t)
	e := NewEstimator(cfg)
	s := stampsFor(measureEpoch, 0, 10*time.Millisecond, 10*time.Millisecond, 0)
	if err := e.Add(s, s.T4); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.RTT(s.T4.Add(cfg.SampleTTL)); !ok {
		t.Error("sample expired at exactly SampleTTL")
	}
	if _, ok := e.RTT(s.T4.Add(cfg.SampleTTL + 1)); ok {
		t.Error("sample live after SampleTTL")
	}
}

func TestEstimatorRejects(t *testing.T) {
	cfg := measureConfig(t)
	good := stampsFor(measureEpoch, 0, 20*time.Millisecond, 20*time.Millisecond, 2*time.Millisecond)
	for _, tc := range []struct {
		name string
		edit func(*Stamps)
	}{
		{"zero T1", func(s *Stamps) { s.T1 = time.Time{} }},
		{"zero T2", func(s *Stamps) { s.T2 = time.Time{} }},
		{"zero T3", func(s *Stamps) { s.T3 = time.Time{} }},
		{"zero T4", func(s *Stamps) { s.T4 = time.Time{} }},
		{"T4 before T1", func(s *Stamps) { s.T4 = s.T1.Add(-time.Millisecond) }},
		{"T3 before T2", func(s *Stamps) { s.T3 = s.T2.Add(-time.Millisecond) }},
		{"zero delay", func(s *Stamps) { s.T3 = s.T2.Add(s.T4.Sub(s.T1)) }},
		{"negative delay", func(s *Stamps) { s.T3 = s.T2.Add(s.T4.Sub(s.T1) + time.Millisecond) }},
		{"above MaxRTT", func(s *Stamps) { s.T4 = s.T1.Add(cfg.MaxRTT + s.T3.Sub(s.T2) + 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEstimator(cfg)
			s := good
			tc.edit(&s)
			err := e.Add(s, measureEpoch.Add(time.Second))
			if !errors.Is(err, ErrImpossible) {
				t.Fatalf("Add = %v, want ErrImpossible", err)
			}
			t.Log(err)
			if e.Samples() != 0 {
				t.Errorf("rejected sample kept")
			}
		})
	}
	e := NewEstimator(cfg)
	edge := good
	edge.T4 = edge.T1.Add(cfg.MaxRTT + edge.T3.Sub(edge.T2))
	if err := e.Add(edge, edge.T4); err != nil {
		t.Errorf("delay of exactly MaxRTT rejected: %v", err)
	}
}

// FuzzEstimatorAdd feeds arbitrary stamps: Add must not panic, and whatever it accepts must have a
// delay in (0, MaxRTT].
func FuzzEstimatorAdd(f *testing.F) {
	f.Add(int64(0), int64(20e6), int64(22e6), int64(42e6))
	f.Add(int64(0), int64(-5e9), int64(5e9), int64(1))
	f.Fuzz(func(t *testing.T, t1, t2, t3, t4 int64) {
		cfg := measureConfig(t)
		e := NewEstimator(cfg)
		s := Stamps{T1: measureEpoch.Add(time.Duration(t1)), T2: measureEpoch.Add(time.Duration(t2)),
			T3: measureEpoch.Add(time.Duration(t3)), T4: measureEpoch.Add(time.Duration(t4))}
		if err := e.Add(s, s.T4); err != nil {
			return
		}
		rtt, ok := e.RTT(s.T4)
		if !ok || rtt <= 0 || rtt > cfg.MaxRTT {
			t.Fatalf("accepted %+v with RTT %v, %v", s, rtt, ok)
		}
	})
}
