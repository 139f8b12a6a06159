package regions

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// counter returns the stored counter of region r.
func counter(t *testing.T, kv jetstream.KeyValue, r RegionID) string {
	t.Helper()
	e, err := kv.Get(t.Context(), SeqKey(r))
	if err != nil {
		t.Fatalf("get counter of %s: %v", r, err)
	}
	return string(e.Value())
}

func putCounter(t *testing.T, kv jetstream.KeyValue, r RegionID, v uint64) {
	t.Helper()
	if _, err := kv.Put(t.Context(), SeqKey(r), []byte(strconv.FormatUint(v, 10))); err != nil {
		t.Fatal(err)
	}
}

func withFloor(block, floor uint64) GeneratorConfig {
	cfg := fixedBlock(block)
	cfg.Floor = floor
	return cfg
}

func TestGeneratorFloor(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	for _, tc := range []struct {
		name    string
		region  RegionID
		prepare func(t *testing.T, r RegionID) // sets up the counter before the generator starts
		floor   uint64
		first   uint64 // the first sequence handed out
		stored  string // the counter after the first claim
	}{
		{"counter below floor moves up", 0x10, func(t *testing.T, r RegionID) { putCounter(t, kv, r, 5) }, 1000, 1000, "1010"},
		{"counter at floor", 0x11, func(t *testing.T, r RegionID) { putCounter(t, kv, r, 1000) }, 1000, 1000, "1010"},
		{"counter above floor", 0x12, func(t *testing.T, r RegionID) { putCounter(t, kv, r, 5000) }, 1000, 5000, "5010"},
		{"missing counter created at floor", 0x13, func(*testing.T, RegionID) {}, 700, 700, "710"},
		{"deleted counter recreated at floor", 0x14, func(t *testing.T, r RegionID) {
			take(t, newGenerator(t, kv, r, 10), 3)
			if err := kv.Delete(t.Context(), SeqKey(r)); err != nil {
				t.Fatal(err)
			}
		}, 500, 500, "510"},
		{"purged counter recreated at floor", 0x15, func(t *testing.T, r RegionID) {
			take(t, newGenerator(t, kv, r, 10), 3)
			if err := kv.Purge(t.Context(), SeqKey(r)); err != nil {
				t.Fatal(err)
			}
		}, 500, 500, "510"},
		{"floor 1 is the plain start", 0x16, func(*testing.T, RegionID) {}, 1, 1, "11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare(t, tc.region)
			g := newGeneratorConfig(t, kv, tc.region, withFloor(10, tc.floor))
			ids := take(t, g, 25)
			if want := NewID(tc.region, tc.first); ids[0] != want {
				t.Errorf("first ID = %s, want %s", ids[0], want)
			}
			for i, id := range ids {
				if id.Seq() < tc.floor || id.Region() != tc.region {
					t.Fatalf("ID #%d = %s, below floor %d or outside region %s", i, id, tc.floor, tc.region)
				}
			}
			if got, want := counter(t, kv, tc.region), strconv.FormatUint(tc.first+30, 10); got != want {
				t.Errorf("counter after 3 claims = %s, want %s", got, want)
			}
		})
	}

	t.Run("floor past MaxSeq is exhausted", func(t *testing.T) {
		g := newGeneratorConfig(t, kv, 0x17, withFloor(10, MaxSeq+1))
		if id, err := g.Next(t.Context()); !errors.Is(err, ErrExhausted) {
			t.Fatalf("Next = %s, %v; want ErrExhausted", id, err)
		}
	})

	t.Run("generators racing to recreate a deleted counter", func(t *testing.T) {
		const r RegionID = 0x18
		take(t, newGenerator(t, kv, r, 10), 1)
		if err := kv.Delete(t.Context(), SeqKey(r)); err != nil {
			t.Fatal(err)
		}
		var (
			mu   sync.Mutex
			seen = map[ID]bool{}
			wg   sync.WaitGroup
		)
		for range 4 {
			g := newGeneratorConfig(t, kv, r, withFloor(10, 300))
			wg.Go(func() {
				for range 50 {
					id, err := g.Next(t.Context())
					if err != nil {
						t.Errorf("Next: %v", err)
						return
					}
					mu.Lock()
					if seen[id] || id.Seq() < 300 {
						t.Errorf("ID %s handed out twice or below the floor", id)
					}
					seen[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if !seen[NewID(r, 300)] {
			t.Errorf("no generator handed out %s: the counter was not recreated at the floor", NewID(r, 300))
		}
	})
}

// TestGeneratorOwnHighWater checks that a generator never goes below the end of its own latest
// block, even when the stored counter is moved back (a restore from an old snapshot).
func TestGeneratorOwnHighWater(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	const r RegionID = 0x20
	g := newGenerator(t, kv, r, 10)
	ids := take(t, g, 15) // blocks [1,11) and [11,21); the counter holds 21
	putCounter(t, kv, r, 3)
	ids = append(ids, take(t, g, 10)...)
	for i, id := range ids {
		if id != NewID(r, uint64(i)+1) {
			t.Fatalf("ID #%d = %s, want %s: the rewound counter must not be used", i, id, NewID(r, uint64(i)+1))
		}
	}
	if got := counter(t, kv, r); got != "31" {
		t.Errorf("counter = %s, want 31 (moved up past the generator's own high-water mark)", got)
	}
}

func TestGeneratorCommit(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	const r RegionID = 0x30
	errRoot := errors.New("root unreachable")
	var (
		ends    []uint64
		handed  []ID
		failEnd uint64 = 21 // the second block is refused
	)
	cfg := fixedBlock(10)
	cfg.Commit = func(ctx context.Context, end uint64) error {
		if ctx == nil {
			t.Error("Commit got a nil context")
		}
		if got := counter(t, kv, r); got != strconv.FormatUint(end, 10) {
			t.Errorf("Commit(%d) with the counter at %s, want the block claimed in KV first", end, got)
		}
		for _, id := range handed {
			if id.Seq() >= end-10 {
				t.Errorf("Commit(%d) after %s of its block [%d, %d) was handed out", end, id, end-10, end)
			}
		}
		ends = append(ends, end)
		if end == failEnd {
			return errRoot
		}
		return nil
	}
	g := newGeneratorConfig(t, kv, r, cfg)
	for range 10 {
		id, err := g.Next(t.Context())
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		handed = append(handed, id)
	}
	if id, err := g.Next(t.Context()); !errors.Is(err, errRoot) {
		t.Fatalf("Next with a failing Commit = %s, %v; want the Commit error", id, err)
	}
	for range 20 {
		id, err := g.Next(t.Context())
		if err != nil {
			t.Fatalf("Next after a failed Commit: %v", err)
		}
		if s := id.Seq(); s >= 11 && s < 21 {
			t.Fatalf("Next = %s, from the block [11, 21) whose Commit failed", id)
		}
		if last := ends[len(ends)-1]; id.Seq() >= last {
			t.Fatalf("Next = %s, at or past the latest committed end %d", id, last)
		}
		handed = append(handed, id)
	}
	if want := NewID(r, 21); handed[10] != want {
		t.Errorf("first ID after the failed Commit = %s, want %s", handed[10], want)
	}
	if want := []uint64{11, 21, 31, 41}; !slices.Equal(ends, want) {
		t.Errorf("Commit ends = %v, want %v", ends, want)
	}
	if st := g.Stats(); st.Blocks != 4 || st.Skipped != 1 {
		t.Errorf("Stats = %+v, want 4 blocks, 1 skipped", st)
	}

	// NextRange honors Commit the same way.
	failEnd = 61
	if first, n, err := g.NextRange(t.Context(), 100); err != nil || first != NewID(r, 41) || n != 10 {
		t.Fatalf("NextRange(100) = %s, %d, %v; want the next block, %s and 10", first, n, err, NewID(r, 41))
	}
	if _, _, err := g.NextRange(t.Context(), 100); !errors.Is(err, errRoot) {
		t.Fatalf("NextRange with a failing Commit = %v, want the Commit error", err)
	}
	if first, n, err := g.NextRange(t.Context(), 100); err != nil || first != NewID(r, 61) || n != 10 {
		t.Fatalf("NextRange after a failed Commit = %s, %d, %v; want %s, 10", first, n, err, NewID(r, 61))
	}
}

// TestGeneratorHighWaterAfterLostCounter wires a HighWater the way a node does and then loses the
// whole JetStream store, as an unsynced single server could on power loss: the new generator starts
// above every ID the old one handed out.
func TestGeneratorHighWaterAfterLostCounter(t *testing.T) {
	const r RegionID = 0x50
	path := filepath.Join(t.TempDir(), "ids.hwm")
	start := func(kv jetstream.KeyValue) *Generator {
		hw, err := OpenHighWater(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg := withFloor(10, hw.Load())
		cfg.Commit = func(_ context.Context, end uint64) error { return hw.Raise(end) }
		return newGeneratorConfig(t, kv, r, cfg)
	}
	s1 := RunJetStream(t, "")
	kv1, close1 := IDBucketKV(t, s1)
	before := take(t, start(kv1), 25) // blocks up to 31; the file holds 31
	close1()
	shutdownServer(s1)

	kv2, _ := IDBucketKV(t, RunJetStream(t, "")) // a new, empty store
	after := take(t, start(kv2), 5)
	if want := NewID(r, 31); after[0] != want {
		t.Errorf("first ID after the store was lost = %s, want %s", after[0], want)
	}
	if last := before[len(before)-1]; after[0] <= last {
		t.Errorf("ID %s after the loss is not above %s from before", after[0], last)
	}
}
