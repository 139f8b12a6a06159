package lab

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/fedist/fedist/regions"
)

// lookupFunc makes one lookup and returns the answer's Fd-Path header (lookupEnv.lookup).
type lookupFunc func(ctx context.Context, p Pair, seq uint64, timeout time.Duration) (string, error)

// outcome is one lookup of a stream.
type outcome struct {
	sent, done time.Time
	header     string // Fd-Path of the answer
	ok         bool
}

// stream is one pair's lookups, sent at a fixed rate without waiting for the previous answer, as
// independent requests of an application would be: a lookup lost to a cut does not hold back the
// next, so the moment the first one gets through again is seen within one interval.
type stream struct {
	p    Pair
	mu   sync.Mutex // guards outs
	outs []outcome  // in completion order
}

// streams runs one stream per pair until stop.
type streams struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	byPair map[[2]regions.RegionID]*stream
}

// startStreams starts a lookup every interval for every pair, each bounded by timeout.
func startStreams(ctx context.Context, pairs []Pair, every, timeout time.Duration, lookup lookupFunc) *streams {
	ctx, cancel := context.WithCancel(ctx)
	ss := &streams{cancel: cancel, byPair: map[[2]regions.RegionID]*stream{}}
	for _, p := range pairs {
		st := &stream{p: p}
		ss.byPair[p.key()] = st
		ss.wg.Go(func() {
			tick := time.NewTicker(every)
			defer tick.Stop()
			for seq := uint64(1 << 36); ; seq++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				ss.wg.Go(func() {
					sent := time.Now()
					h, err := lookup(ctx, p, seq, timeout)
					if ctx.Err() != nil {
						return // stopped: neither an answer nor a loss
					}
					st.mu.Lock()
					st.outs = append(st.outs, outcome{sent: sent, done: time.Now(), header: h, ok: err == nil})
					st.mu.Unlock()
				})
			}
		})
	}
	return ss
}

// stop ends every stream and waits for the lookups in flight, which are dropped.
func (ss *streams) stop() {
	ss.cancel()
	ss.wg.Wait()
}

func (ss *streams) of(p Pair) *stream { return ss.byPair[p.key()] }

// outcomes returns a copy of the outcomes completed so far.
func (st *stream) outcomes() []outcome {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Clone(st.outs)
}

// first returns the first answer completed after t that satisfies ok.
func (st *stream) first(t time.Time, ok func(header string) bool) (outcome, bool) {
	for _, o := range st.outcomes() {
		if o.ok && o.done.After(t) && ok(o.header) {
			return o, true
		}
	}
	return outcome{}, false
}

// window summarizes the lookups sent in [from, to): how many were sent and failed, the p50 of the
// answers' round trips, and the most frequent Fd-Path among them.
func (st *stream) window(from, to time.Time) windowStats {
	var w windowStats
	var ds []time.Duration
	paths := map[string]int{}
	for _, o := range st.outcomes() {
		if o.sent.Before(from) || !o.sent.Before(to) {
			continue
		}
		w.Sent++
		if !o.ok {
			w.Failed++
			continue
		}
		ds = append(ds, o.done.Sub(o.sent))
		paths[o.header]++
	}
	w.Summary = Summarize(ds)
	l := LookupResult{Paths: paths}
	w.Header, w.Share, w.Answered = l.Path()
	return w
}

// windowStats describes a stream's lookups over a span of time.
type windowStats struct {
	Summary
	Sent, Failed int
	Header       string  // the most frequent Fd-Path of the answers
	Share        float64 // of the answers that took it
	Answered     bool    // some lookup was answered
}
