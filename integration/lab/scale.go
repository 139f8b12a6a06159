package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// ScaleConfig describes a scale smoke run.
type ScaleConfig struct {
	// Regions is the number of regions, the root included.
	Regions int
	// Fanout is the number of children per region; the tree is filled level by level, so 100
	// regions with fanout 4 are 1 + 4 + 16 + 64 + 15: depth 4.
	Fanout int
	// RTT is the round-trip time of every tree link.
	RTT time.Duration
	// Mode is the kind of federation. Registry convergence is measured in ModeFeDist only.
	Mode fed.Mode
	// Writes is the number of registry writes timed for convergence.
	Writes int
	// Federation returns the federation config; the default is fed.DefaultConfig.
	Federation func(top *topo.Topology, mode fed.Mode) fed.Config
	// ControlWindow is how long the cost engine's control traffic is counted on the idle
	// federation (ModeFeDist; 0 skips it). It should span a few advert refreshes.
	ControlWindow time.Duration
	// Progress receives progress lines; nil is silent.
	Progress io.Writer
}

// DefaultScaleConfig returns the scale smoke of the issue: n regions, four children each.
func DefaultScaleConfig(n int) ScaleConfig {
	return ScaleConfig{Regions: n, Fanout: 4, Mode: fed.ModeFeDist, Writes: 50, Federation: fed.DefaultConfig,
		ControlWindow: 30 * time.Second} // three advert refreshes
}

// ScaleResult is what a scale smoke measured.
type ScaleResult struct {
	Mode       fed.Mode
	Regions    int
	Depth      int
	StartUp    time.Duration // from Start until every region is ready (and, in FeDist, converged)
	PeakRSS    int64         // VmHWM of this process, bytes; includes everything the process ran before
	RSS        int64         // VmRSS with the federation up, bytes
	Goroutines int           // with the federation up
	// ConvergeAll is, per write at the root, the time until the last mirror had it; ConvergeEach
	// is the same per (write, mirror).
	ConvergeAll, ConvergeEach Summary
	Mirrors                   int
	// ControlMedian and ControlMax are the cost engine's control traffic per region (adverts and
	// probes, sent and received, bytes per second) over ControlWindow of an idle federation.
	ControlMedian, ControlMax float64
	ControlWindow             time.Duration
}

func (r *ScaleResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scale smoke, %s: %d regions, depth %d\n", r.Mode, r.Regions, r.Depth)
	fmt.Fprintf(&b, "  start-up (all ready):   %v\n", r.StartUp.Round(time.Millisecond))
	fmt.Fprintf(&b, "  peak RSS (VmHWM):       %.0f MiB\n", float64(r.PeakRSS)/(1<<20))
	fmt.Fprintf(&b, "  RSS with federation up: %.0f MiB, %d goroutines\n", float64(r.RSS)/(1<<20), r.Goroutines)
	if r.ConvergeAll.N > 0 {
		fmt.Fprintf(&b, "  registry convergence over %d root writes, %d mirrors watched:\n", r.ConvergeAll.N, r.Mirrors)
		fmt.Fprintf(&b, "    until every mirror has it: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
			r.ConvergeAll.P50, r.ConvergeAll.P99, r.ConvergeAll.Max)
		fmt.Fprintf(&b, "    per mirror:                p50 %.2f ms, p99 %.2f ms\n", r.ConvergeEach.P50, r.ConvergeEach.P99)
	}
	if r.ControlWindow > 0 {
		fmt.Fprintf(&b, "  cost-engine control traffic per region over %v: median %.0f B/s, max %.0f B/s\n",
			r.ControlWindow, r.ControlMedian, r.ControlMax)
	}
	return b.String()
}

// ScaleTopology returns n regions, named s001..., filled level by level with fanout children per
// region, tree links only, each with the given RTT.
func ScaleTopology(n, fanout int, rtt time.Duration) (*topo.Topology, error) {
	if n < 1 || n > 0xfffe || fanout < 1 {
		return nil, fmt.Errorf("%w: scale topology: %d regions, fanout %d", ErrConfig, n, fanout)
	}
	rs := make([]topo.Region, n)
	names := make([]string, n)
	for i := range rs {
		names[i] = fmt.Sprintf("s%03d", i+1)
		rs[i] = topo.Region{ID: regions.RegionID(i + 1), Name: names[i], Nodes: 1}
		if i > 0 {
			rs[i].Parent = rs[(i-1)/fanout].ID // breadth-first: region i's parent is (i-1)/fanout
		}
	}
	m, err := topo.NewMatrix(names)
	if err != nil {
		return nil, err
	}
	for i := 1; i < n; i++ {
		if err := m.Set(names[i], names[(i-1)/fanout], float64(rtt)/float64(time.Millisecond)); err != nil {
			return nil, err
		}
	}
	return topo.New(rs, m, &topo.Links{})
}

// RunScale starts the scale federation, measures it and closes it.
func RunScale(ctx context.Context, cfg ScaleConfig) (*ScaleResult, error) {
	top, err := ScaleTopology(cfg.Regions, cfg.Fanout, cfg.RTT)
	if err != nil {
		return nil, err
	}
	prog := newProgress(cfg.Progress)
	res := &ScaleResult{Mode: cfg.Mode, Regions: top.Len()}
	for _, r := range top.Regions() {
		d, _ := top.Tree().Depth(r.ID)
		res.Depth = max(res.Depth, d)
	}
	prog.printf("%s: starting %d regions (depth %d)", cfg.Mode, res.Regions, res.Depth)
	start := time.Now()
	fc := cfg.Federation(top, cfg.Mode)
	fc.ReadyTimeout = max(fc.ReadyTimeout, 5*time.Minute)
	f, err := fed.Start(ctx, fc)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	err = f.WaitConverged(wctx)
	cancel()
	if err != nil {
		return nil, err
	}
	res.StartUp = time.Since(start)
	prog.printf("%s: up in %v", cfg.Mode, res.StartUp.Round(time.Millisecond))
	if err := f.CheckLinks(); err != nil {
		return nil, err
	}
	if cfg.Mode == fed.ModeFeDist && cfg.Writes > 0 {
		if err := measureConvergence(ctx, f, cfg.Writes, res, prog); err != nil {
			return nil, err
		}
	}
	if cfg.Mode == fed.ModeFeDist && cfg.ControlWindow > 0 {
		measureControl(ctx, f, top, cfg.ControlWindow, res, prog)
	}
	res.Goroutines = runtime.NumGoroutine()
	res.RSS, res.PeakRSS = procStatus("VmRSS"), procStatus("VmHWM")
	prog.printf("%s: closing", cfg.Mode)
	return res, f.Close()
}

// probeKey is the registry key the scale smoke writes at the root. It lies outside region.*, so
// registry readers (which watch region.*) never see it; it is purged afterwards.
const probeKey = "lab.probe"

// measureConvergence writes probeKey at the root writes times, one at a time, and times its arrival
// in every region's mirror through a watcher on each.
func measureConvergence(ctx context.Context, f *fed.Federation, writes int, res *ScaleResult, prog *progress) error {
	type arrival struct {
		mirror, seq int
		at          time.Time
	}
	arrivals := make(chan arrival, 1024)
	root := f.Topology().Tree().Root()
	var rootKV jetstream.KeyValue
	var watchers []jetstream.KeyWatcher
	var wg sync.WaitGroup // owns one goroutine per watcher
	done := make(chan struct{})
	defer func() {
		close(done)
		for _, w := range watchers {
			_ = w.Stop() // closes its Updates, which ends its goroutine
		}
		wg.Wait()
	}()
	for _, r := range f.Topology().Regions() {
		for _, n := range f.Nodes(r.ID) {
			js, err := jetstream.NewWithDomain(n.Conn(), broker.Domain(r.ID))
			if err != nil {
				return err
			}
			kv, err := js.KeyValue(ctx, regions.Bucket)
			if err != nil {
				return fmt.Errorf("%s's registry: %w", r.Name, err)
			}
			if r.ID == root {
				rootKV = kv
				continue
			}
			w, err := kv.Watch(ctx, probeKey, jetstream.UpdatesOnly())
			if err != nil {
				return fmt.Errorf("watch %s's mirror: %w", r.Name, err)
			}
			watchers = append(watchers, w)
			idx := len(watchers) - 1
			wg.Go(func() {
				for e := range w.Updates() {
					if e == nil || e.Operation() != jetstream.KeyValuePut {
						continue
					}
					seq, _ := strconv.Atoi(string(e.Value()))
					select {
					case arrivals <- arrival{idx, seq, time.Now()}:
					case <-done:
					}
				}
			})
		}
	}
	res.Mirrors = len(watchers)
	prog.begin(fmt.Sprintf("registry convergence: %d root writes, %d mirrors", writes, len(watchers)), writes)
	var all, each []time.Duration
	for i := 1; i <= writes; i++ {
		t0 := time.Now()
		if _, err := rootKV.Put(ctx, probeKey, []byte(strconv.Itoa(i))); err != nil {
			return err
		}
		seen := map[int]bool{}
		timeout := time.After(30 * time.Second)
		for len(seen) < len(watchers) {
			select {
			case a := <-arrivals:
				if a.seq == i && !seen[a.mirror] {
					seen[a.mirror] = true
					each = append(each, a.at.Sub(t0))
					if len(seen) == len(watchers) {
						all = append(all, a.at.Sub(t0))
					}
				}
			case <-timeout:
				return fmt.Errorf("write %d reached %d of %d mirrors in 30 s", i, len(seen), len(watchers))
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		prog.tick()
		time.Sleep(20 * time.Millisecond) // let the chain go quiet: each write is timed on its own
	}
	res.ConvergeAll, res.ConvergeEach = Summarize(all), Summarize(each)
	return rootKV.Purge(ctx, probeKey)
}

// procStatus returns a "kB" field of /proc/self/status in bytes, or 0 where there is none.
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// measureControl counts the control bytes every region's nodes send and receive over window
// (node.ControlBytes): link-state adverts and probes, with no application traffic.
func measureControl(ctx context.Context, f *fed.Federation, top *topo.Topology, window time.Duration, res *ScaleResult, prog *progress) {
	count := func() map[regions.RegionID]uint64 {
		out := map[regions.RegionID]uint64{}
		for _, r := range top.Regions() {
			for _, n := range f.Nodes(r.ID) {
				out[r.ID] += n.ControlBytes()
			}
		}
		return out
	}
	prog.printf("fedist: counting control traffic for %v", window)
	before := count()
	select {
	case <-ctx.Done():
		return
	case <-time.After(window):
	}
	after := count()
	rates := make([]float64, 0, len(after))
	for r, b := range after {
		rates = append(rates, float64(b-before[r])/window.Seconds())
	}
	res.ControlMedian, res.ControlWindow = median(rates), window
	for _, x := range rates {
		res.ControlMax = max(res.ControlMax, x)
	}
}
