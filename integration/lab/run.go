package lab

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// Run builds each mode's federation in turn, measures it, closes it, and returns the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	prog := newProgress(cfg.Progress)
	top := cfg.Topology
	rep, err := newReport(&cfg)
	if err != nil {
		return nil, err
	}
	for _, w := range top.Warnings {
		rep.Notes = append(rep.Notes, "topology: "+w)
		prog.printf("warning: %s", w)
	}
	rep.Skew, rep.SkewMax, rep.SkewSeed = drawSkew(top, cfg.Skew, cfg.SkewSeed), cfg.Skew, cfg.SkewSeed
	pairs := allPairs(top)
	for _, mode := range cfg.Modes {
		if err := runMode(ctx, &cfg, mode, pairs, rep, prog); err != nil {
			return nil, err
		}
	}
	if slices.Contains(cfg.Scenarios, ScenarioReplication) {
		var err error
		if rep.Replication, err = runReplication(ctx, &cfg, prog); err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("replication scenario: %v", err))
			prog.printf("WARNING: replication scenario: %v", err)
		}
	}
	if rep.Failover != nil && cfg.Failover.Baseline {
		if err := failoverBaseline(ctx, &cfg, rep.Failover, prog); err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("failover, plain NATS beside it: %v", err))
			prog.printf("WARNING: failover baseline: %v", err)
		}
	}
	rep.Took = time.Since(rep.Started)
	prog.printf("done in %v", rep.Took.Round(time.Second))
	return rep, nil
}

func runMode(ctx context.Context, cfg *Config, mode fed.Mode, pairs []Pair, rep *Report, prog *progress) error {
	top := cfg.Topology
	prog.printf("%s: starting %d regions", mode, top.Len())
	start := time.Now()
	fc := cfg.Federation(top, mode)
	if mode == fed.ModeFeDist && rep.Skew != nil {
		fc.Skew = rep.Skew
	}
	f, err := fed.Start(ctx, fc)
	if err != nil {
		return fmt.Errorf("%s federation: %w", mode, err)
	}
	defer f.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = f.WaitConverged(wctx)
	cancel()
	if err != nil {
		return fmt.Errorf("%s federation: registry: %w", mode, err)
	}
	rep.StartUp[mode] = time.Since(start)
	prog.printf("%s: %d regions up in %v", mode, top.Len(), rep.StartUp[mode].Round(time.Millisecond))
	checkLinks := func(when string) {
		if err := f.CheckLinks(); err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s, %s: %v", mode, when, err))
			prog.printf("WARNING: %s: %v", when, err)
		}
	}
	checkLinks("before measuring")
	env, err := newLookupEnv(ctx, f, cfg)
	if err != nil {
		return fmt.Errorf("%s lookups: %w", mode, err)
	}
	defer env.close()
	run, err := measureLookups(ctx, env, pairs, cfg, prog, string(mode), true)
	if err != nil {
		return err
	}
	rep.record(mode, run, f)
	// The load scenario first: a failover's cuts leave shortcuts closed and their redials held back.
	if mode == fed.ModeFeDist && slices.Contains(cfg.Scenarios, ScenarioLoad) {
		rep.Load = runLoad(ctx, env, cfg, prog)
	}
	if mode == fed.ModeFeDist && slices.Contains(cfg.Scenarios, ScenarioFailover) {
		rep.Failover = runFailover(ctx, env, rep, cfg, prog)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tps := throughputPairs(top, pairs, cfg.ThroughputPairs)
	if len(tps) > 0 {
		prog.begin(fmt.Sprintf("%s: publish throughput, %d pairs one at a time", mode, len(tps)), len(tps))
	}
	for _, p := range tps {
		t := measureThroughput(ctx, f, p, cfg)
		rep.row(p.key()).Throughput[mode] = &t
		prog.tick()
	}
	if cfg.ZeroDelayControl {
		if err := zeroDelayControl(ctx, env, cfg, pairs, rep, prog); err != nil {
			return err
		}
	}
	checkLinks("after measuring")
	prog.printf("%s: closing", mode)
	env.close()
	return f.Close()
}

// record files a mode's timed lookups into the report: each pair's result and, for FeDist, the
// path it took, the routing warm-up, the links and the regions' figures.
func (r *Report) record(mode fed.Mode, run *timedRun, f *fed.Federation) {
	top := f.Topology()
	for k, res := range run.Results {
		row := r.row(k)
		row.Lookup[mode] = res
		if res.Err != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %s to %s: %s", mode, top.Name(k[0]), top.Name(k[1]), res.Err))
		}
		if res.Errors > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("%s: %s to %s: %d timed lookups failed, the last with: %s", mode, top.Name(k[0]), top.Name(k[1]),
				res.Errors, res.LastErr))
		}
		if mode == fed.ModeFeDist {
			if err := row.setRoute(top); err != nil {
				r.Notes = append(r.Notes, fmt.Sprintf("%s: %s to %s: %v", mode, top.Name(k[0]), top.Name(k[1]), err))
			}
		}
	}
	r.TimedTook[mode] = run.End.Sub(run.Start)
	r.Background[mode] = run.Background
	if b := run.Background; b.Failed > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%s: %d of %d background lookups failed while lookups were timed, the last with: %s", mode, b.Failed, b.Sent, b.LastErr))
	}
	if mode != fed.ModeFeDist {
		return
	}
	r.Warmup, r.RouteChanges, r.Regions = run.Warmup, run.RouteChanges, run.Regions
	r.Links = linkRecords(top, f.Net().RTT, r.Skew, run.Links)
	if r.Links == nil {
		r.Links = []LinkRecord{} // FeDist ran: links.json is written, empty
	}
	if w := run.Warmup; w != nil && !w.Settled {
		r.Notes = append(r.Notes, fmt.Sprintf("%s: the routes were still changing when the routing warm-up ended after %.0f s", mode, w.TookS))
	}
}

// zeroDelayControl sets the delay of every allowed link to 0 and times the lookups again, into
// each row's Control. It runs last: the federation keeps the zero delays until it is closed.
func zeroDelayControl(ctx context.Context, env *lookupEnv, cfg *Config, pairs []Pair, rep *Report, prog *progress) error {
	f := env.f
	top, mode := f.Topology(), f.Mode()
	for _, l := range top.AllowedLinks() {
		if err := f.SetRTT(l[0], l[1], 0); err != nil {
			return fmt.Errorf("%s zero-delay control: %w", mode, err)
		}
	}
	run, err := measureLookups(ctx, env, pairs, cfg, prog, string(mode)+", links at 0 ms", false)
	if err != nil {
		return err
	}
	for k, r := range run.Results {
		rep.row(k).Control[mode] = r
		if r.Err != "" {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s, links at 0 ms: %s to %s: %s", mode, top.Name(k[0]), top.Name(k[1]), r.Err))
		}
	}
	return nil
}

// allPairs returns every ordered pair of distinct regions, in topology order.
func allPairs(top *topo.Topology) []Pair {
	rs := top.Regions()
	var out []Pair
	for _, a := range rs {
		for _, b := range rs {
			if a.ID != b.ID {
				out = append(out, Pair{a, b})
			}
		}
	}
	return out
}

// newReport lays out one row per ordered pair with its oracle and tree references.
func newReport(cfg *Config) (*Report, error) {
	top := cfg.Topology
	rep := &Report{
		Topology:    top.File,
		Modes:       cfg.Modes,
		Started:     time.Now(),
		StartUp:     map[fed.Mode]time.Duration{},
		TimedTook:   map[fed.Mode]time.Duration{},
		Background:  map[fed.Mode]counts{},
		Concurrency: cfg.Concurrency,
		Procs:       runtime.GOMAXPROCS(0),
		Settings: fmt.Sprintf("%d lookups per pair, %d pairs at once, background lookups every %v per pair; "+
			"routing warm-up (fedist) up to %v until routes are stable for %v, one lookup every %v per pair; "+
			"%d throughput pairs (%d × %d B or %v each); %s/%s, %d CPUs, %s",
			cfg.Samples, cfg.Concurrency, cfg.BackgroundEvery, cfg.RoutingWarmup, cfg.RoutingStable, cfg.RoutingEvery,
			cfg.ThroughputPairs, cfg.ThroughputMsgs, cfg.MsgSize, cfg.ThroughputTime,
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version()),
		index: map[[2]regions.RegionID]int{},
		top:   top,
	}
	for _, p := range allPairs(top) {
		or, err := top.OracleRTT(p.From.ID, p.To.ID)
		if err != nil {
			return nil, err
		}
		tree, err := top.TreeRTT(p.From.ID, p.To.ID)
		if err != nil {
			return nil, err
		}
		opath, _ := top.OraclePath(p.From.ID, p.To.ID)
		tpath, _ := top.Tree().TreePath(p.From.ID, p.To.ID)
		rep.index[p.key()] = len(rep.Rows)
		rep.Rows = append(rep.Rows, &Row{
			From: p.From, To: p.To, OracleMs: or, TreeMs: tree,
			OraclePath: names(top, opath), TreePath: names(top, tpath),
			Lookup: map[fed.Mode]*LookupResult{}, Control: map[fed.Mode]*LookupResult{},
			Throughput: map[fed.Mode]*ThroughputResult{},
		})
	}
	return rep, nil
}

func names(top *topo.Topology, ids []regions.RegionID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = top.Name(id)
	}
	return out
}
