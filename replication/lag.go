package replication

import (
	"math"
	"slices"
	"sync"
	"time"
)

// DefaultLagSamples is the window NewLag uses for n ≤ 0: p99 over 1024 samples rests on ten of them.
const DefaultLagSamples = 1024

// Lag keeps the last n replica lag samples (owner commit to replica apply) and answers quantiles
// over them. Memory is fixed by n. A Lag is safe for concurrent use.
type Lag struct {
	mu      sync.Mutex      // guards the fields below
	samples []time.Duration // ring of the last len(samples) samples once full
	next    int             // where the next sample goes
	count   uint64          // samples ever added
}

// NewLag returns a Lag over the last n samples (DefaultLagSamples if n ≤ 0).
func NewLag(n int) *Lag {
	if n <= 0 {
		n = DefaultLagSamples
	}
	return &Lag{samples: make([]time.Duration, 0, n)}
}

// Add records one sample. A negative lag (the owner's clock is ahead of ours) counts as 0.
func (l *Lag) Add(d time.Duration) {
	d = max(d, 0)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) < cap(l.samples) {
		l.samples = append(l.samples, d)
	} else {
		l.samples[l.next] = d
	}
	l.next = (l.next + 1) % cap(l.samples)
	l.count++
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1, clamped) of the samples held, by nearest rank: the
// least sample that at least q of the samples do not exceed. It returns 0 when there is none.
func (l *Lag) Quantile(q float64) time.Duration {
	l.mu.Lock()
	sorted := slices.Clone(l.samples)
	l.mu.Unlock()
	if len(sorted) == 0 {
		return 0
	}
	slices.Sort(sorted)
	if math.IsNaN(q) {
		q = 0
	}
	q = min(max(q, 0), 1)
	// ceil(q·n), less a hair so that 0.07 × 100 = 7.000000000000001 is rank 7.
	rank := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Count returns how many samples were ever added, including those the window has dropped.
func (l *Lag) Count() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.count
}
