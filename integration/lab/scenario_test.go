package lab

import (
	"context"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/fed"
)

// TestScenariosSmall runs the failover and load scenarios, shortened, on the four-region topology:
// the a1-b shortcut is cut and the pairs on it are rerouted; a tree link is cut, with plain NATS
// beside it; a1's relay is slowed down. It checks that every cut is measured and reported, not how
// fast the engine is.
func TestScenariosSmall(t *testing.T) {
	cfg := DefaultConfig(smallTopo(t))
	cfg.Modes, cfg.Samples, cfg.Concurrency = []fed.Mode{fed.ModeFeDist}, 3, 4
	cfg.ThroughputPairs, cfg.ZeroDelayControl = 0, false
	cfg.Federation = fed.DefaultConfig
	cfg.RoutingWarmup, cfg.RoutingStable = 20*time.Second, time.Second
	cfg.Scenarios = []Scenario{ScenarioFailover, ScenarioLoad}
	fc := &cfg.Failover
	fc.ShortcutPairs, fc.TreePairs = 1, 1
	fc.Settle, fc.Before, fc.Hold, fc.RerouteTimeout, fc.BackTimeout = time.Second, 500*time.Millisecond, time.Second, 10*time.Second, 3*time.Second
	lc := &cfg.Load
	lc.Settle, lc.Window, lc.ReactTimeout, lc.MaxPairs = time.Second, 500*time.Millisecond, 2*time.Second, 2
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fo := rep.Failover
	if fo == nil || len(fo.Pairs) == 0 {
		t.Fatalf("failover: %+v", fo)
	}
	for _, p := range fo.Pairs {
		t.Logf("%s → %s, %s cut %v: %d/%d failed, reroute %s ms, back %s ms, paths %v / %v / %v, nats %+v", p.From, p.To, p.CutKind, p.CutNames,
			p.Failed, p.Sent, msOrNone(p.RerouteMs), msOrNone(p.BackMs), p.PathBefore, p.PathDuring, p.PathAfter, p.NATS)
		if p.Sent == 0 || len(p.PathBefore) < 2 || p.CutMs < 1000 {
			t.Errorf("%s → %s: %+v", p.From, p.To, p)
		}
		// The tree is always there: a pair on a cut shortcut is rerouted.
		if p.CutKind == "shortcut" && p.RerouteMs == nil {
			t.Errorf("%s → %s: not rerouted when its shortcut %v was cut", p.From, p.To, p.CutNames)
		}
		if p.CutKind == "tree" && (p.NATS == nil || p.NATS.Sent == 0) {
			t.Errorf("%s → %s: tree cut without its plain-NATS run: %+v", p.From, p.To, p.NATS)
		}
	}
	if rep.Load == nil || rep.Load.Verdict == "" {
		t.Fatalf("load: %+v", rep.Load)
	}
	t.Logf("load: %s", rep.Load.Verdict)
	if err := rep.WriteFiles(t.TempDir()); err != nil {
		t.Fatal(err)
	}
}
