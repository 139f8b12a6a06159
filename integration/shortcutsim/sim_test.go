package shortcutsim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/topo"
)

// TestSimulate runs the shortcut choice on both topology files under several conditions and logs
// what it reaches (go test -v -run TestSimulate ./integration/shortcutsim). It asserts what must
// hold whatever the policy: K is never exceeded and every pair has a route.
func TestSimulate(t *testing.T) {
	type run struct {
		k, opens int // K, OpensPerCall
		o        Options
	}
	runs := []run{{3, 1, Options{}}, {4, 1, Options{}}, {5, 1, Options{}}, {4, 0, Options{}},
		{4, 1, Options{Penalty: 5}}, {4, 1, Options{Penalty: 15}}, {4, 1, Options{CountTransit: true}}}
	for seed := range uint64(4) {
		for _, opens := range []int{0, 1} {
			runs = append(runs, run{4, opens, Options{Simultaneous: true, Seed: seed}})
		}
	}
	runs = append(runs, run{3, 1, Options{Plan: true}}, run{4, 1, Options{Plan: true}}, run{5, 1, Options{Plan: true}},
		run{4, 1, Options{Plan: true, Penalty: 5}})
	for seed := range uint64(4) {
		for _, e := range []float64{0.1, 0.3} {
			runs = append(runs, run{4, 1, Options{Plan: true, Seed: seed, EstimateError: e}})
			runs = append(runs, run{4, 1, Options{Simultaneous: true, Seed: seed, EstimateError: e}})
		}
	}
	for _, file := range []string{"../testdata/world.json", "../testdata/ibm.json"} {
		top, err := topo.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			cfg := costs.DefaultConfig()
			cfg.K, cfg.OpensPerCall = r.k, r.opens
			r.o.Rate = 10
			res, err := Run(top, cfg, r.o)
			what := fmt.Sprintf("%s K=%d OpensPerCall=%d %+v", top.File, r.k, r.opens, r.o)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			t.Logf("%s: within 1.10×oracle %d/%d (%.0f %%), +2 ms %d (%.0f %%), on the tree %d; worst %.2f× (%s → %s); %d shortcuts, at most %d per region; %d rounds (settled %v), %d changes",
				what, res.Within, res.Pairs, 100*float64(res.Within)/float64(res.Pairs), res.WithinPlus2, 100*float64(res.WithinPlus2)/float64(res.Pairs),
				res.OnTree, res.WorstRatio, top.Name(res.Worst[0]), top.Name(res.Worst[1]), len(res.Shortcuts), res.MostPerNode, res.Rounds, res.Settled, res.Changes)
			if testing.Verbose() {
				var names []string
				for _, sc := range res.Shortcuts {
					names = append(names, top.Name(sc[0])+"→"+top.Name(sc[1]))
				}
				t.Logf("  shortcuts: %s", strings.Join(names, ", "))
			}
			if res.MostPerNode > r.k {
				t.Errorf("%s: a region holds %d shortcuts", what, res.MostPerNode)
			}
			if res.Pairs != top.Len()*(top.Len()-1) {
				t.Errorf("%s: %d pairs", what, res.Pairs)
			}
		}
	}
}
