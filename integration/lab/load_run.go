package lab

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/fedist/fedist/regions"
)

// runLoad slows down the relay of the region busiestRelay picks from the engine's current route
// tables, on all its nodes, while the pairs whose route crosses it send lookups, and records their paths and p50 before, during (once
// the engine reacted, or LoadConfig.ReactTimeout passed) and after the slowdown. It states plainly
// in the verdict whether the engine routed around the slow relay.
func runLoad(ctx context.Context, env *lookupEnv, cfg *Config, prog *progress) *LoadReport {
	lc := &cfg.Load
	f, top := env.f, env.f.Topology()
	out := &LoadReport{Pairs: []LoadPair{}, Notes: []string{}, SlowdownMs: ms(lc.Slowdown),
		Settings: fmt.Sprintf("%v per message at the slowed relay; one lookup every %v per affected pair (at most %d pairs, timeout %v), %v of them before the first phase; phases of %v; up to %v for the engine to react and to return",
			lc.Slowdown, lc.Every, lc.MaxPairs, lc.RequestTimeout, lc.Settle, lc.Window, lc.ReactTimeout)}
	r, n, inter := busiestRelay(currentPaths(f))
	if n == 0 {
		out.Verdict = "No route of the engine's tables crossed a relay other than its sender's, so there was no relay to slow down; nothing was measured."
		prog.printf("load: %s", out.Verdict)
		return out
	}
	out.Region, out.RegionID, out.Intermediate, out.PathsThrough = top.Name(r), r.String(), inter, n
	if !inter {
		out.Notes = append(out.Notes, fmt.Sprintf("no route had a relay between sender and destination; %s was chosen as the destination-end relay of %d shortcut routes", out.Region, n))
	}
	pairs := affectedPairs(top, currentPaths(f), r, inter, lc.MaxPairs)
	prog.printf("load: slowing %s's relay by %v (it relays %d routes); %d pairs send lookups", out.Region, lc.Slowdown, n, len(pairs))
	ss := startStreams(ctx, pairs, lc.Every, lc.RequestTimeout, env.lookup)
	defer ss.stop()
	expanders := map[[2]regions.RegionID]func(string) (Path, bool){}
	for _, p := range pairs {
		expanders[p.key()] = func(h string) (Path, bool) {
			x, err := ExpandPath(top.Tree(), p.From.ID, p.To.ID, h)
			return x, err == nil
		}
	}
	avoids := func(h string) bool { rs, err := Relays(h); return err == nil && !slices.Contains(rs, r) }

	sleepCtx(ctx, lc.Settle) // the engine adapts to the pairs' traffic first
	t0 := time.Now()
	sleepCtx(ctx, lc.Window)
	before := map[[2]regions.RegionID]windowStats{}
	kept := pairs[:0:0]
	for _, p := range pairs {
		w := ss.of(p).window(t0, time.Now())
		if !w.Answered || avoids(w.Header) {
			out.Notes = append(out.Notes, fmt.Sprintf("%s → %s: its lookups did not cross %s's relay before the slowdown (%q), although its route did; left out",
				p.From.Name, p.To.Name, out.Region, w.Header))
			continue
		}
		before[p.key()] = w
		kept = append(kept, p)
	}
	pairs = kept
	if len(pairs) == 0 {
		out.Verdict = fmt.Sprintf("No affected pair's lookups crossed %s's relay when measured; nothing was slowed down.", out.Region)
		prog.printf("load: %s", out.Verdict)
		return out
	}

	slow := f.Nodes(r)
	setSlowdown := func(d time.Duration) {
		for _, nd := range slow {
			nd.Overlay().SetSlowdown(d)
		}
	}
	qctx, stopQueue := context.WithCancel(ctx)
	var qwg sync.WaitGroup
	qwg.Go(func() {
		for sleepCtx(qctx, 100*time.Millisecond) {
			q := 0
			for _, nd := range slow {
				q += nd.Overlay().Pending()
			}
			out.QueueMax = max(out.QueueMax, q)
		}
	})
	tSlow := time.Now()
	setSlowdown(lc.Slowdown)
	react := waitAll(ctx, ss, pairs, tSlow, lc.ReactTimeout, func(p Pair) func(string) bool { return avoids })
	tDuring := time.Now()
	sleepCtx(ctx, lc.Window)
	during := map[[2]regions.RegionID]windowStats{}
	for _, p := range pairs {
		during[p.key()] = ss.of(p).window(tDuring, time.Now())
	}
	tFix := time.Now()
	setSlowdown(0)
	stopQueue()
	qwg.Wait()
	back := waitAll(ctx, ss, pairs, tFix, lc.ReactTimeout, func(p Pair) func(string) bool {
		want := before[p.key()].Header
		return func(h string) bool { return h == want }
	})
	tAfter := time.Now()
	sleepCtx(ctx, lc.Window)

	var reacted []float64
	for _, p := range pairs {
		k := p.key()
		lp := LoadPair{From: p.From.Name, To: p.To.Name, FromID: p.From.ID.String(), ToID: p.To.ID.String(),
			Before: phaseOf(top, before[k], expanders[k]), During: phaseOf(top, during[k], expanders[k]),
			After: phaseOf(top, ss.of(p).window(tAfter, time.Now()), expanders[k])}
		if d, ok := react[k]; ok {
			lp.ReactMs = num(ms(d))
		}
		if d, ok := back[k]; ok {
			lp.BackMs = num(ms(d))
		}
		lp.Moved = moved(lp.Before, lp.During, avoids)
		switch lp.Moved {
		case "detoured":
			out.RoutedAround++
			reacted = append(reacted, ms(react[k]))
		case "improved":
			out.Improved++
		}
		out.Pairs = append(out.Pairs, lp)
	}
	out.Verdict = loadVerdict(out, len(pairs), reacted, lc)
	prog.printf("load: %s", out.Verdict)
	return out
}

// waitAll waits, up to timeout, until every pair has an answer completed after t whose Fd-Path
// satisfies its test, and returns how long after t each pair's first one came.
func waitAll(ctx context.Context, ss *streams, pairs []Pair, t time.Time, timeout time.Duration, test func(Pair) func(string) bool) map[[2]regions.RegionID]time.Duration {
	got := map[[2]regions.RegionID]time.Duration{}
	for ctx.Err() == nil && time.Since(t) < timeout && len(got) < len(pairs) {
		for _, p := range pairs {
			if _, ok := got[p.key()]; ok {
				continue
			}
			if o, ok := ss.of(p).first(t, test(p)); ok {
				got[p.key()] = o.done.Sub(t)
			}
		}
		sleepCtx(ctx, pollEvery)
	}
	return got
}

// loadVerdict says in one sentence whether the engine routed around the slowed relay.
func loadVerdict(l *LoadReport, pairs int, reactedMs []float64, lc *LoadConfig) string {
	var b50, d50 []float64
	for _, p := range l.Pairs {
		if p.Before.P50Ms != nil && p.During.P50Ms != nil {
			b50, d50 = append(b50, *p.Before.P50Ms), append(d50, *p.During.P50Ms)
		}
	}
	lat := ""
	if len(b50) > 0 {
		lat = fmt.Sprintf("; median p50 of the affected pairs %.1f ms before, %.1f ms during the slowdown", median(b50), median(d50))
	}
	improved := ""
	if l.Improved > 0 {
		improved = fmt.Sprintf(" %d left it for a path shorter on the matrix (see react_ms for when): the engine would take such a path without the slowdown too, so the lab cannot tell whether the slowdown prompted the move and does not count it as routing around.", l.Improved)
	}
	stayed := pairs - l.RoutedAround - l.Improved
	switch {
	case l.RoutedAround == 0:
		return fmt.Sprintf("The engine did NOT route around %s's slowed relay (%v per message, queue up to %d): within %v none of the %d affected pairs detoured around it, %d kept crossing it%s.%s",
			l.Region, lc.Slowdown, l.QueueMax, lc.ReactTimeout, pairs, stayed, lat, improved)
	case stayed > 0:
		return fmt.Sprintf("The engine routed %d of %d affected pairs around %s's slowed relay (queue up to %d; median %.1f s after the slowdown); %d kept crossing it%s.%s",
			l.RoutedAround, pairs, l.Region, l.QueueMax, median(reactedMs)/1000, stayed, lat, improved)
	}
	return fmt.Sprintf("The engine routed %d of %d affected pairs around %s's slowed relay (queue up to %d), a median %.1f s after the slowdown%s.%s",
		l.RoutedAround, pairs, l.Region, l.QueueMax, median(reactedMs)/1000, lat, improved)
}
