// Command otterprobe measures whether github.com/maypok86/otter/v2 keeps a weighted cache within
// its MaximumWeight, the hard guarantee replication.Store makes. It is a module of its own so that
// FeDist does not depend on otter; run it with `go run .` in this directory. Findings are in
// ../../doc.go.
package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/maypok86/otter/v2"
)

const (
	maxWeight  = 64 << 10
	maxEntries = 64
	unit       = maxWeight / maxEntries // weight = max(len, unit) bounds entries by maxEntries too
)

func weigh(_ uint64, v []byte) uint32 { return uint32(max(len(v), unit)) }

// live sums the weight of the entries the cache holds right now.
func live(c *otter.Cache[uint64, []byte]) (w uint64, n int) {
	for k, v := range c.All() {
		w += uint64(weigh(k, v))
		n++
	}
	return w, n
}

func syncExecutor(fn func()) { fn() }

// serial: one goroutine, synchronous executor; after every Set, is the cache within bounds?
func serial(seed uint64) {
	c := otter.Must(&otter.Options[uint64, []byte]{
		MaximumWeight: maxWeight, Weigher: weigh, Executor: syncExecutor,
	})
	r := rand.New(rand.NewPCG(seed, 1))
	overW, overN, overWS := 0, 0, 0
	for range 200_000 {
		size := r.IntN(4 * unit)
		if r.IntN(100) == 0 {
			size = maxWeight + 1
		}
		c.Set(uint64(r.IntN(2000)), make([]byte, size))
		w, n := live(c)
		if w > maxWeight {
			overW++
		}
		if n > maxEntries {
			overN++
		}
		if c.WeightedSize() > maxWeight {
			overWS++
		}
	}
	fmt.Printf("serial, seed %d, 200000 Sets: live weight over max after %d, entries over max after %d, WeightedSize over max after %d\n",
		seed, overW, overN, overWS)
}

// concurrent: writers Set while one reader sums what the cache holds; the deletion handler also
// records how much the table held when each eviction ran.
func concurrent(writers int, sync_ bool) {
	var inTable, peak atomic.Int64
	opts := &otter.Options[uint64, []byte]{MaximumWeight: maxWeight, Weigher: weigh}
	if sync_ {
		opts.Executor = syncExecutor
	}
	opts.OnAtomicDeletion = func(e otter.DeletionEvent[uint64, []byte]) {
		for w := inTable.Load(); ; {
			p := peak.Load()
			if w <= p || peak.CompareAndSwap(p, w) {
				break
			}
		}
		inTable.Add(-int64(weigh(e.Key, e.Value)))
	}
	c := otter.Must(opts)
	stop, done := make(chan struct{}), make(chan struct{})
	var samples, over int
	var maxLive, maxWS uint64
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			w, _ := live(c)
			samples++
			if w > maxWeight {
				over++
			}
			maxLive, maxWS = max(maxLive, w), max(maxWS, c.WeightedSize())
		}
	}()
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for range 50_000 {
				k, v := uint64(r.IntN(5000)), make([]byte, r.IntN(4*unit))
				c.Compute(k, func([]byte, bool) ([]byte, otter.ComputeOp) {
					inTable.Add(int64(weigh(k, v)))
					return v, otter.WriteOp
				})
			}
		})
	}
	wg.Wait()
	close(stop)
	<-done
	fmt.Printf("%d writers, sync executor %v: live weight over max in %d of %d samples, up to %.1f× max; WeightedSize up to %.2f×; table held up to %.1f× when an eviction ran\n",
		writers, sync_, over, samples, float64(maxLive)/maxWeight, float64(maxWS)/maxWeight, float64(peak.Load())/maxWeight)
}

func main() {
	for seed := range uint64(3) {
		serial(seed + 1)
	}
	concurrent(8, false)
	concurrent(8, true)
	concurrent(1, true)
}
