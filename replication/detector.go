package replication

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
	"unsafe"
)

// renormAfter is how many half-lives the detector lets pass before it rescales its counters to a
// new landmark: 2^64 keeps a float64 far from overflow and loses no precision worth having.
const renormAfter = 64

// Detector counts the lookups a region's clients make for records owned by other regions, with
// exponential decay, and says which records are read often enough to replicate.
//
// Memory is fixed by its config whatever the number of distinct keys: a count-min sketch (with
// conservative update) estimates any key's decayed count, never below the truth, and a min-heap
// of the TopK keys of highest estimate names the heavy hitters. A key outside the heap is
// forgotten by name, but its counts stay in the sketch, so it enters the heap as soon as its
// estimate beats the weakest heavy hitter.
//
// Decay costs nothing per call: a lookup at time t adds 2^((t-landmark)/HalfLife) and reads divide
// by the same factor at now; every 64 half-lives all counters are rescaled to a new landmark. Time
// never runs backwards for a Detector: a now before the latest one seen is taken as the latest.
//
// A Detector is safe for concurrent use; one mutex guards it.
type Detector struct {
	cfg  DetectorConfig
	hash hasher

	mu       sync.Mutex // guards the fields below
	counts   countMin   // scaled counts: one lookup at landmark counts 1
	top      topK       // scaled counts of the heavy hitters
	landmark time.Time
	latest   time.Time // the latest now seen
	started  bool      // landmark and latest are set
}

// Demand is one heavy hitter's decayed lookup count at the time it was asked for.
type Demand struct {
	Key Key
	// Count is the decayed lookup count, in the units of DetectorConfig.Threshold. It may exceed
	// the true count (never fall below it) by what colliding keys added.
	Count float64
	// Rate is the steady lookup rate, per second, that would settle at Count:
	// Count × ln 2 / HalfLife.
	Rate float64
}

// NewDetector returns an empty detector, or an error wrapping ErrConfig that says which field of
// cfg to change.
func NewDetector(cfg DetectorConfig) (*Detector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new detector: %w", err)
	}
	return &Detector{
		cfg:    cfg,
		hash:   newHasher(cfg.Seed),
		counts: newCountMin(cfg.Width, cfg.Depth),
		top:    newTopK(cfg.TopK),
	}, nil
}

// Observe counts one lookup of k at now. It returns k's decayed count including this lookup and
// whether that count is above the threshold.
func (d *Detector) Observe(k Key, now time.Time) (estimate float64, candidate bool) {
	h := d.hash.hash(k)
	d.mu.Lock()
	defer d.mu.Unlock()
	age := d.ageLocked(now)
	scaled := d.counts.add(h, math.Exp2(age))
	d.top.offer(k, scaled)
	estimate = scaled * math.Exp2(-age)
	return estimate, estimate > d.cfg.Threshold
}

// Estimate returns k's decayed lookup count at now, never below the true one.
func (d *Detector) Estimate(k Key, now time.Time) float64 {
	h := d.hash.hash(k)
	d.mu.Lock()
	defer d.mu.Unlock()
	age := d.ageLocked(now)
	return d.counts.estimate(h) * math.Exp2(-age)
}

// Top returns up to n heavy hitters at now, highest count first (ties by key).
func (d *Detector) Top(n int, now time.Time) []Demand {
	d.mu.Lock()
	decay := math.Exp2(-d.ageLocked(now))
	out := make([]Demand, 0, len(d.top.heap))
	for _, h := range d.top.heap {
		c := h.count * decay
		out = append(out, Demand{Key: h.key, Count: c, Rate: c * math.Ln2 / d.cfg.HalfLife.Seconds()})
	}
	d.mu.Unlock()
	slices.SortFunc(out, func(a, b Demand) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key.Kind, b.Key.Kind), cmp.Compare(a.Key.ID, b.Key.ID))
	})
	return out[:min(max(n, 0), len(out))]
}

// Candidates returns how many heavy hitters have a decayed count above the threshold at now.
func (d *Detector) Candidates(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	threshold := d.cfg.Threshold * math.Exp2(d.ageLocked(now)) // in scaled units
	n := 0
	for _, h := range d.top.heap {
		if h.count > threshold {
			n++
		}
	}
	return n
}

// MemoryBytes returns the memory the detector holds, which its config fixes whatever the keys
// observed: the sketch's counters (8 × Width × Depth) and, per heavy hitter, its record, heap slot
// and map slot. The map slot is an average, mapSlotBytes: the map is rebuilt as its slack grows
// (see churnMap), so a detector holds between about 0.8 and 1.3 times MemoryBytes (measured with the
// default config: 164 to 202 KB against 176 KB). The bytes of Kind strings are not counted.
func (d *Detector) MemoryBytes() int {
	perHitter := unsafe.Sizeof(hitter{}) + unsafe.Sizeof(&hitter{}) + mapSlotBytes
	return d.cfg.Width*d.cfg.Depth*8 + d.cfg.TopK*int(perHitter)
}

// mapSlotBytes is the average heap a map[Key]*hitter takes per entry between rebuilds: a slot
// (Key and pointer, 32 bytes, and a control byte) at a load between 1/4 and 7/8 (measured: 74 bytes
// just after a rebuild, 220 just before one).
const mapSlotBytes = 128

// ageLocked moves the detector's clock to now (never backwards) and returns how many half-lives
// now is past the landmark, rescaling every count to a new landmark once that exceeds renormAfter.
func (d *Detector) ageLocked(now time.Time) float64 {
	if !d.started {
		d.landmark, d.latest, d.started = now, now, true
	}
	if now.After(d.latest) {
		d.latest = now
	}
	age := float64(d.latest.Sub(d.landmark)) / float64(d.cfg.HalfLife)
	if age > renormAfter {
		f := math.Exp2(-age)
		d.counts.scale(f)
		d.top.scale(f)
		d.landmark, age = d.latest, 0
	}
	return age
}
