package replication

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestStore(t testing.TB, maxBytes int64, maxEntries int) *Store {
	t.Helper()
	s, err := NewStore(StoreConfig{MaxBytes: maxBytes, MaxEntries: maxEntries, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func val(n int) []byte { return make([]byte, n) }

func TestStoreBasics(t *testing.T) {
	s := newTestStore(t, 10*(100+EntryOverhead), 100)
	a, b := key(1), key(2)

	if _, ok := s.Get(a, t0); ok {
		t.Fatal("Get of an empty store found a key")
	}
	if held, ev := s.Update(a, val(1), t0); held || ev != nil {
		t.Fatalf("Update of a key not held = %v, %v", held, ev)
	}
	if ok, ev := s.Admit(a, []byte("v1"), t0); !ok || ev != nil {
		t.Fatalf("Admit = %v, %v", ok, ev)
	}
	if !s.Has(a) || s.Has(b) {
		t.Fatal("Has is wrong after Admit")
	}
	later := t0.Add(time.Second)
	if held, ev := s.Update(a, []byte("v2"), later); !held || ev != nil {
		t.Fatalf("Update = %v, %v", held, ev)
	}
	for i := 1; i <= 2; i++ {
		e, ok := s.Get(a, later)
		if !ok || string(e.Value) != "v2" || !e.Stored.Equal(t0) || !e.Updated.Equal(later) || e.Hits != uint64(i) {
			t.Fatalf("Get #%d = %+v, %v", i, e, ok)
		}
	}
	if got := s.Keys(); !slices.Equal(got, []Key{a}) {
		t.Errorf("Keys = %v", got)
	}
	if !s.Delete(a) || s.Delete(a) || s.Has(a) {
		t.Error("Delete is wrong")
	}
	want := StoreStats{MaxBytes: 10 * (100 + EntryOverhead), MaxEntries: 100,
		Admitted: 1, Hits: 2, Misses: 1, Updates: 1, Deletes: 1}
	if got := s.Stats(); got != want {
		t.Errorf("Stats = %+v\nwant    %+v", got, want)
	}
}

// TestStoreTooLarge checks that a value above the whole budget is refused by Admit, and that an
// Update to one drops the key and says so.
func TestStoreTooLarge(t *testing.T) {
	s := newTestStore(t, 1000, 10)
	big := val(1000 - EntryOverhead + 1)
	if ok, ev := s.Admit(key(1), big, t0); ok || ev != nil {
		t.Fatalf("Admit of a value above MaxBytes = %v, %v", ok, ev)
	}
	fits := val(1000 - EntryOverhead)
	s.Admit(key(2), val(10), t0)
	if ok, ev := s.Admit(key(1), fits, t0); !ok || !slices.Equal(ev, []Key{key(2)}) {
		t.Fatalf("Admit of a value of exactly MaxBytes = %v, %v; want it stored, key 2 evicted", ok, ev)
	}
	if held, ev := s.Update(key(1), big, t0); held || !slices.Equal(ev, []Key{key(1)}) || s.Has(key(1)) {
		t.Fatalf("Update to a value above MaxBytes = %v, %v", held, ev)
	}
	if st := s.Stats(); st.Bytes != 0 || st.Entries != 0 || st.Rejected != 1 || st.Evictions != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestStoreUpdateGrows checks that a grown value evicts others, never the key itself: growing by
// a little more than one entry's cost evicts exactly two.
func TestStoreUpdateGrows(t *testing.T) {
	const c = 100 + EntryOverhead // each entry's cost
	s := newTestStore(t, 4*c, 10)
	for i := range 4 {
		s.Admit(key(uint64(i)), val(100), t0)
	}
	held, ev := s.Update(key(0), val(100+c+1), t0)
	if !held || len(ev) != 2 || slices.Contains(ev, key(0)) {
		t.Fatalf("Update = %v, %v; want held and two others evicted", held, ev)
	}
	for _, k := range ev {
		if s.Has(k) {
			t.Errorf("evicted %v still held", k)
		}
	}
	if st := s.Stats(); st.Bytes != 3*c+1 || st.Entries != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestStoreEntryBudget checks MaxEntries when values are small.
func TestStoreEntryBudget(t *testing.T) {
	s := newTestStore(t, 1<<20, 5)
	var evicted []Key
	for i := range 20 {
		_, ev := s.Admit(key(uint64(i)), val(1), t0)
		evicted = append(evicted, ev...)
		if n := s.Stats().Entries; n > 5 {
			t.Fatalf("after %d Admits: %d entries", i+1, n)
		}
	}
	if len(evicted) != 15 || len(s.Keys()) != 5 {
		t.Errorf("%d evicted, %d held; want 15 and 5", len(evicted), len(s.Keys()))
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := newTestStore(t, 20_000, 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 3000 {
				k := key(uint64((i*7 + g) % 200))
				switch i % 4 {
				case 0:
					s.Admit(k, val(i%900), t0)
				case 1:
					s.Update(k, val(i%1500), t0)
				case 2:
					s.Get(k, t0)
				default:
					if i%40 == 3 {
						s.Delete(k)
					}
				}
				if st := s.Stats(); st.Bytes > st.MaxBytes || st.Entries > st.MaxEntries {
					t.Errorf("over budget: %+v", st)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestStoreConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg   StoreConfig
		field string
	}{
		{StoreConfig{MaxBytes: 0, MaxEntries: 10}, "MaxBytes"},
		{StoreConfig{MaxBytes: EntryOverhead - 1, MaxEntries: 10}, "MaxBytes"},
		{StoreConfig{MaxBytes: 1 << 20, MaxEntries: 0}, "MaxEntries"},
		{StoreConfig{MaxBytes: 1 << 20, MaxEntries: -5}, "MaxEntries"},
	} {
		s, err := NewStore(c.cfg)
		if s != nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: got %v, %v; want an ErrConfig naming %s", c.cfg, s, err, c.field)
		}
	}
	if _, err := NewStore(DefaultStoreConfig()); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// TestStoreEntryOverhead checks that EntryOverhead covers what an entry really costs beyond its
// value: the heap a full store of empty values holds, per entry, fresh and while keys churn
// through it, with the admission sketch and the map's slack counted.
func TestStoreEntryOverhead(t *testing.T) {
	const n = 50_000
	var base, now runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	s := newTestStore(t, n*EntryOverhead, n)
	worst := 0.0
	for i := range 6 * n {
		s.Admit(key(uint64(i)), nil, t0)
		if i%(n/2) == n/2-1 && i >= n {
			runtime.GC()
			runtime.ReadMemStats(&now)
			perEntry := float64(now.HeapAlloc-base.HeapAlloc) / float64(s.Stats().Entries)
			worst = max(worst, perEntry)
		}
	}
	runtime.KeepAlive(s)
	t.Logf("heap per entry of an empty value: up to %.0f bytes; EntryOverhead %d", worst, EntryOverhead)
	if worst > EntryOverhead {
		t.Errorf("an entry takes %.0f bytes of heap beyond its value, more than EntryOverhead %d", worst, EntryOverhead)
	}
}
