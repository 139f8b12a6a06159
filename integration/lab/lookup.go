package lab

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Pair is an ordered pair of regions.
type Pair struct{ From, To topo.Region }

func (p Pair) key() [2]regions.RegionID { return [2]regions.RegionID{p.From.ID, p.To.ID} }

// LookupResult is what one pair's lookups measured, in milliseconds.
type LookupResult struct {
	Summary
	Errors int    // lookups that failed after warm-up
	Err    string // why the pair was not measured at all, if it was not
}

// lookupAnswer is what every lab responder sends back: 64 bytes, like a small record.
var lookupAnswer = []byte(`{"lab":"lookup answer padded to sixty-four bytes.............."}`)

// lookupSubject is the public lookup subject of a record of region to; seq makes each sample's
// record ID distinct.
func lookupSubject(to regions.RegionID, seq uint64) string {
	return fmt.Sprintf("fd.%s.get.lab.%s", to, regions.NewID(to, seq))
}

// measureLookups times Samples lookups for every pair, Concurrency pairs at a time. name starts
// its progress lines.
func measureLookups(ctx context.Context, f *fed.Federation, pairs []Pair, cfg *Config, prog *progress, name string) (map[[2]regions.RegionID]*LookupResult, error) {
	top := f.Topology()
	conns := map[regions.RegionID]*nats.Conn{}
	for _, r := range top.Regions() {
		nc, err := f.Connect(r.ID)
		if err != nil {
			return nil, err
		}
		defer nc.Close()
		conns[r.ID] = nc
		// The responder: any NATS client in region r may answer r's lookups.
		if _, err := nc.Subscribe(fmt.Sprintf("fd.%s.get.lab.*", r.ID), func(m *nats.Msg) { _ = m.Respond(lookupAnswer) }); err != nil {
			return nil, err
		}
		if err := nc.Flush(); err != nil {
			return nil, err
		}
	}
	// Longest pairs first, so that the last workers do not straggle.
	order := slices.Clone(pairs)
	slices.SortStableFunc(order, func(a, b Pair) int {
		ta, _ := top.TreeRTT(a.From.ID, a.To.ID)
		tb, _ := top.TreeRTT(b.From.ID, b.To.ID)
		return cmp.Compare(tb, ta)
	})
	results := make(map[[2]regions.RegionID]*LookupResult, len(pairs))
	for _, p := range pairs {
		results[p.key()] = &LookupResult{}
	}
	timeout := func(p Pair) time.Duration {
		if cfg.RequestTimeout > 0 {
			return cfg.RequestTimeout
		}
		tree, _ := top.TreeRTT(p.From.ID, p.To.ID)
		return 2*time.Second + 3*topo.Ms(tree)
	}
	prog.begin(fmt.Sprintf("%s: warm-up lookups (interest spreading)", name), len(order))
	eachPair(ctx, order, cfg.Concurrency, func(p Pair) {
		defer prog.tick()
		nc := conns[p.From.ID]
		deadline := time.Now().Add(cfg.WarmupTimeout)
		var err error
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if _, err = nc.Request(lookupSubject(p.To.ID, 1), nil, timeout(p)); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond) // no responder seen yet: interest is still on its way
		}
		results[p.key()].Err = fmt.Sprintf("no answer within %v: %v", cfg.WarmupTimeout, err)
	})
	prog.begin(fmt.Sprintf("%s: timed lookups (%d pairs × %d, %d pairs at once)", name, len(order), cfg.Samples, cfg.Concurrency),
		len(order)*cfg.Samples)
	eachPair(ctx, order, cfg.Concurrency, func(p Pair) {
		res := results[p.key()]
		if res.Err != "" {
			prog.add(cfg.Samples)
			return
		}
		nc := conns[p.From.ID]
		ds := make([]time.Duration, 0, cfg.Samples)
		for i := range cfg.Samples {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			_, err := nc.Request(lookupSubject(p.To.ID, uint64(i)+2), nil, timeout(p))
			d := time.Since(start)
			prog.tick()
			if err != nil {
				res.Errors++
				continue
			}
			ds = append(ds, d)
		}
		res.Summary = Summarize(ds)
	})
	return results, ctx.Err()
}

// eachPair runs fn for every pair, n at a time, and waits for all. Each fn touches only its own
// pair's result, so no further locking is needed.
func eachPair(ctx context.Context, pairs []Pair, n int, fn func(Pair)) {
	work := make(chan Pair)
	var wg sync.WaitGroup
	for range min(n, len(pairs)) {
		wg.Go(func() {
			for p := range work {
				fn(p)
			}
		})
	}
feed:
	for _, p := range pairs {
		select {
		case work <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
}
