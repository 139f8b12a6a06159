package shortcutsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// TestPlanOnRandomTrees: topologies FeDist has not been tuned on. Each matrix gets 20 random
// trees (a random root, each other region under a random earlier one, at most 4 children), and
// the plan (K = 4, estimates off by up to 10 %) is simulated on each; it logs how many pairs end
// within 1.10 × oracle + 2 ms (go test -v -run TestPlanOnRandomTrees ./integration/shortcutsim).
// It asserts only what must hold whatever the policy: K is never exceeded, every pair has a route.
func TestPlanOnRandomTrees(t *testing.T) {
	for _, file := range []string{"../testdata/rtt-dev.csv", "../testdata/rtt-ibm.csv"} {
		m, err := topo.LoadRTT(file)
		if err != nil {
			t.Fatal(err)
		}
		var shares []float64
		rnd := rand.New(rand.NewPCG(3, 4))
		for trial := range 20 {
			top, err := randomTree(m, rnd)
			if err != nil {
				t.Fatal(err)
			}
			cfg := costs.DefaultConfig()
			res, err := Run(top, cfg, Options{Rate: 10, Plan: true, Seed: uint64(trial), EstimateError: 0.1})
			if err != nil {
				t.Fatalf("%s trial %d: %v", file, trial, err)
			}
			if res.MostPerNode > cfg.K || res.Pairs != top.Len()*(top.Len()-1) {
				t.Fatalf("%s trial %d: %d shortcuts at one region, %d pairs", file, trial, res.MostPerNode, res.Pairs)
			}
			shares = append(shares, 100*float64(res.WithinPlus2)/float64(res.Pairs))
		}
		slices.Sort(shares)
		t.Logf("%s, 20 random trees, plan: pairs within 1.10 × oracle + 2 ms: min %.0f %%, median %.0f %%, max %.0f %%; sorted %v",
			file, shares[0], shares[len(shares)/2], shares[len(shares)-1], fmt.Sprintf("%.0f", shares))
	}
}

// randomTree builds a topology over every region of m: a random root, each other region under a
// random earlier one with fewer than 4 children.
func randomTree(m *topo.Matrix, rnd *rand.Rand) (*topo.Topology, error) {
	names := m.Names()
	rnd.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	rs := make([]topo.Region, len(names))
	children := map[regions.RegionID]int{}
	for i, n := range names {
		rs[i] = topo.Region{ID: regions.RegionID(i + 1), Name: n, Nodes: 1}
		if i == 0 {
			continue
		}
		for {
			p := rs[rnd.IntN(i)].ID
			if children[p] < 4 {
				rs[i].Parent = p
				children[p]++
				break
			}
		}
	}
	return topo.New(rs, m, nil)
}
