package regions

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newGenerator returns a generator with the default config but a fixed block size.
func newGenerator(t testing.TB, kv jetstream.KeyValue, r RegionID, block uint64) *Generator {
	t.Helper()
	return newGeneratorConfig(t, kv, r, fixedBlock(block))
}

// fixedBlock returns the default config with blocks of size block that never grow.
func fixedBlock(block uint64) GeneratorConfig {
	cfg := DefaultGeneratorConfig()
	cfg.Block, cfg.MaxBlock = block, block
	return cfg
}

func newGeneratorConfig(t testing.TB, kv jetstream.KeyValue, r RegionID, cfg GeneratorConfig) *Generator {
	t.Helper()
	g, err := NewGenerator(t.Context(), kv, r, cfg)
	if err != nil {
		t.Fatalf("NewGenerator: %v", err)
	}
	return g
}

// take returns n IDs from g, failing the test on any error.
func take(t testing.TB, g *Generator, n int) []ID {
	t.Helper()
	ids := make([]ID, n)
	for i := range ids {
		id, err := g.Next(t.Context())
		if err != nil {
			t.Fatalf("Next #%d: %v", i, err)
		}
		ids[i] = id
	}
	return ids
}

func TestGeneratorSequential(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	const region RegionID = 0x00a3
	g := newGenerator(t, kv, region, 1000)
	ids := take(t, g, 10_500)
	if ids[0] != region.FirstID() {
		t.Errorf("first ID = %s, want %s", ids[0], region.FirstID())
	}
	for i, id := range ids {
		if id.Region() != region || !id.Valid() {
			t.Fatalf("ID #%d %s: region %s, valid %v; want region %s, valid", i, id, id.Region(), id.Valid(), region)
		}
		if i > 0 && id != ids[i-1]+1 {
			t.Fatalf("ID #%d = %s after %s, want consecutive", i, id, ids[i-1])
		}
	}
	if st := g.Stats(); st.Blocks != 11 || st.Conflicts != 0 {
		t.Errorf("Stats = %+v, want 11 blocks, 0 conflicts", st)
	}
	e, err := kv.Get(t.Context(), SeqKey(region))
	if err != nil || string(e.Value()) != "11001" {
		t.Errorf("counter = %v, %v; want 11001 (next unclaimed)", e, err)
	}
}

func TestGeneratorRestart(t *testing.T) {
	dir := t.TempDir()
	s1 := RunJetStream(t, dir)
	kv1, close1 := IDBucketKV(t, s1)
	g1 := newGenerator(t, kv1, 7, 100)
	seen := map[ID]bool{}
	for _, id := range take(t, g1, 130) { // the second block is 30% used when the node dies
		seen[id] = true
	}
	close1()
	shutdownServer(s1)

	s2 := RunJetStream(t, dir)
	kv2, _ := IDBucketKV(t, s2)
	g2 := newGenerator(t, kv2, 7, 100)
	ids := take(t, g2, 250)
	if want := NewID(7, 201); ids[0] != want {
		t.Errorf("first ID after restart = %s, want %s (rest of the crashed block abandoned)", ids[0], want)
	}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("ID %s handed out before and after the restart", id)
		}
		seen[id] = true
	}
}

func TestGeneratorTwoNodes(t *testing.T) {
	s := RunJetStream(t, "")
	kvA, _ := IDBucketKV(t, s)
	kvB, _ := IDBucketKV(t, s) // a second connection, as a second node of the region would have
	gens := []*Generator{newGenerator(t, kvA, 3, 100), newGenerator(t, kvB, 3, 100)}
	const workers, perWorker = 8, 2_000
	out := make([][]ID, 2*workers)
	var wg sync.WaitGroup
	for w := range out {
		g := gens[w%2]
		wg.Go(func() {
			for range perWorker {
				id, err := g.Next(t.Context())
				if err != nil {
					t.Errorf("Next: %v", err)
					return
				}
				out[w] = append(out[w], id)
			}
		})
	}
	wg.Wait()
	seen := make(map[ID]bool, len(out)*perWorker)
	for w, ids := range out {
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("ID %s handed out twice", id)
			}
			seen[id] = true
			if i > 0 && id <= ids[i-1] {
				t.Fatalf("worker %d: %s after %s, want increasing", w, id, ids[i-1])
			}
		}
	}
	if len(seen) != len(out)*perWorker {
		t.Fatalf("got %d IDs, want %d", len(seen), len(out)*perWorker)
	}
	a, b := gens[0].Stats(), gens[1].Stats()
	t.Logf("node A %+v, node B %+v", a, b)
}

// racingKV puts value under the key before each of the next races Updates, as another node winning
// the compare-and-set would.
type racingKV struct {
	jetstream.KeyValue
	races int
	value string
}

func (r *racingKV) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if r.races > 0 {
		r.races--
		if _, err := r.KeyValue.Put(ctx, key, []byte(r.value)); err != nil {
			return 0, err
		}
	}
	return r.KeyValue.Update(ctx, key, value, rev)
}

func TestGeneratorConflictRereads(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	for _, seeded := range []bool{false, true} { // a lost Create, then a lost Update
		rkv := &racingKV{KeyValue: kv, races: 1, value: "5000"}
		if seeded {
			rkv.value = "9000"
		}
		g := newGenerator(t, rkv, 9, 10)
		id, err := g.Next(t.Context())
		want, _ := strconv.ParseUint(rkv.value, 10, 64)
		if err != nil || id != NewID(9, want) {
			t.Errorf("seeded=%v: Next = %s, %v; want %s", seeded, id, err, NewID(9, want))
		}
		if st := g.Stats(); st.Conflicts != 1 || st.Blocks != 1 {
			t.Errorf("seeded=%v: Stats = %+v, want 1 conflict, 1 block", seeded, st)
		}
	}
}

// TestGeneratorContention checks that conflicts alone never fail a claim: only the caller's context
// ends the retries, and then the error says both what ended them and what they were fighting.
func TestGeneratorContention(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	cfg := fixedBlock(10)
	cfg.BackoffMax = 5 * time.Millisecond
	g := newGeneratorConfig(t, &racingKV{KeyValue: kv, races: 1 << 30, value: "42"}, 9, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := g.Next(ctx)
	if !errors.Is(err, ErrContention) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next under endless conflicts = %v, want ErrContention and context.DeadlineExceeded", err)
	}
	if st := g.Stats(); st.Conflicts < 2 || st.Blocks != 0 {
		t.Errorf("Stats = %+v, want several conflicts, 0 blocks", st)
	}
}

func TestGeneratorExhausted(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	if _, err := kv.Put(t.Context(), SeqKey(5), []byte(strconv.FormatUint(MaxSeq-5, 10))); err != nil {
		t.Fatal(err)
	}
	g := newGenerator(t, kv, 5, 4) // blocks of 4, then a last block of 2
	ids := take(t, g, 6)
	for i, id := range ids {
		if want := NewID(5, MaxSeq-5+uint64(i)); id != want {
			t.Errorf("ID #%d = %s, want %s", i, id, want)
		}
	}
	if ids[5] != RegionID(5).LastID() {
		t.Errorf("last ID = %s, want LastID %s", ids[5], RegionID(5).LastID())
	}
	for range 2 {
		if id, err := g.Next(t.Context()); !errors.Is(err, ErrExhausted) {
			t.Fatalf("Next past MaxSeq = %s, %v; want ErrExhausted", id, err)
		}
	}
	g2 := newGenerator(t, kv, 5, 4)
	if _, err := g2.Next(t.Context()); !errors.Is(err, ErrExhausted) {
		t.Fatalf("a new generator on a spent region: Next = %v, want ErrExhausted", err)
	}
}

// TestGeneratorCounterDeleted checks that without a Floor a deleted or purged counter is refused,
// not restarted at 1. TestGeneratorFloor covers the recreation at a Floor.
func TestGeneratorCounterDeleted(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	for _, purge := range []bool{false, true} {
		take(t, newGenerator(t, kv, 4, 10), 1)
		del := kv.Delete
		if purge {
			del = kv.Purge
		}
		if err := del(t.Context(), SeqKey(4)); err != nil {
			t.Fatal(err)
		}
		g := newGenerator(t, kv, 4, 10)
		if id, err := g.Next(t.Context()); !errors.Is(err, ErrCounterDeleted) {
			t.Fatalf("purge=%v: Next after the counter was deleted = %s, %v; want ErrCounterDeleted", purge, id, err)
		}
		if _, err := kv.Put(t.Context(), SeqKey(4), []byte("1000")); err != nil { // the operator's repair
			t.Fatal(err)
		}
	}
}

func TestGeneratorBadCounter(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	for _, v := range []string{"", "abc", "0", "-1", " 5", strconv.FormatUint(MaxSeq+2, 10)} {
		if _, err := kv.Put(t.Context(), SeqKey(6), []byte(v)); err != nil {
			t.Fatal(err)
		}
		_, err := NewGenerator(t.Context(), kv, 6, DefaultGeneratorConfig())
		if !errors.Is(err, ErrBadCounter) {
			t.Errorf("counter %q: NewGenerator = %v, want ErrBadCounter", v, err)
		}
	}
}

func TestGeneratorConfig(t *testing.T) {
	if err := DefaultGeneratorConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*GeneratorConfig)
		ok   bool
	}{
		{"block 1", func(c *GeneratorConfig) { c.Block = 1 }, true},
		{"block MaxSeq", func(c *GeneratorConfig) { c.Block, c.MaxBlock = MaxSeq, MaxSeq }, true},
		{"fixed block", func(c *GeneratorConfig) { c.Block, c.MaxBlock, c.Refill = 10, 0, 0 }, true},
		{"max block = block", func(c *GeneratorConfig) { c.Block, c.MaxBlock, c.Refill = 10, 10, 0 }, true},
		{"custom key", func(c *GeneratorConfig) { c.Key = "seq.test-1/a_b=c" }, true},
		{"floor MaxSeq+1", func(c *GeneratorConfig) { c.Floor = MaxSeq + 1 }, true},
		{"backoff fixed", func(c *GeneratorConfig) { c.BackoffMin, c.BackoffMax = time.Second, time.Second }, true},
		{"block 0", func(c *GeneratorConfig) { c.Block = 0 }, false},
		{"block over MaxSeq", func(c *GeneratorConfig) { c.Block, c.MaxBlock = MaxSeq+1, MaxSeq+1 }, false},
		{"block over max block", func(c *GeneratorConfig) { c.Block = c.MaxBlock + 1 }, false},
		{"max block over MaxSeq", func(c *GeneratorConfig) { c.MaxBlock = MaxSeq + 1 }, false},
		{"growing without refill", func(c *GeneratorConfig) { c.Refill = 0 }, false},
		{"backoff min 0", func(c *GeneratorConfig) { c.BackoffMin = 0 }, false},
		{"backoff max below min", func(c *GeneratorConfig) { c.BackoffMax = c.BackoffMin - 1 }, false},
		{"floor over MaxSeq+1", func(c *GeneratorConfig) { c.Floor = MaxSeq + 2 }, false},
		{"key leading dot", func(c *GeneratorConfig) { c.Key = ".seq" }, false},
		{"key trailing dot", func(c *GeneratorConfig) { c.Key = "seq." }, false},
		{"key empty token", func(c *GeneratorConfig) { c.Key = "seq..a" }, false},
		{"key space", func(c *GeneratorConfig) { c.Key = "seq a" }, false},
		{"key wildcard", func(c *GeneratorConfig) { c.Key = "seq.*" }, false},
	} {
		cfg := DefaultGeneratorConfig()
		tc.edit(&cfg)
		if err := cfg.Validate(); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrBadConfig)) {
			t.Errorf("%s: Validate = %v, want ok=%v or ErrBadConfig", tc.name, err, tc.ok)
		}
	}

	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	if _, err := NewGenerator(t.Context(), kv, 0, DefaultGeneratorConfig()); !errors.Is(err, ErrReservedRegion) {
		t.Errorf("region 0000: %v, want ErrReservedRegion", err)
	}
	if _, err := NewGenerator(t.Context(), nil, 1, DefaultGeneratorConfig()); !errors.Is(err, ErrBadConfig) {
		t.Errorf("nil kv: %v, want ErrBadConfig", err)
	}
	if _, err := NewGenerator(t.Context(), kv, 1, GeneratorConfig{}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("zero config: %v, want ErrBadConfig", err)
	}
}

func TestGeneratorCanceled(t *testing.T) {
	kv, _ := IDBucketKV(t, RunJetStream(t, ""))
	g := newGenerator(t, kv, 2, 10)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := g.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with a canceled context = %v, want context.Canceled", err)
	}
	take(t, g, 11) // the generator still works afterwards
}

func BenchmarkGeneratorNext(b *testing.B) {
	kv, _ := IDBucketKV(b, RunJetStream(b, ""))
	g := newGenerator(b, kv, 1, DefaultGeneratorConfig().Block)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		if _, err := g.Next(ctx); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ids/s")
}

func BenchmarkGeneratorNextParallel(b *testing.B) {
	kv, _ := IDBucketKV(b, RunJetStream(b, ""))
	g := newGenerator(b, kv, 1, DefaultGeneratorConfig().Block)
	ctx := b.Context()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := g.Next(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ids/s")
}
