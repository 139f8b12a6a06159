package regions

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestGeneratorStress runs 4 generators, each on its own connection as the nodes of a region would
// be, sharing one counter with a tiny block so that claims collide all the time. 8 goroutines per
// generator take IDs with Next and NextRange. Every call must succeed, every ID must be new and in
// the region, and each goroutine must see its IDs increase.
func TestGeneratorStress(t *testing.T) {
	const (
		region     RegionID = 0x0003
		generators          = 4
		workers             = 8 // per generator
		perWorker           = 1_250
		total               = generators * workers * perWorker // 40,000
	)
	for _, tc := range []struct {
		name string
		cfg  GeneratorConfig
	}{
		{"fixed block 16", fixedBlock(16)},
		{"block 16 growing to 1024", func() GeneratorConfig {
			cfg := DefaultGeneratorConfig()
			cfg.Block, cfg.MaxBlock = 16, 1024
			return cfg
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := RunJetStream(t, "")
			gens := make([]*Generator, generators)
			for i := range gens {
				kv, _ := IDBucketKV(t, s)
				gens[i] = newGeneratorConfig(t, kv, region, tc.cfg)
			}
			out := make([][]ID, generators*workers)
			var wg sync.WaitGroup
			for w := range out {
				g := gens[w%generators]
				ranges := w%2 == 1 // half the workers serve ranges, as a node does for its clients
				wg.Go(func() {
					ids := make([]ID, 0, perWorker)
					for len(ids) < perWorker {
						if !ranges {
							id, err := g.Next(t.Context())
							if err != nil {
								t.Errorf("worker %d: Next: %v", w, err)
								return
							}
							ids = append(ids, id)
							continue
						}
						want := min(uint64(1+rand.IntN(8)), uint64(perWorker-len(ids)))
						first, n, err := g.NextRange(t.Context(), want)
						if err != nil || n == 0 || n > want {
							t.Errorf("worker %d: NextRange(%d) = %s, %d, %v", w, want, first, n, err)
							return
						}
						for i := range n {
							ids = append(ids, first+ID(i))
						}
					}
					out[w] = ids
				})
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			seen := make(map[ID]bool, total)
			for w, ids := range out {
				for i, id := range ids {
					if seen[id] {
						t.Fatalf("ID %s handed out twice", id)
					}
					seen[id] = true
					if id.Region() != region || !id.Valid() {
						t.Fatalf("worker %d: ID %s outside region %s", w, id, region)
					}
					if i > 0 && id <= ids[i-1] {
						t.Fatalf("worker %d: %s after %s, want increasing", w, id, ids[i-1])
					}
				}
			}
			if len(seen) != total {
				t.Fatalf("got %d IDs, want %d", len(seen), total)
			}
			var sum GeneratorStats
			for _, g := range gens {
				st := g.Stats()
				sum.Blocks += st.Blocks
				sum.Conflicts += st.Conflicts
			}
			t.Logf("%d IDs in %d blocks, %d conflicts", total, sum.Blocks, sum.Conflicts)
		})
	}
}
