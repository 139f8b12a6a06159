package costs

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

var selectNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// selectBase: root 0001 with children 0002..0005 at 50 each way, 0006 under 0003 at 1. I am 0002;
// tree distances are 100 to 0003, 0004, 0005 and 101 to 0006. Every direct link is estimated at
// 20, so a shortcut to p saves 100 − 21 per msg/s to p: gains 790, 395, 79 for the traffic below.
func selectBase() (Config, SelectInput) {
	cfg := DefaultConfig()
	cfg.RelayHop, cfg.K, cfg.MinGain, cfg.IdleClose = 1, 2, 1, 30*time.Second
	cfg.OpensPerCall = 0 // the cases below choose several at once unless they say otherwise
	g := NewGraph()
	tree := map[regions.RegionID][]regions.RegionID{1: {2, 3, 4, 5}, 3: {6}}
	cost := map[regions.RegionID]float64{1: 50, 3: 1}
	out := map[regions.RegionID][]Edge{}
	for p, kids := range tree {
		for _, k := range kids {
			out[p] = append(out[p], Edge{From: p, To: k, Kind: Tree, Cost: cost[p], Up: true})
			out[k] = append(out[k], Edge{From: k, To: p, Kind: Tree, Cost: cost[p], Up: true})
		}
	}
	for r, es := range out {
		_ = g.SetEdges(r, es)
	}
	return cfg, SelectInput{
		Me:       2,
		Graph:    g,
		Traffic:  map[regions.RegionID]float64{3: 10, 4: 5, 5: 1},
		Open:     map[regions.RegionID]time.Time{},
		Estimate: func(regions.RegionID) (float64, bool) { return 20, true },
		Now:      selectNow,
	}
}

// withShortcut adds my up shortcut to p, as if it were open and measured.
func withShortcut(in *SelectInput, p regions.RegionID, cost float64, lastUsed time.Time) {
	in.Graph = in.Graph.Clone()
	es := append(in.Graph.Edges(in.Me), Edge{From: in.Me, To: p, Kind: Shortcut, Cost: cost, Up: true})
	_ = in.Graph.SetEdges(in.Me, es)
	in.Open[p] = lastUsed
}

func TestSelect(t *testing.T) {
	ids := func(r ...regions.RegionID) []regions.RegionID { return r }
	for _, tc := range []struct {
		name        string
		edit        func(*Config, *SelectInput)
		open, close []regions.RegionID
	}{
		{"opens the best under K", nil, ids(3, 4), nil},
		{"inbound counts against K", func(_ *Config, in *SelectInput) { in.Inbound = 1 }, ids(3), nil},
		{"no slot, nothing measured to replace", func(_ *Config, in *SelectInput) {
			in.Inbound, in.Open[5] = 1, selectNow
		}, nil, nil},
		{"over K opens nothing", func(_ *Config, in *SelectInput) { in.Inbound = 5 }, nil, nil},
		{"K zero", func(c *Config, _ *SelectInput) { c.K = 0 }, nil, nil},
		{"idle shortcut closes and frees its slot", func(c *Config, in *SelectInput) {
			c.K = 1
			withShortcut(in, 5, 20, selectNow.Add(-31*time.Second))
		}, ids(3), ids(5)},
		{"idle exactly IdleClose stays", func(c *Config, in *SelectInput) {
			c.K, in.Traffic = 1, map[regions.RegionID]float64{5: 1}
			withShortcut(in, 5, 20, selectNow.Add(-30*time.Second))
		}, nil, nil},
		{"replaces the weakest beyond twice its gain", func(c *Config, in *SelectInput) {
			c.K = 1
			withShortcut(in, 5, 20, selectNow) // gain 79; 0003 would gain 790
		}, ids(3), ids(5)},
		{"keeps the weakest within twice its gain", func(c *Config, in *SelectInput) {
			c.K = 1
			in.Traffic = map[regions.RegionID]float64{3: 8, 5: 5} // 632 against 395
			withShortcut(in, 5, 20, selectNow)
		}, nil, nil},
		{"replaces one at most", func(c *Config, in *SelectInput) {
			c.K = 2
			// 0003 and 0004 would gain 790 each; 0006 (dearer than the tree) gains 0, 0005 79.
			in.Traffic = map[regions.RegionID]float64{3: 10, 4: 10, 5: 1}
			withShortcut(in, 5, 20, selectNow)
			withShortcut(in, 6, 200, selectNow)
		}, ids(3), ids(6)},
		{"below MinGain", func(c *Config, _ *SelectInput) { c.MinGain = 1000 }, nil, nil},
		{"MinGain cuts the tail", func(c *Config, _ *SelectInput) { c.K, c.MinGain = 4, 100 }, ids(3, 4), nil},
		{"PeerFull respected", func(_ *Config, in *SelectInput) {
			in.PeerFull = func(p regions.RegionID) bool { return p == 3 }
		}, ids(4, 5), nil},
		{"unknown estimate skipped", func(_ *Config, in *SelectInput) {
			in.Estimate = func(p regions.RegionID) (float64, bool) { return 20, p != 3 }
		}, ids(4, 5), nil},
		{"tree neighbour never a candidate", func(_ *Config, in *SelectInput) {
			in.Traffic = map[regions.RegionID]float64{1: 1000}
		}, nil, nil},
		{"gains recomputed after each pick", func(c *Config, in *SelectInput) {
			// 0003 and 0006 tie at 1580; once 0003 is open, 0006 gains only 10.
			c.MinGain = 20
			in.Traffic = map[regions.RegionID]float64{3: 10, 6: 10}
		}, ids(3), nil},
		{"second pick above MinGain", func(c *Config, in *SelectInput) {
			c.SwitchRel, c.SwitchAbs = 0, 0
			in.Traffic = map[regions.RegionID]float64{3: 10, 6: 10}
		}, ids(3, 6), nil},
		{"no pick the router would not switch to", func(_ *Config, in *SelectInput) {
			in.Traffic = map[regions.RegionID]float64{3: 10, 6: 10} // 0006 direct saves 1 ms of 22 over 0003's shortcut
		}, ids(3), nil},
		{"one open per call", func(c *Config, _ *SelectInput) { c.OpensPerCall = 1 }, ids(3), nil},
		{"one open per call, then the next", func(c *Config, in *SelectInput) {
			c.OpensPerCall = 1
			withShortcut(in, 3, 20, selectNow)
		}, ids(4), nil},
		{"ties by region ID", func(c *Config, in *SelectInput) {
			c.K = 1
			in.Traffic = map[regions.RegionID]float64{5: 7, 4: 7}
		}, ids(4), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, in := selectBase()
			if tc.edit != nil {
				tc.edit(&cfg, &in)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			got := Select(&cfg, in)
			for range 5 {
				if again := Select(&cfg, in); !reflect.DeepEqual(again, got) {
					t.Fatalf("not deterministic: %v then %v", got, again)
				}
			}
			if !slices.Equal(got.Open, tc.open) || !slices.Equal(got.Close, tc.close) {
				t.Fatalf("got open %v close %v, want open %v close %v", got.Open, got.Close, tc.open, tc.close)
			}
		})
	}
}

// TestSelectRandom checks Select's invariants on random graphs, and its first pick against gains
// computed from brute-force distances.
func TestSelectRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for iter := range 1000 {
		g, ids := randomGraph(rng)
		cfg := DefaultConfig()
		cfg.RelayHop, cfg.K, cfg.MinGain = 1, rng.IntN(4), float64(rng.IntN(3))*50
		in := SelectInput{Me: ids[0], Graph: g, Traffic: map[regions.RegionID]float64{}, Open: map[regions.RegionID]time.Time{}, Now: selectNow, Inbound: rng.IntN(3)}
		est := map[regions.RegionID]float64{}
		for _, id := range ids[1:] {
			est[id] = float64(rng.IntN(40))
			if rng.IntN(2) == 0 {
				in.Traffic[id] = float64(1 + rng.IntN(20))
			}
			if _, tree := g.Edge(in.Me, id, Tree); !tree && rng.IntN(5) == 0 {
				in.Open[id] = selectNow.Add(-time.Duration(rng.IntN(60)) * time.Second)
			}
		}
		in.Estimate = func(p regions.RegionID) (float64, bool) { e, ok := est[p]; return e, ok && p%5 != 0 }
		in.PeerFull = func(p regions.RegionID) bool { return p%7 == 0 }
		sel := Select(&cfg, in)
		if again := Select(&cfg, in); !reflect.DeepEqual(again, sel) {
			t.Fatalf("iteration %d: not deterministic", iter)
		}
		after := len(in.Open) - len(sel.Close) + len(sel.Open) + in.Inbound
		if after > max(cfg.K, len(in.Open)+in.Inbound) {
			t.Fatalf("iteration %d: %d shortcuts after %v with K %d", iter, after, sel, cfg.K)
		}
		if !slices.IsSorted(sel.Close) {
			t.Fatalf("iteration %d: Close not sorted: %v", iter, sel.Close)
		}
		busy := 0
		for _, p := range sel.Close {
			last, ok := in.Open[p]
			if !ok {
				t.Fatalf("iteration %d: closes %s, which is not open", iter, p)
			}
			if selectNow.Sub(last) <= cfg.IdleClose {
				busy++
			}
		}
		if busy > 1 {
			t.Fatalf("iteration %d: %d replacements in one call", iter, busy)
		}
		for _, p := range sel.Open {
			if _, open := in.Open[p]; open || p == in.Me || treeLinked(g, in.Me, p) || in.PeerFull(p) {
				t.Fatalf("iteration %d: opens ineligible %s", iter, p)
			}
		}
		if len(sel.Open) > 0 && busy == 0 {
			checkFirstPick(t, iter, &cfg, in, sel)
		}
	}
}

// checkFirstPick recomputes every candidate's gain from brute-force distances on the graph without
// the closed shortcuts and checks the first pick has the highest and passes MinGain.
func checkFirstPick(t *testing.T, iter int, cfg *Config, in SelectInput, sel Selection) {
	g := in.Graph.Clone()
	for _, p := range sel.Close {
		dropShortcut(g, in.Me, p)
	}
	dist := func(from regions.RegionID) map[regions.RegionID]float64 {
		d := bruteBest(from, g, cfg.RelayHop, -1)
		d[from] = 0
		return d
	}
	base := dist(in.Me)
	gain := func(p regions.RegionID) float64 {
		e, _ := in.Estimate(p)
		via, sum := dist(p), 0.0
		for d, rate := range in.Traffic {
			b, ok1 := base[d]
			v, ok2 := via[d]
			if ok1 && ok2 {
				sum += rate * saving(cfg, b, e+cfg.RelayHop+v)
			}
		}
		return sum
	}
	first := gain(sel.Open[0])
	if first < cfg.MinGain || first <= 0 {
		t.Fatalf("iteration %d: opened %s with gain %v, MinGain %v", iter, sel.Open[0], first, cfg.MinGain)
	}
	for q := range in.Traffic {
		_, open := in.Open[q]
		_, known := in.Estimate(q)
		if open || !known || in.PeerFull(q) || treeLinked(g, in.Me, q) || q == in.Me {
			continue
		}
		if gq := gain(q); gq > first+1e-9 {
			t.Fatalf("iteration %d: opened %s (gain %v) but %s gains %v", iter, sel.Open[0], first, q, gq)
		}
	}
}
