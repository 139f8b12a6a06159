package costs

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"

	"github.com/fedist/fedist/regions"
)

func TestRouteStepRelays(t *testing.T) {
	const T, S = Tree, Shortcut
	for _, tc := range []struct {
		kinds  []Kind
		step   Step
		relays int
		hops   int // relay charges in Cost: shortcuts plus waypoints
	}{
		{nil, Step{}, 0, 0},
		{[]Kind{T}, Step{StepTree, 2}, 0, 0},
		{[]Kind{T, T, T}, Step{StepTree, 4}, 0, 0},
		{[]Kind{S}, Step{StepShortcut, 2}, 0, 1},
		{[]Kind{S, T}, Step{StepShortcut, 2}, 1, 1},
		{[]Kind{T, S}, Step{StepWaypoint, 2}, 1, 2},
		{[]Kind{T, T, S}, Step{StepWaypoint, 3}, 1, 2},
		{[]Kind{T, S, T}, Step{StepWaypoint, 2}, 2, 2},
		{[]Kind{S, S}, Step{StepShortcut, 2}, 1, 2},
		{[]Kind{S, S, S}, Step{StepShortcut, 2}, 2, 3},
		{[]Kind{T, S, S, T}, Step{StepWaypoint, 2}, 3, 3},
		{[]Kind{S, T, S}, Step{StepShortcut, 2}, 2, 3}, // 2 relays in, 3 takes it off the tree
	} {
		name := fmt.Sprint(tc.kinds)
		rt := Route{Kinds: tc.kinds, Path: []regions.RegionID{1}}
		g := NewGraph()
		for i, k := range tc.kinds {
			from, to := regions.RegionID(i+1), regions.RegionID(i+2)
			rt.Path = append(rt.Path, to)
			_ = g.SetEdges(from, []Edge{{From: from, To: to, Kind: k, Cost: 0, Up: true}})
		}
		rt.Dest = rt.Path[len(rt.Path)-1]
		if len(tc.kinds) == 0 {
			rt = Route{}
		}
		if got := rt.Step(); got != tc.step {
			t.Errorf("%s: Step %+v, want %+v", name, got, tc.step)
		}
		if got := rt.Relays(); got != tc.relays {
			t.Errorf("%s: Relays %d, want %d", name, got, tc.relays)
		}
		if cost, _ := evalPath(g, 1, rt.Path, rt.Kinds); int(cost) != tc.hops {
			t.Errorf("%s: relay charges %v, want %d", name, cost, tc.hops)
		}
		if last := len(tc.kinds) - 1; last >= 0 {
			extra := 0
			if tc.kinds[last] == S {
				extra = 1
			}
			if tc.hops != tc.relays+extra {
				t.Errorf("%s: charges should be Relays plus Dest's relay after a final shortcut", name)
			}
		}
	}
}

// TestComputeDeterministic builds the same graph in different orders and expects identical
// tables, ties included.
func TestComputeDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	cfg := DefaultConfig()
	for range 50 {
		g, ids := randomGraph(rng)
		for _, me := range ids {
			want := Compute(me, g, &cfg)
			for range 3 {
				h := NewGraph()
				regs := g.Regions()
				rng.Shuffle(len(regs), func(i, j int) { regs[i], regs[j] = regs[j], regs[i] })
				for _, r := range regs {
					es := g.Edges(r)
					rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
					_ = h.SetEdges(r, es)
				}
				if got := Compute(me, h, &cfg); !reflect.DeepEqual(got, want) {
					t.Fatalf("from %s: tables differ\n%v\n%v", me, got, want)
				}
			}
		}
	}
}

// TestRouterRandom drives routers through random cost changes, links going down and up, and
// checks every table: valid routes within the bound, every reachable region listed, and no
// route dearer than the optimum beyond the switch margins.
func TestRouterRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for iter := range 100 {
		g, ids := randomGraph(rng)
		cfg := DefaultConfig()
		cfg.RelayHop = 1
		me := ids[rng.IntN(len(ids))]
		bound := rng.IntN(4) - 1
		r := NewRouter(me, &cfg, bound)
		for step := range 30 {
			changed := r.Update(g)
			table := map[regions.RegionID]Route{}
			for _, rt := range r.Table() {
				table[rt.Dest] = rt
				if got, ok := r.Lookup(rt.Dest); !ok || !sameRoute(got, rt) {
					t.Fatalf("Lookup(%s) disagrees with Table", rt.Dest)
				}
			}
			checkHysteresis(t, fmt.Sprintf("iteration %d step %d", iter, step), me, g, &cfg, bound, table)
			for i := 1; i < len(changed); i++ {
				if changed[i-1] >= changed[i] {
					t.Fatalf("changed not sorted: %v", changed)
				}
			}
			perturb(rng, g)
		}
	}
}

// perturb moves a few costs by up to ±20 % and flips a link now and then.
func perturb(rng *rand.Rand, g *Graph) {
	regs := g.Regions()
	for range 3 {
		r := regs[rng.IntN(len(regs))]
		es := g.Edges(r)
		if len(es) == 0 {
			continue
		}
		e := &es[rng.IntN(len(es))]
		e.Cost *= 0.8 + 0.4*rng.Float64()
		if rng.IntN(6) == 0 {
			e.Up = !e.Up
		}
		_ = g.SetEdges(r, es)
	}
}

func TestRouterConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g, ids := randomGraph(rng)
	cfg := DefaultConfig()
	r := NewRouter(ids[0], &cfg, 2)
	graphs := make([]*Graph, 50)
	for i := range graphs {
		perturb(rng, g)
		graphs[i] = g.Clone()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, d := range ids {
					if rt, ok := r.Lookup(d); ok && rt.Dest != d {
						t.Errorf("Lookup(%s) returned a route to %s", d, rt.Dest)
					}
				}
				_ = r.Table()
			}
		})
	}
	for _, h := range graphs {
		r.Update(h)
	}
	close(stop)
	wg.Wait()
}
