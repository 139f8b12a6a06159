package replication

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestLagQuantiles(t *testing.T) {
	l := NewLag(1000)
	if l.Quantile(0.5) != 0 || l.Count() != 0 {
		t.Fatal("an empty Lag is not zero")
	}
	for i := 100; i >= 1; i-- { // 1..100 ms, out of order
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{
		{0, 1 * time.Millisecond},
		{0.01, 1 * time.Millisecond},
		{0.07, 7 * time.Millisecond},
		{0.5, 50 * time.Millisecond},
		{0.505, 51 * time.Millisecond},
		{0.99, 99 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 100 * time.Millisecond},
		{-1, 1 * time.Millisecond},
		{math.NaN(), 1 * time.Millisecond},
	} {
		if got := l.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if l.Count() != 100 {
		t.Errorf("Count = %d, want 100", l.Count())
	}
}

// TestLagWindow checks that only the last n samples count, and that a negative lag counts as 0.
func TestLagWindow(t *testing.T) {
	l := NewLag(10)
	for range 50 {
		l.Add(time.Hour) // old: pushed out below
	}
	for i := 1; i <= 10; i++ {
		l.Add(time.Duration(i) * time.Second)
	}
	if got := l.Quantile(1); got != 10*time.Second {
		t.Errorf("max = %v, want 10s: old samples still counted", got)
	}
	if got := l.Quantile(0.5); got != 5*time.Second {
		t.Errorf("p50 = %v, want 5s", got)
	}
	l.Add(-time.Second)
	if got := l.Quantile(0); got != 0 {
		t.Errorf("min = %v, want 0 for a negative sample", got)
	}
	if l.Count() != 61 {
		t.Errorf("Count = %d, want 61", l.Count())
	}
	if d := NewLag(0); cap(d.samples) != DefaultLagSamples {
		t.Errorf("NewLag(0) keeps %d samples, want %d", cap(d.samples), DefaultLagSamples)
	}
}

func TestLagConcurrent(t *testing.T) {
	l := NewLag(64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 1000 {
				l.Add(time.Duration(i))
				if i%50 == 0 {
					l.Quantile(0.99)
				}
			}
		})
	}
	wg.Wait()
	if l.Count() != 4000 {
		t.Errorf("Count = %d, want 4000", l.Count())
	}
}
