package costs

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/fedist/fedist/regions"
)

// randomGraph is a random tree of 6–9 regions (both directions, asymmetric costs, a few tree
// edges down) plus up to 8 random shortcut edges. Small integer costs make ties and zero-cost
// edges common.
func randomGraph(rng *rand.Rand) (*Graph, []regions.RegionID) {
	n := 6 + rng.IntN(4)
	ids := make([]regions.RegionID, n)
	for i := range ids {
		ids[i] = regions.RegionID(1 + i*7 + rng.IntN(7))
	}
	out := map[regions.RegionID][]Edge{}
	cost := func() float64 {
		if rng.IntN(4) == 0 {
			return float64(rng.IntN(3)) // ties and zero
		}
		return float64(rng.IntN(40)) + float64(rng.IntN(4))/4
	}
	add := func(from, to regions.RegionID, kind Kind) {
		for _, e := range out[from] {
			if e.To == to && e.Kind == kind {
				return
			}
		}
		out[from] = append(out[from], Edge{From: from, To: to, Kind: kind, Cost: cost(), Up: rng.IntN(8) != 0})
	}
	for i := 1; i < n; i++ {
		p := ids[rng.IntN(i)]
		add(p, ids[i], Tree)
		add(ids[i], p, Tree)
	}
	for range rng.IntN(9) {
		a, b := ids[rng.IntN(n)], ids[rng.IntN(n)]
		if a != b {
			add(a, b, Shortcut)
		}
	}
	g := NewGraph()
	for _, id := range ids {
		if rng.IntN(10) == 0 {
			continue // a region that never advertised
		}
		if err := g.SetEdges(id, out[id]); err != nil {
			panic(err)
		}
	}
	return g, ids
}

// TestComputeRandom compares Compute and ComputeBounded with brute force for every pair of random
// graphs.
func TestComputeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 400 {
		g, ids := randomGraph(rng)
		cfg := DefaultConfig()
		cfg.RelayHop = []float64{0, 0.3, 1, 5}[iter%4]
		for _, me := range ids {
			for _, bound := range []int{-1, 0, 1, 2} {
				got := ComputeBounded(me, g, &cfg, bound)
				if err := checkRoutes(me, g, cfg.RelayHop, bound, got); err != nil {
					t.Fatalf("iteration %d, bound %d: %v\n%s", iter, bound, err, dumpGraph(g))
				}
			}
		}
	}
}

func dumpGraph(g *Graph) string {
	var b strings.Builder
	for _, r := range g.Regions() {
		for _, e := range g.Edges(r) {
			fmt.Fprintf(&b, "%s %s %s %v", e.From, e.To, e.Kind, e.Cost)
			if !e.Up {
				b.WriteString(" down")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// bigGraph is a random tree of n regions (fan-out up to 8) with 4 shortcut edges per region.
func bigGraph(n int) *Graph {
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	out := make(map[regions.RegionID][]Edge, n)
	for i := 2; i <= n; i++ {
		c, p := regions.RegionID(i), regions.RegionID(1+(i-2)/8)
		out[c] = append(out[c], Edge{From: c, To: p, Kind: Tree, Cost: 5 + 50*rng.Float64(), Up: true})
		out[p] = append(out[p], Edge{From: p, To: c, Kind: Tree, Cost: 5 + 50*rng.Float64(), Up: true})
	}
	for i := 1; i <= n; i++ {
		from := regions.RegionID(i)
		for range 4 {
			to := regions.RegionID(1 + rng.IntN(n))
			if to != from {
				out[from] = append(out[from], Edge{From: from, To: to, Kind: Shortcut, Cost: 5 + 100*rng.Float64(), Up: true})
			}
		}
	}
	g := NewGraph()
	for r, es := range out {
		_ = g.SetEdges(r, es) // drops the odd duplicate shortcut
	}
	return g
}

func BenchmarkCompute2000(b *testing.B) {
	g, cfg := bigGraph(2000), DefaultConfig()
	for b.Loop() {
		Compute(1500, g, &cfg)
	}
}

func BenchmarkComputeBounded2000(b *testing.B) {
	g, cfg := bigGraph(2000), DefaultConfig()
	for b.Loop() {
		ComputeBounded(1500, g, &cfg, 1)
	}
}
