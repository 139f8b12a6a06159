package lab

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// WarmupResult is how the routing warm-up went.
type WarmupResult struct {
	Took    time.Duration `json:"-"`
	TookS   float64       `json:"took_s"`
	Settled bool          `json:"settled"` // the route tables stopped changing before Config.RoutingWarmup ran out
	Changes int           `json:"changes"` // how many times the route tables changed, as polled every 250 ms
	Lookups int           `json:"lookups"`
	Failed  int           `json:"failed"`
	LastErr string        `json:"last_error"` // the last failure's error
	// OffTree is how many routes, over all nodes, crossed a shortcut at the end; Shortcuts how many
	// shortcut connections the nodes had opened.
	OffTree   int `json:"routes_off_tree"`
	Shortcuts int `json:"shortcuts_opened"`
}

// routingWarmup keeps every pair sending a lookup per Config.RoutingEvery until the route tables
// of all nodes have not changed for Config.RoutingStable (and at least twice that has passed), or
// Config.RoutingWarmup runs out. It prints progress every two seconds.
func routingWarmup(ctx context.Context, env *lookupEnv, pairs []Pair, cfg *Config, prog *progress, name string) WarmupResult {
	var res WarmupResult
	prog.printf("%s: routing warm-up: every pair sends a lookup every %v until the routes of all nodes stay the same for %v, at most %v",
		name, cfg.RoutingEvery, cfg.RoutingStable, cfg.RoutingWarmup)
	ctx, cancel := context.WithCancel(ctx)
	var sent, failed atomic.Int64
	var lastErr atomic.Pointer[string]
	var wg sync.WaitGroup
	for _, p := range pairs {
		wg.Go(func() {
			for seq := uint64(1 << 32); ctx.Err() == nil; seq++ {
				next := time.Now().Add(cfg.RoutingEvery)
				_, err := env.lookup(ctx, p, seq, env.timeout(p))
				if ctx.Err() != nil {
					return
				}
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					msg := err.Error()
					lastErr.Store(&msg)
				}
				sleepCtx(ctx, time.Until(next))
			}
		})
	}
	start := time.Now()
	last, changed, printed := routeSignature(env.f), start, start
	for sleepCtx(ctx, 250*time.Millisecond) {
		now := time.Now()
		if s := routeSignature(env.f); s != last {
			last, changed = s, now
			res.Changes++
		}
		if now.Sub(changed) >= cfg.RoutingStable && now.Sub(start) >= 2*cfg.RoutingStable {
			res.Settled = true
			break
		}
		if now.Sub(start) >= cfg.RoutingWarmup {
			break
		}
		if now.Sub(printed) >= 2*time.Second {
			printed = now
			off, sc := routeCounts(env.f)
			prog.printf("%s: routing warm-up %4.1fs: routes last changed %.1fs ago (%d changes), %d routes off the tree, %d shortcuts open, %d lookups (%d failed)",
				name, now.Sub(start).Seconds(), now.Sub(changed).Seconds(), res.Changes, off, sc, sent.Load(), failed.Load())
		}
	}
	cancel()
	wg.Wait()
	res.Took = time.Since(start)
	res.TookS = res.Took.Round(100 * time.Millisecond).Seconds()
	res.Lookups, res.Failed = int(sent.Load()), int(failed.Load())
	if e := lastErr.Load(); e != nil {
		res.LastErr = *e
	}
	res.OffTree, res.Shortcuts = routeCounts(env.f)
	verdict := "routes settled"
	if !res.Settled {
		verdict = fmt.Sprintf("routes still changing when the %v bound ran out", cfg.RoutingWarmup)
	}
	prog.printf("%s: routing warm-up done in %.1fs, %s: %d changes, %d routes off the tree, %d shortcuts open, %d lookups (%d failed)",
		name, res.Took.Seconds(), verdict, res.Changes, res.OffTree, res.Shortcuts, res.Lookups, res.Failed)
	return res
}

// routeSignature describes the route tables of every node: destinations, paths and kinds, not
// costs (a refreshed cost is not a route change).
func routeSignature(f *fed.Federation) string {
	var b strings.Builder
	for _, r := range f.Topology().Regions() {
		for _, n := range f.Nodes(r.ID) {
			fmt.Fprintf(&b, "%s/%s:", r.ID, n.Broker().Name())
			for _, rt := range n.Routes() {
				b.WriteString(rt.String())
				b.WriteByte(';')
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// routeCounts returns how many routes of all nodes cross a shortcut, and how many shortcuts the
// nodes opened.
func routeCounts(f *fed.Federation) (offTree, shortcuts int) {
	for _, r := range f.Topology().Regions() {
		for _, n := range f.Nodes(r.ID) {
			for _, rt := range n.Routes() {
				for _, k := range rt.Kinds {
					if k == costs.Shortcut {
						offTree++
						break
					}
				}
			}
			shortcuts += len(n.Shortcuts().Opened)
		}
	}
	return offTree, shortcuts
}

// currentPaths returns the path each region's engine routes each destination on now, from the
// route table of the region's first node; a destination without a route is left out.
func currentPaths(f *fed.Federation) map[[2]regions.RegionID]Path {
	out := map[[2]regions.RegionID]Path{}
	for _, r := range f.Topology().Regions() {
		ns := f.Nodes(r.ID)
		if len(ns) == 0 {
			continue
		}
		for _, rt := range ns[0].Routes() {
			p := Path{Regions: rt.Path, Shortcut: make([]bool, len(rt.Kinds))}
			for i, k := range rt.Kinds {
				p.Shortcut[i] = k == costs.Shortcut
			}
			out[[2]regions.RegionID{r.ID, rt.Dest}] = p
		}
	}
	return out
}
