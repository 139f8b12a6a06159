package costs

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/fedist/fedist/regions"
)

func TestGraphSetEdges(t *testing.T) {
	up := func(from, to regions.RegionID, kind Kind, cost float64) Edge {
		return Edge{From: from, To: to, Kind: kind, Cost: cost, Up: true}
	}
	for _, tc := range []struct {
		name string
		edge Edge
	}{
		{"other source", up(2, 3, Tree, 1)},
		{"self loop", up(1, 1, Tree, 1)},
		{"region zero", up(1, 0, Tree, 1)},
		{"unknown kind", Edge{From: 1, To: 3, Kind: 9, Cost: 1}},
		{"negative cost", up(1, 3, Tree, -1)},
		{"NaN cost", up(1, 3, Tree, math.NaN())},
		{"infinite cost", up(1, 3, Shortcut, math.Inf(1))},
		{"duplicate", up(1, 2, Tree, 7)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewGraph()
			good := []Edge{up(1, 2, Tree, 5), up(1, 4, Shortcut, 0)}
			err := g.SetEdges(1, append(slices.Clone(good), tc.edge))
			if !errors.Is(err, ErrEdge) {
				t.Fatalf("SetEdges error %v, want ErrEdge", err)
			}
			if got := g.Edges(1); !slices.Equal(got, good) {
				t.Fatalf("kept %v, want %v", got, good)
			}
		})
	}
}

func TestGraphAccessors(t *testing.T) {
	g := NewGraph()
	if err := g.SetEdges(5, []Edge{
		{From: 5, To: 9, Kind: Shortcut, Cost: 3, Up: false},
		{From: 5, To: 2, Kind: Tree, Cost: 1, Up: true},
		{From: 5, To: 9, Kind: Tree, Cost: 2, Up: true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.SetEdges(3, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := g.Regions(), []regions.RegionID{3, 5}; !slices.Equal(got, want) {
		t.Fatalf("Regions %v, want %v", got, want)
	}
	es := g.Edges(5)
	if es[0].To != 2 || es[1].Kind != Tree || es[2].Kind != Shortcut {
		t.Fatalf("edges not sorted by (To, Kind): %v", es)
	}
	es[0].Cost = 99 // a copy
	if e, ok := g.Edge(5, 2, Tree); !ok || e.Cost != 1 {
		t.Fatalf("Edges returned shared storage: %v", e)
	}
	if e, ok := g.Edge(5, 9, Shortcut); !ok || e.Up {
		t.Fatalf("down edge not kept: %v %v", e, ok)
	}
	if _, ok := g.Edge(5, 2, Shortcut); ok {
		t.Fatal("found an edge never set")
	}

	c := g.Clone()
	if err := c.SetEdges(5, nil); err != nil {
		t.Fatal(err)
	}
	c.Remove(3)
	if len(g.Edges(5)) != 3 || len(g.Regions()) != 2 {
		t.Fatal("Clone shares state with the original")
	}
	if got := c.Regions(); !slices.Equal(got, []regions.RegionID{5}) {
		t.Fatalf("clone Regions %v after Remove", got)
	}
}

// TestStateGraph checks the gonum interface methods Dijkstra relies on agree with each other.
func TestStateGraph(t *testing.T) {
	g := NewGraph()
	_ = g.SetEdges(1, []Edge{{From: 1, To: 2, Kind: Tree, Cost: 4, Up: true}})
	_ = g.SetEdges(2, []Edge{{From: 2, To: 3, Kind: Shortcut, Cost: 1, Up: true}, {From: 2, To: 1, Kind: Tree, Cost: 4, Up: true}})
	cfg := DefaultConfig()
	cfg.RelayHop = 10
	sg := newStateGraph(1, g, &cfg, 1)
	start := sg.id(hopState{v: 1, in: Tree})
	at2 := sg.id(hopState{v: 2, in: Tree})
	at3 := sg.id(hopState{v: 3, in: Shortcut, r: 1})
	if nodes := sg.From(start); nodes.Len() != 1 || !nodes.Next() || nodes.Node().ID() != at2 {
		t.Fatal("From(start) should list only 2 (entered over the tree)")
	}
	if nodes := sg.From(at2); nodes.Len() != 1 || !nodes.Next() || nodes.Node().ID() != at3 {
		t.Fatal("From(2) should list only 3 (never back to the source)")
	}
	if w, ok := sg.Weight(at2, at3); !ok || w != 21 {
		t.Fatalf("waypoint shortcut weight %v %v, want 1 + 10 + 10", w, ok)
	}
	if e := sg.Edge(at2, at3); e == nil || e.To().ID() != at3 {
		t.Fatalf("Edge(2, 3) = %v", e)
	}
	if _, ok := sg.Weight(start, at3); ok {
		t.Fatal("weight for a missing edge")
	}
	for _, h := range []hopState{{1, Tree, 0}, {65535, Shortcut, 1}, {7, Shortcut, 0}} {
		if got := sg.state(sg.id(h)); got != h {
			t.Fatalf("state(id(%v)) = %v", h, got)
		}
	}
}
