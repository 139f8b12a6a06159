package lab

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// TestRunSmall runs the whole lab on a four-region topology in both modes.
func TestRunSmall(t *testing.T) {
	top := smallTopo(t)
	cfg := DefaultConfig(top)
	cfg.Samples, cfg.Concurrency = 5, 4
	cfg.ThroughputPairs, cfg.ThroughputMsgs, cfg.ThroughputTime = 1, 2000, 2*time.Second
	cfg.Federation = fed.DefaultConfig
	var progress strings.Builder
	cfg.Progress = &progress
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 12 {
		t.Fatalf("%d rows, want 12", len(rep.Rows))
	}
	for _, row := range rep.Rows {
		for _, m := range cfg.Modes {
			l := row.Lookup[m]
			if l == nil || l.N != 5 || l.Errors != 0 || l.Err != "" {
				t.Fatalf("%s → %s in %s: %+v", row.From.Name, row.To.Name, m, l)
			}
			// A lookup cannot beat the emulated links it crosses; faster means a bypass.
			if l.Min < row.TreeMs {
				t.Errorf("%s → %s in %s: fastest lookup %.2f ms beats the tree path's %.1f ms", row.From.Name, row.To.Name, m, l.Min, row.TreeMs)
			}
			// With the links at 0 ms, it no longer pays their delay.
			c := row.Control[m]
			if c == nil || c.N != 5 || c.Errors != 0 || c.Err != "" || c.Min >= row.TreeMs {
				t.Errorf("%s → %s in %s, links at 0 ms: %+v; want 5 lookups, the fastest under the tree path's %.1f ms",
					row.From.Name, row.To.Name, m, c, row.TreeMs)
			}
		}
	}
	a1b := rep.row([2]regions.RegionID{id(top, "a1"), id(top, "b")})
	if a1b.OracleMs != 3 || a1b.TreeMs != 12 || strings.Join(a1b.TreePath, ",") != "a1,a,root,b" {
		t.Fatalf("a1 → b: oracle %v, tree %v via %v", a1b.OracleMs, a1b.TreeMs, a1b.TreePath)
	}
	tput := 0
	for _, row := range rep.Rows {
		for _, tr := range row.Throughput {
			tput++
			if tr.Err != "" || tr.Received == 0 {
				t.Errorf("throughput %s → %s: %+v", row.From.Name, row.To.Name, tr)
			}
		}
	}
	if tput != 2 {
		t.Errorf("%d throughput results, want one pair in each of two modes", tput)
	}
	if len(rep.Notes) != 0 {
		t.Errorf("notes: %q", rep.Notes)
	}
	if !strings.Contains(progress.String(), "timed lookups") {
		t.Errorf("progress: %q", progress.String())
	}
	if err := rep.WriteFiles(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

// TestScaleSmall runs the scale smoke on ten regions. FEDIST_SCALE=1 runs the real one (100
// regions); it takes about ten seconds without -race and is skipped otherwise to keep go test fast.
func TestScaleSmall(t *testing.T) {
	n, writes := 10, 5
	if os.Getenv("FEDIST_SCALE") != "" {
		n, writes = 100, 50
	}
	cfg := DefaultScaleConfig(n)
	cfg.Writes = writes
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := RunScale(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Regions != n || res.Mirrors != n-1 || res.ConvergeAll.N != writes || res.PeakRSS == 0 {
		t.Fatalf("%+v", res)
	}
}
