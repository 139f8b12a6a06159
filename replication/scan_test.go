package replication

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestStoreScanResistance warms a hot set, lets a long scan of keys admitted once go by, and
// checks that the hot set's hit ratio afterwards is within 10 % of what it was before. The scan
// is long enough to flush an LRU of the same size many times over.
func TestStoreScanResistance(t *testing.T) {
	const (
		capacity = 1000 // entries; bytes do not bind
		hot      = 500
		warmGets = 5 // reads per hot key before the scan
	)
	for _, c := range []struct {
		name        string
		scan        int // keys admitted once
		hotPerScan  int // hot reads between two scan keys, of hot keys drawn uniformly
		missFirst   bool
		seeds       uint64
		minDuringOK float64
	}{
		{name: "scan alone", scan: 10 * capacity, seeds: 5},
		{name: "scan read once before admission", scan: 5 * capacity, missFirst: true, seeds: 5},
		{name: "scan while the hot set is read", scan: 50 * capacity, hotPerScan: 1, seeds: 5, minDuringOK: 0.9},
	} {
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= c.seeds; seed++ {
				s, err := NewStore(StoreConfig{MaxBytes: 1 << 30, MaxEntries: capacity, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(seed, 9))
				now := t0
				hotKey := func(i int) Key { return Key{Kind: "hot", ID: key(uint64(i)).ID} }
				for i := range hot {
					s.Admit(hotKey(i), val(100), now)
				}
				for range warmGets {
					for i := range hot {
						s.Get(hotKey(i), now)
					}
				}
				before := hitRatio(s, hot, hotKey, now)

				during := [2]int{}
				for i := range c.scan {
					now = now.Add(time.Millisecond)
					k := Key{Kind: "scan", ID: key(uint64(i)).ID}
					if c.missFirst {
						s.Get(k, now)
					}
					if ok, _ := s.Admit(k, val(100), now); !ok {
						t.Fatalf("scan key %d refused", i)
					}
					for range c.hotPerScan {
						_, ok := s.Get(hotKey(r.IntN(hot)), now)
						during[0]++
						if ok {
							during[1]++
						}
					}
				}
				after := hitRatio(s, hot, hotKey, now)
				st := s.Stats()
				t.Logf("seed %d: hot hit ratio %.3f before, %.3f after, %d/%d during; %d evictions, %d rejected",
					seed, before, after, during[1], during[0], st.Evictions, st.Rejected)
				if after < before*0.9 {
					t.Errorf("seed %d: hot hit ratio fell from %.3f to %.3f", seed, before, after)
				}
				if st.Admitted < uint64(hot+c.scan) || st.Evictions < uint64(c.scan-capacity) {
					t.Errorf("seed %d: the scan did not go through the store: %+v", seed, st)
				}
				if during[0] > 0 {
					if ratio := float64(during[1]) / float64(during[0]); ratio < c.minDuringOK {
						t.Errorf("seed %d: hot hit ratio during the scan %.3f, want ≥ %.2f", seed, ratio, c.minDuringOK)
					}
				}
			}
		})
	}
}

// hitRatio reads every hot key once and returns the share found. The reads count like any other.
func hitRatio(s *Store, hot int, hotKey func(int) Key, now time.Time) float64 {
	hits := 0
	for i := range hot {
		if _, ok := s.Get(hotKey(i), now); ok {
			hits++
		}
	}
	return float64(hits) / float64(hot)
}

// TestStoreAdapts checks that the filter does not freeze the store: when the reads move to a new
// set of keys, which the caller admits after each miss as the node does, the new set replaces the
// old one within a few rounds.
func TestStoreAdapts(t *testing.T) {
	const capacity, hot = 1000, 800
	s := newTestStore(t, 1<<30, capacity)
	setKey := func(set string) func(int) Key {
		return func(i int) Key { return Key{Kind: set, ID: key(uint64(i)).ID} }
	}
	oldKey, newKey := setKey("old"), setKey("new")
	readRound := func(k func(int) Key) (hits int) {
		for i := range hot {
			if _, ok := s.Get(k(i), t0); ok {
				hits++
			} else {
				s.Admit(k(i), val(10), t0)
			}
		}
		return hits
	}
	for range 5 {
		readRound(oldKey)
	}
	var hits [6]int
	for round := range hits {
		hits[round] = readRound(newKey)
	}
	t.Logf("hits of the new set by round: %v of %d", hits, hot)
	if got := hitRatio(s, hot, newKey, t0); got < 0.9 {
		t.Errorf("new set's hit ratio after %d rounds = %.3f, want ≥ 0.9", len(hits), got)
	}
}
