package lab

import (
	"slices"
	"testing"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// smallPaths is a route table of the small topology as the engine might hold it: a1 and b talk
// over their shortcut, a reaches b through a1 (a waypoint), everything else takes the tree.
func smallPaths(t *testing.T) (map[[2]regions.RegionID]Path, linkGraph) {
	t.Helper()
	top := smallTopo(t)
	paths := map[[2]regions.RegionID]Path{}
	for _, p := range allPairs(top) {
		h := ""
		switch p.From.Name + ">" + p.To.Name {
		case "a1>b":
			h = "00a1:s,00b0:t"
		case "b>a1":
			h = "00b0:s,00a1:t"
		case "a>b":
			h = "00a0:w,00a1:s,00b0:t"
		}
		x, err := ExpandPath(top.Tree(), p.From.ID, p.To.ID, h)
		if err != nil {
			t.Fatal(err)
		}
		paths[p.key()] = x
	}
	up := func(peers ...string) []costs.LinkStatus {
		var out []costs.LinkStatus
		for _, n := range peers {
			out = append(out, costs.LinkStatus{Peer: id(top, n), Up: true, HasRTT: true})
		}
		return out
	}
	g := newLinkGraph([]nodeLinks{
		{Region: id(top, "root"), Links: up("a", "b")},
		{Region: id(top, "a"), Links: up("root", "a1")},
		{Region: id(top, "a1"), Links: up("a", "b")},
		{Region: id(top, "b"), Links: up("root", "a1")},
	})
	return paths, g
}

func TestPlanFailover(t *testing.T) {
	top := smallTopo(t)
	paths, g := smallPaths(t)
	rep := smallReport(t, nil, nil, nil)
	cfg := DefaultFailoverConfig()
	cuts := planFailover(rep.Rows, paths, top.Tree(), g, &cfg, nil)
	got := map[string][]string{}
	for _, c := range cuts {
		k := c.kind.String() + " " + top.Name(c.cut[0]) + "-" + top.Name(c.cut[1])
		for _, p := range c.pairs {
			got[k] = append(got[k], p.From.Name+">"+p.To.Name)
		}
	}
	// Tree cuts first, pairs whose tree path is the shortest first, and of those the longest: the
	// 6 ms pairs root>a1 (root-a-a1; root reaches a1 around root-a through b's shortcut) and
	// root>b (root-b; root reaches b around it through a and a1). Then the shortcut pairs, which
	// all cross a1-b first: one cut for the three.
	if len(cuts) != 3 || cuts[0].kind != costs.Tree || cuts[1].kind != costs.Tree {
		t.Fatalf("cuts %v: want two tree cuts, then one shortcut cut", got)
	}
	sc := got["shortcut a1-b"]
	slices.Sort(sc)
	if !slices.Equal(got["tree root-b"], []string{"root>b"}) || !slices.Equal(got["tree root-a"], []string{"root>a1"}) ||
		!slices.Equal(sc, []string{"a1>b", "a>b", "b>a1"}) {
		t.Errorf("cuts %v", got)
	}
}

func TestBusiestRelay(t *testing.T) {
	top := smallTopo(t)
	paths, _ := smallPaths(t)
	r, n, inter := busiestRelay(paths)
	if r != id(top, "a1") || n != 1 || !inter {
		t.Fatalf("busiest relay %s (%d paths, intermediate %v), want a1, the waypoint of a>b", top.Name(r), n, inter)
	}
	if ps := affectedPairs(top, paths, r, inter, 5); len(ps) != 1 || ps[0].From.Name != "a" || ps[0].To.Name != "b" {
		t.Errorf("affected %v", ps)
	}
	delete(paths, [2]regions.RegionID{id(top, "a"), id(top, "b")})
	r, n, inter = busiestRelay(paths) // no waypoint left: the destination ends of the shortcuts
	if n != 1 || inter || (r != id(top, "a1") && r != id(top, "b")) {
		t.Errorf("without a waypoint: %s, %d, %v", top.Name(r), n, inter)
	}
}

// TestPlanFailoverSkip: a link already cut is not planned again; a tree pair moves on to the next
// tree link of its path.
func TestPlanFailoverSkip(t *testing.T) {
	top := smallTopo(t)
	paths, g := smallPaths(t)
	rep := smallReport(t, nil, nil, nil)
	cfg := DefaultFailoverConfig()
	done := [2]regions.RegionID{id(top, "b"), id(top, "root")}
	for _, c := range planFailover(rep.Rows, paths, top.Tree(), g, &cfg, func(cut [2]regions.RegionID) bool { return samePair(cut, done) }) {
		if samePair(c.cut, done) {
			t.Errorf("planned %v again", c)
		}
	}
}
