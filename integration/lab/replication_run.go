package lab

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/fedist/fedist/replication"
	"github.com/nats-io/nats.go"
)

// replProgressEvery is how often the scenario prints a progress line while a phase runs.
const replProgressEvery = 5 * time.Second

// runReplication starts a FeDist federation of its own on cfg.Topology, every node with the
// replica budget of cfg.Replication, runs the workload's phases one after the other and returns
// replication.json. It stops by itself after the phases; an error means the workload could not
// start, and the report so far is returned with it.
func runReplication(ctx context.Context, cfg *Config, prog *progress) (*ReplicationReport, error) {
	rc := &cfg.Replication
	top := cfg.Topology
	out := &ReplicationReport{Regions: top.Len(), KeysPerReader: rc.KeysPerRegion * (top.Len() - 1), MaxEntries: rc.MaxEntries,
		MaxBytes: rc.MaxBytes, HotRanks: rc.HotRanks, Phases: []ReplPhase{}, Owners: []ReplOwner{}, Readers: []ReplReader{}, StaleExamples: []StaleRead{}, Samples: []ReplSample{}, Notes: []string{},
		pairs: map[[2]string]bool{},
		Settings: fmt.Sprintf("every region reads other regions' records, Zipf(%v) over %d records per reader, one lookup every %v per region (at most %d under way); "+
			"values of %d B; replica budget per node %d entries, %d bytes; phases cold %v, warm %v (each owner writes %v/s over its %d top records), scan %v (once-only keys), after %v; figures read every %v",
			rc.Zipf, rc.KeysPerRegion*(top.Len()-1), rc.Every, rc.MaxInFlight, rc.ValueSize, rc.MaxEntries, rc.MaxBytes,
			rc.Cold, rc.Warm, rc.WritesPerSec, rc.WriteKeys, rc.Scan, rc.After, rc.SampleEvery)}
	if top.Len() < 2 {
		return out, fmt.Errorf("replication: %w: %d region, want at least 2", ErrConfig, top.Len())
	}
	fc := cfg.Federation(top, fed.ModeFeDist)
	base := fc.NodeConfig
	var mu sync.Mutex // guards staleAfter, off: regions start in parallel
	var staleAfter time.Duration
	off := false
	fc.NodeConfig = func(b broker.Config, r topo.Region) node.Config {
		c := base(b, r)
		c.Replication.Store = replication.StoreConfig{MaxBytes: rc.MaxBytes, MaxEntries: rc.MaxEntries, Seed: rc.Seed}
		c.Replication.Detector.Seed = rc.Seed
		mu.Lock()
		staleAfter, off = max(staleAfter, c.Replication.StaleAfter), off || c.Replication.Off
		mu.Unlock()
		return c
	}
	prog.printf("replication: starting %d regions of its own (replica budget %d entries, %d B per node)", top.Len(), rc.MaxEntries, rc.MaxBytes)
	f, err := fed.Start(ctx, fc)
	if err != nil {
		return out, fmt.Errorf("replication federation: %w", err)
	}
	defer f.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = f.WaitConverged(wctx)
	cancel()
	if err != nil {
		return out, fmt.Errorf("replication federation: registry: %w", err)
	}
	if off {
		out.Notes = append(out.Notes, "replication is off in the nodes' config: nothing will be replicated")
	}
	out.StaleAfterMs = ms(staleAfter)

	clients := map[regions.RegionID]*client.Client{}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, r := range top.Regions() {
		cctx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
		c, err := client.Connect(cctx, strings.Join(f.ClientURLs(r.ID), ","), nats.Name("fedist-lab replication in "+r.Name))
		cancel()
		if err != nil {
			return out, fmt.Errorf("replication: client of %s: %w", r.Name, err)
		}
		clients[r.ID] = c
	}
	w := newReplWork(rc, top, clients, staleAfter)
	for id, c := range clients {
		if _, err := c.Serve(replKind, w.owners[id].serve); err != nil {
			return out, fmt.Errorf("replication: responder of %s: %w", top.Name(id), err)
		}
	}
	sctx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
	var swg sync.WaitGroup
	errs := make([]error, len(w.readers))
	for i, rd := range w.readers {
		swg.Go(func() { errs[i] = rd.c.WaitServe(sctx, replKind) })
	}
	swg.Wait()
	cancel()
	for i, err := range errs {
		if err != nil {
			out.Notes = append(out.Notes, fmt.Sprintf("%s did not see every responder within %v: %v", w.readers[i].region.Name, cfg.WarmupTimeout, err))
		}
	}

	// The readers run through all phases; the writers during the warm phase; the sampler reads
	// every node's figures all along.
	t0 := time.Now()
	rctx, stopReaders := context.WithCancel(ctx)
	var rwg sync.WaitGroup
	for _, rd := range w.readers {
		rwg.Go(func() { rd.run(rctx, w) })
	}
	smp := &replSampler{f: f, w: w, t0: t0, every: rc.SampleEvery, prev: map[regions.RegionID]replCounts{}, prog: prog}
	rwg.Go(func() { smp.run(rctx) })
	for i, ph := range replPhases {
		w.phase.Store(int32(i))
		start := time.Since(t0)
		prog.printf("replication: phase %s for %v", ph, rc.phaseLen(ph))
		var wwg sync.WaitGroup
		wrctx, stopWriters := context.WithCancel(rctx)
		if ph == phaseWarm {
			w.runWriters(wrctx, &wwg)
		}
		sleepCtx(ctx, rc.phaseLen(ph))
		stopWriters()
		wwg.Wait()
		out.Phases = append(out.Phases, ReplPhase{Name: ph, StartS: start.Seconds(), EndS: time.Since(t0).Seconds()})
		if ctx.Err() != nil {
			break
		}
	}
	stopReaders()
	rwg.Wait()
	out.Samples, out.BudgetExceeded = smp.samples, smp.over
	if out.Samples == nil {
		out.Samples = []ReplSample{}
	}
	w.summarize(out, f)
	prog.printf("replication: %s", out.headline())
	return out, ctx.Err()
}

// replCounts are a region's cumulative reader counters, for the sampler's intervals.
type replCounts struct{ asked, hits uint64 }

// replSampler reads every node's replication figures once per interval into samples.
type replSampler struct {
	f       *fed.Federation
	w       *replWork
	t0      time.Time
	every   time.Duration
	prog    *progress
	prev    map[regions.RegionID]replCounts
	samples []ReplSample // owned by run until it returns
	over    int          // samples with some node over its budget
	printed time.Time
}

func (s *replSampler) run(ctx context.Context) {
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		s.sample()
	}
}

func (s *replSampler) sample() {
	top := s.f.Topology()
	smp := ReplSample{TS: time.Since(s.t0).Seconds(), Phase: s.w.phaseName()}
	var asked, hits uint64
	for _, r := range top.Regions() {
		sr := ReplSampleRegion{Region: r.Name}
		var c replCounts
		for _, n := range s.f.Nodes(r.ID) {
			st := n.ReplicationStats(0)
			c.asked += st.Lookups - st.Fresh
			c.hits += st.Hits
			sr.Bytes, sr.MaxBytes = sr.Bytes+st.Store.Bytes, sr.MaxBytes+st.Store.MaxBytes
			sr.Entries, sr.MaxEntries = sr.Entries+st.Store.Entries, sr.MaxEntries+st.Store.MaxEntries
			sr.Evictions += st.Store.Evictions
			sr.Candidates += st.Candidates
			sr.Holding += st.Holding
			sr.LagP50Ms, sr.LagP99Ms = max(sr.LagP50Ms, st.LagP50Ms), max(sr.LagP99Ms, st.LagP99Ms)
			if st.Store.Bytes > st.Store.MaxBytes || st.Store.Entries > st.Store.MaxEntries {
				smp.Over = true
			}
		}
		p := s.prev[r.ID]
		s.prev[r.ID] = c
		sr.Lookups, sr.Hits = c.asked-p.asked, c.hits-p.hits
		sr.HitRatio = ratio(sr.Hits, sr.Lookups)
		asked, hits = asked+sr.Lookups, hits+sr.Hits
		smp.Regions = append(smp.Regions, sr)
	}
	smp.HitRatio = ratio(hits, asked)
	if smp.Over {
		s.over++
	}
	s.samples = append(s.samples, smp)
	if time.Since(s.printed) >= replProgressEvery {
		s.printed = time.Now()
		var entries, maxEntries, ev uint64
		for _, sr := range smp.Regions {
			entries, maxEntries, ev = max(entries, uint64(sr.Entries)), max(maxEntries, uint64(sr.MaxEntries)), ev+sr.Evictions
		}
		s.prog.printf("replication, %s at %.0f s: hit ratio %s over the last %v, fullest store %d/%d entries, %d evictions in all, %d samples over budget",
			smp.Phase, smp.TS, ptrNum(smp.HitRatio), s.every, entries, maxEntries, ev, s.over)
	}
}

// ratio returns a/b, or nil when b is 0.
func ratio[T int | uint64](a, b T) *float64 {
	if b == 0 {
		return nil
	}
	return num(float64(a) / float64(b))
}

func ptrNum(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.2f", *v)
}

// summarize fills the report's phases, owners, readers and summary from the readers' reads and
// the nodes' figures at the end.
func (w *replWork) summarize(out *ReplicationReport, f *fed.Federation) {
	top := f.Topology()
	var failed, skipped int
	lastErr := ""
	for i := range out.Phases {
		ph := &out.Phases[i]
		var agg phaseReads
		for _, rd := range w.readers {
			rd.mu.Lock()
			p := rd.phases[ph.Name]
			agg.reads, agg.failed, agg.skipped, agg.replica = agg.reads+p.reads, agg.failed+p.failed, agg.skipped+p.skipped, agg.replica+p.replica
			agg.repeat, agg.repeatReplica = agg.repeat+p.repeat, agg.repeatReplica+p.repeatReplica
			agg.stale, agg.behind, agg.wrong = agg.stale+p.stale, agg.behind+p.behind, agg.wrong+p.wrong
			agg.maxBehind = max(agg.maxBehind, p.maxBehind)
			agg.lat, agg.hot, agg.hotRemote = append(agg.lat, p.lat...), append(agg.hot, p.hot...), append(agg.hotRemote, p.hotRemote...)
			if rd.lastErr != "" {
				lastErr = rd.region.Name + ": " + rd.lastErr
			}
			rd.mu.Unlock()
		}
		ph.Reads, ph.Failed, ph.Skipped, ph.Replica = agg.reads, agg.failed, agg.skipped, agg.replica
		ph.HitRatio = ratio(agg.replica, agg.reads-agg.failed)
		ph.Repeat, ph.RepeatReplica, ph.RepeatHitRatio = agg.repeat, agg.repeatReplica, ratio(agg.repeatReplica, agg.repeat)
		ph.P50Ms, ph.HotP50Ms, ph.HotRemoteP50Ms = p50Ptr(agg.lat), p50Ptr(agg.hot), p50Ptr(agg.hotRemote)
		ph.Stale, ph.Behind = agg.stale, agg.behind
		out.StaleReads, out.BehindReads, out.WrongValues = out.StaleReads+agg.stale, out.BehindReads+agg.behind, out.WrongValues+agg.wrong
		out.MaxBehindMs = max(out.MaxBehindMs, *num(ms(agg.maxBehind)))
		failed, skipped = failed+agg.failed, skipped+agg.skipped
		switch ph.Name {
		case phaseCold:
			out.HotBeforeMs = ph.HotRemoteP50Ms
		case phaseWarm:
			out.HitRatioWarm, out.HitRatioWarmAll, out.HotAfterMs = ph.RepeatHitRatio, ph.HitRatio, ph.HotP50Ms
			ph.Writes = int(w.writes.Load())
		case phaseAfter:
			out.HitRatioAfterScan, out.HitRatioAfterScanAll = ph.RepeatHitRatio, ph.HitRatio
		}
	}
	out.Writes, out.WritesFail = int(w.writes.Load()), int(w.writesFailed.Load())

	// Owners: the lag of their pushes. The nodes give quantiles, not samples, so the pooled p50 is
	// the sample-weighted median of the owners' p50s, and the pooled p99 is bounded by their largest.
	type lagOf struct {
		p50 float64
		n   uint64
	}
	var lags []lagOf
	var lagP99 float64
	for _, r := range top.Regions() {
		o := ReplOwner{Region: r.Name}
		for _, n := range f.Nodes(r.ID) {
			st := n.ReplicationStats(0)
			o.Holds, o.Readers, o.Pushes, o.Invalidations = o.Holds+st.Holds, o.Readers+st.Readers, o.Pushes+st.Pushes, o.Invalidations+st.Invalidations
			o.LagP50Ms, o.LagP99Ms, o.LagSamples = max(o.LagP50Ms, st.LagP50Ms), max(o.LagP99Ms, st.LagP99Ms), o.LagSamples+st.LagSamples
			if st.LagSamples > 0 {
				lags = append(lags, lagOf{st.LagP50Ms, st.LagSamples})
				lagP99 = max(lagP99, st.LagP99Ms)
			}
		}
		out.LagSamples += o.LagSamples
		out.Owners = append(out.Owners, o)
	}
	if len(lags) > 0 {
		slices.SortFunc(lags, func(a, b lagOf) int { return cmp.Compare(a.p50, b.p50) })
		half, acc := float64(out.LagSamples)/2, 0.0
		for _, l := range lags {
			if acc += float64(l.n); acc >= half {
				out.LagP50Ms = num(l.p50)
				break
			}
		}
		out.LagP99Ms = num(lagP99)
	}

	// Readers: their nodes' counters, and the slowest owner-reader path a replica answered for.
	pathRTT := -1.0
	for _, rd := range w.readers {
		x := ReplReader{Region: rd.region.Name, Top: []DemandTop{}}
		rd.mu.Lock()
		x.HitRatioWarm = ratio(rd.phases[phaseWarm].repeatReplica, rd.phases[phaseWarm].repeat)
		x.HitRatioAfterScan = ratio(rd.phases[phaseAfter].repeatReplica, rd.phases[phaseAfter].repeat)
		owners := slices.Sorted(maps.Keys(rd.answered))
		out.StaleExamples = append(out.StaleExamples, rd.stale...)
		rd.mu.Unlock()
		for _, o := range owners {
			if rtt, err := top.TreeRTT(o, rd.region.ID); err == nil && rtt > pathRTT {
				pathRTT, out.PathOwner, out.PathReader = rtt, top.Name(o), rd.region.Name
			}
		}
		for _, n := range f.Nodes(rd.region.ID) {
			st := n.ReplicationStats(8)
			x.Lookups, x.Hits, x.Admitted = x.Lookups+st.Lookups, x.Hits+st.Hits, x.Admitted+st.Admitted
			x.Evictions, x.Rejected, x.Refused = x.Evictions+st.Store.Evictions, x.Rejected+st.Store.Rejected, x.Refused+st.Stale
			x.Gaps, x.OverBudget = x.Gaps+st.Gaps, x.OverBudget+st.OverBudget
			x.Entries, x.Bytes = x.Entries+st.Store.Entries, x.Bytes+st.Store.Bytes
			for _, d := range st.Top {
				id, _ := regions.ParseID(d.ID)
				x.Top = append(x.Top, DemandTop{ID: d.ID, Rank: rd.rank[id], Count: *num(d.Count), Rate: *num(d.Rate), Held: d.Held})
			}
		}
		out.Readers = append(out.Readers, x)
	}
	if pathRTT >= 0 {
		out.PathRTTMs = num(pathRTT)
	}

	if failed > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d lookups failed, the last with: %s", failed, lastErr))
	}
	if skipped > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d lookups were not sent: their region had %d under way", skipped, w.cfg.MaxInFlight))
	}
	if out.WritesFail > 0 {
		e := ""
		if p := w.lastWriteErr.Load(); p != nil {
			e = *p
		}
		out.Notes = append(out.Notes, fmt.Sprintf("%d of %d writes failed to be reported, the last with: %s", out.WritesFail, out.Writes, e))
	}
	if out.BudgetExceeded > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("in %d samples a node held more than its replica budget", out.BudgetExceeded))
	}
	if out.WrongValues > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d answers carried another record's value", out.WrongValues))
	}
	if out.StaleReads > 0 {
		out.Notes = append(out.Notes, fmt.Sprintf("%d answers were older than the staleness bound allows (StaleAfter %.0f ms plus the tree RTT)", out.StaleReads, out.StaleAfterMs))
	}
}

func p50Ptr(ds []time.Duration) *float64 {
	if len(ds) == 0 {
		return nil
	}
	return num(Summarize(ds).P50)
}

// headline is the one-line summary the progress and report.md open with.
func (r *ReplicationReport) headline() string {
	return fmt.Sprintf("hit ratio warm %s (all reads %s), after the scan %s; lag p50 %s ms, p99 %s ms over %d pushes (slowest path %s ms, %s → %s); "+
		"hot lookups p50 %s ms before, %s ms warm; %d samples over budget; %d stale, %d behind within the bound, %d wrong answers; %d writes",
		ptrNum(r.HitRatioWarm), ptrNum(r.HitRatioWarmAll), ptrNum(r.HitRatioAfterScan), ptrMs(r.LagP50Ms), ptrMs(r.LagP99Ms), r.LagSamples,
		ptrMs(r.PathRTTMs), r.PathOwner, r.PathReader, ptrMs(r.HotBeforeMs), ptrMs(r.HotAfterMs), r.BudgetExceeded,
		r.StaleReads, r.BehindReads, r.WrongValues, r.Writes)
}
