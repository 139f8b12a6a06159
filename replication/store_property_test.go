package replication

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestStoreBudgetProperty drives stores of random budgets with random Admits, Updates, Deletes
// and Gets, values from empty to larger than the whole budget, and checks after every operation
// that both budgets hold, that Stats agree with the contents, that the segments are consistent,
// and that the contents are exactly what a model map says: the model drops only the keys the
// store reported evicted or deleted, so a key removed silently would show.
func TestStoreBudgetProperty(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		maxBytes := int64(EntryOverhead + r.IntN(8000))
		maxEntries := 1 + r.IntN(40)
		s, err := NewStore(StoreConfig{MaxBytes: maxBytes, MaxEntries: maxEntries, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		model := make(map[Key][]byte)
		keys := 1 + r.IntN(120)
		now := t0
		for op := range 1500 {
			now = now.Add(time.Millisecond)
			k := key(uint64(r.IntN(keys)))
			v := randomValue(r, maxBytes, op)
			what := ""
			switch p := r.IntN(100); {
			case p < 35:
				what = "Admit"
				ok, evicted := s.Admit(k, v, now)
				applyEvicted(t, s, model, evicted)
				_, was := model[k]
				if ok != (cost(v) <= maxBytes) {
					t.Fatalf("seed %d op %d: Admit(%v, %d bytes) = %v", seed, op, k, len(v), ok)
				}
				if ok {
					model[k] = v
				} else if was && s.Has(k) {
					t.Fatalf("seed %d op %d: held key re-admitted with a value too large is still held", seed, op)
				}
			case p < 55:
				what = "Update"
				_, was := model[k]
				held, evicted := s.Update(k, v, now)
				applyEvicted(t, s, model, evicted)
				if held != (was && cost(v) <= maxBytes) {
					t.Fatalf("seed %d op %d: Update(%v, %d bytes) held=%v, was held %v", seed, op, k, len(v), held, was)
				}
				if held {
					model[k] = v
				}
			case p < 65:
				what = "Delete"
				_, was := model[k]
				if got := s.Delete(k); got != was {
					t.Fatalf("seed %d op %d: Delete(%v) = %v, model says %v", seed, op, k, got, was)
				}
				delete(model, k)
			default:
				what = "Get"
				e, ok := s.Get(k, now)
				want, was := model[k]
				if ok != was || !bytes.Equal(e.Value, want) {
					t.Fatalf("seed %d op %d: Get(%v) = %d bytes, %v; model has %d bytes, %v", seed, op, k, len(e.Value), ok, len(want), was)
				}
			}
			if err := checkStore(s, model); err != nil {
				t.Fatalf("seed %d (MaxBytes %d, MaxEntries %d) after op %d (%s %v, %d bytes): %v",
					seed, maxBytes, maxEntries, op, what, k, len(v), err)
			}
		}
	}
}

// randomValue returns a value of random length: mostly below the per-entry share of the budget,
// sometimes up to the whole budget, and now and then larger than it.
func randomValue(r *rand.Rand, maxBytes int64, op int) []byte {
	var n int64
	switch p := r.IntN(100); {
	case p < 70:
		n = r.Int64N(maxBytes/4 + 1)
	case p < 95:
		n = r.Int64N(maxBytes + 1)
	default:
		n = maxBytes + r.Int64N(maxBytes)
	}
	v := make([]byte, n)
	if n > 0 {
		v[0] = byte(op) // tells values apart
	}
	return v
}

// applyEvicted checks that every key reported evicted is gone and drops it from the model.
func applyEvicted(t *testing.T, s *Store, model map[Key][]byte, evicted []Key) {
	t.Helper()
	for _, k := range evicted {
		if _, ok := model[k]; !ok {
			t.Fatalf("evicted %v, which was not held", k)
		}
		if s.Has(k) {
			t.Fatalf("evicted %v is still held", k)
		}
		delete(model, k)
	}
}

// checkStore checks the budgets, the Stats, the segments and the contents against model.
func checkStore(s *Store, model map[Key][]byte) error {
	st := s.Stats()
	if st.Bytes > st.MaxBytes || st.Entries > st.MaxEntries {
		return fmt.Errorf("over budget: %d/%d bytes, %d/%d entries", st.Bytes, st.MaxBytes, st.Entries, st.MaxEntries)
	}
	var wantBytes int64
	for _, v := range model {
		wantBytes += cost(v)
	}
	if st.Bytes != wantBytes || st.Entries != len(model) {
		return fmt.Errorf("Stats say %d bytes in %d entries, model %d in %d", st.Bytes, st.Entries, wantBytes, len(model))
	}
	keys := s.Keys()
	if len(keys) != len(model) {
		return fmt.Errorf("Keys lists %d, model holds %d", len(keys), len(model))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := 0
	for _, l := range []*list{&s.window, &s.probation, &s.protected} {
		n, b := 0, int64(0)
		for e := l.root.next; e != &l.root; e = e.next {
			if e.seg != l.seg || e.next.prev != e || s.items.m[e.key] != e {
				return fmt.Errorf("entry %v is misfiled in segment %d", e.key, l.seg)
			}
			if want, ok := model[e.key]; !ok || !bytes.Equal(want, e.value) {
				return fmt.Errorf("entry %v holds %d bytes; model has %d, %v", e.key, len(e.value), len(want), ok)
			}
			n, b = n+1, b+e.cost()
		}
		if n != l.len || b != l.bytes {
			return fmt.Errorf("segment %d counts %d entries, %d bytes; holds %d, %d", l.seg, l.len, l.bytes, n, b)
		}
		seen += n
	}
	if seen != s.items.len() {
		return fmt.Errorf("segments hold %d entries, map %d", seen, s.items.len())
	}
	return nil
}
