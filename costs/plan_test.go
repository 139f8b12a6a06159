package costs

import (
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/fedist/fedist/regions"
)

// planBase is selectBase's star (root 0001, children 0002..0005 at 50, 0006 under 0003 at 1),
// every direct link estimated at 20.
func planBase() (Config, PlanInput) {
	cfg, sel := selectBase()
	return cfg, PlanInput{Graph: sel.Graph, Estimate: func(a, b regions.RegionID) (float64, bool) { return 20, true }}
}

func TestPlan(t *testing.T) {
	pairs := func(p ...Pair) []Pair { return p }
	for _, tc := range []struct {
		name string
		edit func(*Config, *PlanInput)
		want []Pair
	}{
		{"no traffic, no shortcuts", func(c *Config, in *PlanInput) { in.Flows = nil }, nil},
		{"no estimates, no shortcuts", func(c *Config, in *PlanInput) { in.Estimate = nil }, nil},
		{"the busiest flows first, K=1 per region", func(c *Config, in *PlanInput) { c.K = 1 }, pairs(Pair{2, 4}, Pair{3, 5})},
		{"K=2 adds the next pairs", nil, pairs(Pair{2, 4}, Pair{2, 5}, Pair{3, 4}, Pair{3, 5})},
		{"tree neighbours are never planned", func(c *Config, in *PlanInput) {
			in.Flows = []Flow{{2, 1, 100}, {3, 6, 100}}
		}, nil},
		{"below MinGain nothing", func(c *Config, in *PlanInput) { c.MinGain = 1e6 }, nil},
		{"an open pair is kept against a better one PlanKeep times", func(c *Config, in *PlanInput) {
			c.K = 1
			in.Flows = []Flow{{2, 4, 10}, {2, 5, 6}}
			in.Graph = withPair(in.Graph, 2, 5, 20)
		}, pairs(Pair{2, 5})},
		{"an open pair advertised down (cut for a moment) is held as open", func(c *Config, in *PlanInput) {
			c.K = 1
			in.Flows = []Flow{{2, 4, 10}, {2, 5, 6}}
			in.Graph = setUp(withPair(in.Graph, 2, 5, 20), 2, Shortcut, 5, false)
		}, pairs(Pair{2, 5})},
		{"without PlanKeep the better one wins", func(c *Config, in *PlanInput) {
			c.K, c.PlanKeep = 1, 1
			in.Flows = []Flow{{2, 4, 10}, {2, 5, 6}}
			in.Graph = withPair(in.Graph, 2, 5, 20)
		}, pairs(Pair{2, 4})},
		{"an open pair at its measured cost", func(c *Config, in *PlanInput) {
			c.K = 1
			in.Flows = []Flow{{2, 4, 10}, {2, 5, 6}}
			in.Graph = withPair(in.Graph, 2, 5, 95) // saves 100-96 = 4 per msg/s: 24 × 2 < 790
		}, pairs(Pair{2, 4})},
		{"a region cut off from the tree keeps the shortcut that reaches it", func(c *Config, in *PlanInput) {
			c.K = 1
			in.Graph = withPair(in.Graph, 2, 6, 20) // and the tree link 0003-0006 is down
			in.Graph = setUp(setUp(in.Graph, 3, Tree, 6, false), 6, Tree, 3, false)
			in.Flows = []Flow{{2, 4, 100}, {6, 2, 1}}
		}, pairs(Pair{2, 6})},
		{"bad flows are ignored", func(c *Config, in *PlanInput) {
			c.K = 1
			in.Flows = append(in.Flows, Flow{4, 4, 1e9}, Flow{5, 3, -1e9})
		}, pairs(Pair{2, 4}, Pair{3, 5})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, in := planBase()
			in.Flows = []Flow{{2, 4, 10}, {4, 2, 10}, {3, 5, 1}, {2, 5, 5}, {3, 4, 2}}
			if tc.edit != nil {
				tc.edit(&cfg, &in)
			}
			if got := Plan(&cfg, in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Plan = %v, want %v", got, tc.want)
			}
		})
	}
}

// setUp returns g with the edge from→to of kind marked up or down.
func setUp(g *Graph, from regions.RegionID, kind Kind, to regions.RegionID, up bool) *Graph {
	g = g.Clone()
	es := g.Edges(from)
	for i := range es {
		if es[i].Kind == kind && es[i].To == to {
			es[i].Up = up
		}
	}
	_ = g.SetEdges(from, es)
	return g
}

// withPair returns g with an up shortcut a–b of cost c both ways.
func withPair(g *Graph, a, b regions.RegionID, c float64) *Graph {
	g = g.Clone()
	_ = g.SetEdges(a, append(g.Edges(a), Edge{From: a, To: b, Kind: Shortcut, Cost: c, Up: true}))
	_ = g.SetEdges(b, append(g.Edges(b), Edge{From: b, To: a, Kind: Shortcut, Cost: c, Up: true}))
	return g
}

// TestPlanSameOnEveryNode: nodes receive adverts in any order; the plan must not depend on it,
// and no region may exceed K.
func TestPlanSameOnEveryNode(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for trial := range 50 {
		g, n := randomTree(rnd, 6+rnd.IntN(20))
		var flows []Flow
		for a := 1; a <= n; a++ {
			for b := 1; b <= n; b++ {
				if a != b && rnd.IntN(3) > 0 {
					flows = append(flows, Flow{regions.RegionID(a), regions.RegionID(b), float64(1 + rnd.IntN(20))})
				}
			}
		}
		est := func(a, b regions.RegionID) (float64, bool) {
			return float64(5 + (int(a)*7919+int(b)*104729)%200), true
		}
		cfg := DefaultConfig()
		cfg.K = 1 + rnd.IntN(4)
		want := Plan(&cfg, PlanInput{Graph: g, Flows: flows, Estimate: est})
		rnd.Shuffle(len(flows), func(i, j int) { flows[i], flows[j] = flows[j], flows[i] })
		got := Plan(&cfg, PlanInput{Graph: g, Flows: flows, Estimate: est})
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: plan depends on the flows' order: %v vs %v", trial, got, want)
		}
		degree := map[regions.RegionID]int{}
		for _, p := range got {
			if p.A >= p.B || treeLinked(g, p.A, p.B) {
				t.Fatalf("trial %d: bad pair %v", trial, p)
			}
			degree[p.A]++
			degree[p.B]++
		}
		for r, d := range degree {
			if d > cfg.K {
				t.Fatalf("trial %d: region %v holds %d > K=%d", trial, r, d, cfg.K)
			}
		}
		if len(got) == 0 {
			t.Fatalf("trial %d: nothing planned on a random tree with traffic", trial)
		}
	}
}

// randomTree is a random tree of n regions (IDs 1..n) with links of 5-150 ms both ways.
func randomTree(rnd *rand.Rand, n int) (*Graph, int) {
	out := map[regions.RegionID][]Edge{}
	for i := 2; i <= n; i++ {
		a, p := regions.RegionID(i), regions.RegionID(1+rnd.IntN(i-1))
		c := float64(5 + rnd.IntN(146))
		out[a] = append(out[a], Edge{From: a, To: p, Kind: Tree, Cost: c, Up: true})
		out[p] = append(out[p], Edge{From: p, To: a, Kind: Tree, Cost: c, Up: true})
	}
	g := NewGraph()
	for r, es := range out {
		_ = g.SetEdges(r, es)
	}
	return g, n
}

// BenchmarkPlan plans for a random tree of n regions, each sending to 16 others (the most a node
// advertises), with K=4: what every node computes when adverts change
// (go test -run '^$' -bench Plan -benchtime 3x ./costs).
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{12, 100, 1000} {
		b.Run(fmtInt(n), func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 2))
			g, _ := randomTree(rnd, n)
			var flows []Flow
			for a := 1; a <= n; a++ {
				for range min(MaxAdvertDemand, n-1) {
					if d := 1 + rnd.IntN(n); d != a {
						flows = append(flows, Flow{regions.RegionID(a), regions.RegionID(d), float64(1 + rnd.IntN(20))})
					}
				}
			}
			est := func(a, b regions.RegionID) (float64, bool) { return float64(5 + (int(a)*7919+int(b)*104729)%200), true }
			cfg := DefaultConfig()
			var planned int
			for b.Loop() {
				planned = len(Plan(&cfg, PlanInput{Graph: g, Flows: flows, Estimate: est}))
			}
			b.ReportMetric(float64(planned), "pairs")
		})
	}
}

func fmtInt(n int) string { return "regions=" + strconv.Itoa(n) }
