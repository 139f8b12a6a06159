package lab

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// Pair is an ordered pair of regions.
type Pair struct{ From, To topo.Region }

func (p Pair) key() [2]regions.RegionID { return [2]regions.RegionID{p.From.ID, p.To.ID} }

// LookupResult is what one pair's lookups measured, in milliseconds.
type LookupResult struct {
	Summary
	Errors  int    // lookups that failed after warm-up
	LastErr string // the last of those failures
	Err     string // why the pair was not measured at all, if it was not
	// Paths counts the answers by their Fd-Path header (overlay.HeaderPath; "" for the tree path
	// with no relay). Plain NATS answers carry none.
	Paths map[string]int
}

// Path returns the most frequent Fd-Path among the answers (the smaller header on a tie), and its
// share of the answers; ok is false when nothing was answered.
func (l *LookupResult) Path() (header string, share float64, ok bool) {
	n, best := 0, -1
	for h, c := range l.Paths {
		n += c
		if c > best || c == best && h < header {
			header, best = h, c
		}
	}
	if n == 0 {
		return "", 0, false
	}
	return header, float64(best) / float64(n), true
}

// lookupAnswer is what every lab responder sends back: 64 bytes, like a small record.
var lookupAnswer = []byte(`{"lab":"lookup answer padded to sixty-four bytes.............."}`)

// lookupSubject is the public lookup subject of a record of region to; seq makes each sample's
// record ID distinct.
func lookupSubject(to regions.RegionID, seq uint64) string {
	return fmt.Sprintf("fd.%s.get.lab.%s", to, regions.NewID(to, seq))
}

// measureLookups times Samples lookups for every pair, Concurrency pairs at a time, with env's
// lookups: after a first answer from every pair (interest spreading) and, in ModeFeDist with
// Config.RoutingWarmup, a routing warm-up. While they are timed every pair also sends background
// lookups (Config.BackgroundEvery). In ModeFeDist it reads the nodes' links, shortcuts and control
// bytes when the timed lookups end. routing allows the routing warm-up; name starts the progress
// lines.
func measureLookups(ctx context.Context, env *lookupEnv, pairs []Pair, cfg *Config, prog *progress, name string, routing bool) (*timedRun, error) {
	top := env.f.Topology()
	// Longest pairs first, so that the last workers do not straggle.
	order := slices.Clone(pairs)
	slices.SortStableFunc(order, func(a, b Pair) int {
		ta, _ := top.TreeRTT(a.From.ID, a.To.ID)
		tb, _ := top.TreeRTT(b.From.ID, b.To.ID)
		return cmp.Compare(tb, ta)
	})
	run := &timedRun{Results: make(map[[2]regions.RegionID]*LookupResult, len(pairs))}
	for _, p := range pairs {
		run.Results[p.key()] = &LookupResult{}
	}
	prog.begin(fmt.Sprintf("%s: warm-up lookups (interest spreading)", name), len(order))
	eachPair(ctx, order, cfg.Concurrency, func(p Pair) {
		defer prog.tick()
		deadline := time.Now().Add(cfg.WarmupTimeout)
		var err error
		for time.Now().Before(deadline) && ctx.Err() == nil {
			if _, err = env.lookup(ctx, p, 1, env.timeout(p)); err == nil {
				return
			}
			time.Sleep(50 * time.Millisecond) // no responder seen yet: interest is still on its way
		}
		run.Results[p.key()].Err = fmt.Sprintf("no answer within %v: %v", cfg.WarmupTimeout, err)
	})
	if routing && env.fedist() && cfg.RoutingWarmup > 0 {
		w := routingWarmup(ctx, env, pairs, cfg, prog, name)
		run.Warmup = &w
	}
	bg := startBackground(ctx, env, pairs, cfg.BackgroundEvery)
	var before map[string]uint64
	if env.fedist() {
		before = controlBytes(env.f)
	}
	run.Start = time.Now()
	prog.begin(fmt.Sprintf("%s: timed lookups (%d pairs × %d, %d pairs at once)", name, len(order), cfg.Samples, cfg.Concurrency),
		len(order)*cfg.Samples)
	eachPair(ctx, order, cfg.Concurrency, func(p Pair) {
		res := run.Results[p.key()]
		if res.Err != "" {
			prog.add(cfg.Samples)
			return
		}
		ds := make([]time.Duration, 0, cfg.Samples)
		for i := range cfg.Samples {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			path, err := env.lookup(ctx, p, uint64(i)+2, env.timeout(p))
			d := time.Since(start)
			prog.tick()
			if err != nil {
				res.Errors++
				res.LastErr = err.Error()
				continue
			}
			ds = append(ds, d)
			if res.Paths == nil {
				res.Paths = map[string]int{}
			}
			res.Paths[path]++
		}
		res.Summary = Summarize(ds)
	})
	run.End = time.Now()
	var links []nodeLinks
	var stats []RegionStats // in topology order
	if env.fedist() {
		links, stats = snapshotLinks(env.f), regionStats(env.f, before, run.End.Sub(run.Start))
	}
	run.RouteChanges, run.Background = bg.stop()
	for i := range stats {
		for _, n := range env.f.Nodes(top.Regions()[i].ID) {
			stats[i].HeldMaxSeen = max(stats[i].HeldMaxSeen, bg.heldMax[n.Broker().Name()], stats[i].HeldMaxNode)
		}
	}
	run.Links, run.Regions = links, stats
	return run, ctx.Err()
}

// timedRun is what measureLookups measured.
type timedRun struct {
	Results    map[[2]regions.RegionID]*LookupResult
	Warmup     *WarmupResult // nil when there was no routing warm-up
	Start, End time.Time     // of the timed lookups
	// RouteChanges counts the seconds in which some node's route table changed while lookups were
	// timed (ModeFeDist); Background counts the background lookups sent and failed meanwhile.
	RouteChanges int
	Background   counts
	Links        []nodeLinks   // ModeFeDist: every node's links at End
	Regions      []RegionStats // ModeFeDist: shortcuts at End, control bytes from Start to End
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
