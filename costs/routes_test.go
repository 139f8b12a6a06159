package costs

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/fedist/fedist/regions"
)

// TestRoutes runs testdata/routes/*.txt. Commands:
//
//	config relay-hop=1 switch-rel=0.05 switch-abs=1   set Config fields (DefaultConfig otherwise)
//	graph                 replace the graph by the edges below (see parseEdgeLine)
//	edge                  add or replace the edges below
//	drop                  remove the edges below ("from to kind")
//	routes from=00a0 [max-relays=N]   print ComputeBounded, cross-checked against brute force
//	router from=00a0 [max-relays=N]   start a Router
//	update                Router.Update: the changed destinations and the table
func TestRoutes(t *testing.T) {
	datadriven.Walk(t, "testdata/routes", func(t *testing.T, path string) {
		cfg := DefaultConfig()
		g := NewGraph()
		var router *Router
		var routerFrom regions.RegionID
		var routerBound int
		datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
			switch td.Cmd {
			case "config":
				td.MaybeScanArgs(t, "relay-hop", &cfg.RelayHop)
				td.MaybeScanArgs(t, "switch-rel", &cfg.SwitchRel)
				td.MaybeScanArgs(t, "switch-abs", &cfg.SwitchAbs)
				return "ok"
			case "graph", "edge", "drop":
				if td.Cmd == "graph" {
					g = NewGraph()
				}
				if err := applyEdgeLines(g, td.Cmd == "drop", td.Input); err != nil {
					return "error: " + err.Error()
				}
				return "ok"
			case "routes":
				me, bound := routeArgs(t, td)
				got := ComputeBounded(me, g, &cfg, bound)
				if err := checkRoutes(me, g, cfg.RelayHop, bound, got); err != nil {
					t.Fatalf("%s: brute force: %v", td.Pos, err)
				}
				if len(got) == 0 {
					return "no routes"
				}
				var b strings.Builder
				for _, d := range sortedDests(got) {
					b.WriteString(formatRoute(got[d]))
				}
				return b.String()
			case "router":
				routerFrom, routerBound = routeArgs(t, td)
				router = NewRouter(routerFrom, &cfg, routerBound)
				return "ok"
			case "update":
				changed := router.Update(g)
				var b strings.Builder
				fmt.Fprintf(&b, "changed:%s\n", formatIDs(changed))
				table := map[regions.RegionID]Route{}
				for _, rt := range router.Table() {
					table[rt.Dest] = rt
					b.WriteString(formatRoute(rt))
				}
				checkHysteresis(t, td.Pos, routerFrom, g, &cfg, routerBound, table)
				return b.String()
			}
			t.Fatalf("%s: unknown command %q", td.Pos, td.Cmd)
			return ""
		})
	})
}

func routeArgs(t *testing.T, td *datadriven.TestData) (regions.RegionID, int) {
	var from string
	td.ScanArgs(t, "from", &from)
	me, err := regions.ParseRegion(from)
	if err != nil {
		t.Fatalf("%s: %v", td.Pos, err)
	}
	bound := -1
	td.MaybeScanArgs(t, "max-relays", &bound)
	return me, bound
}

// checkHysteresis checks a router's table against brute force: the same destinations, valid
// routes within the bound, and none dearer than the optimum by more than the switch margins.
func checkHysteresis(t *testing.T, pos string, me regions.RegionID, g *Graph, cfg *Config, bound int, table map[regions.RegionID]Route) {
	t.Helper()
	want := bruteBest(me, g, cfg.RelayHop, bound)
	if len(want) != len(table) {
		t.Fatalf("%s: table has %d routes, brute force reaches %d regions", pos, len(table), len(want))
	}
	for d, rt := range table {
		opt, ok := want[d]
		if !ok {
			t.Fatalf("%s: route to %s, which brute force does not reach", pos, d)
		}
		if err := checkRoute(me, g, cfg.RelayHop, bound, rt); err != nil {
			t.Fatalf("%s: %v", pos, err)
		}
		// A kept route is not dearer than (opt + SwitchAbs) / (1 − SwitchRel).
		if rt.Cost*(1-cfg.SwitchRel)-cfg.SwitchAbs > opt+1e-9 {
			t.Fatalf("%s: route %s costs %v, optimum %v is beyond the switch margins", pos, rt, rt.Cost, opt)
		}
	}
}

// parseEdgeLine reads "from to kind cost [down]" or "a <> b kind cost [down]" (both directions).
// For drop, "from to kind".
func parseEdgeLine(line string, drop bool) ([]Edge, error) {
	f := strings.Fields(line)
	both := len(f) > 1 && f[1] == "<>"
	if both {
		f = append(f[:1], f[2:]...)
	}
	if (drop && len(f) != 3) || (!drop && len(f) != 4 && len(f) != 5) {
		return nil, fmt.Errorf("bad edge line %q", line)
	}
	from, err1 := regions.ParseRegion(f[0])
	to, err2 := regions.ParseRegion(f[1])
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad regions in %q", line)
	}
	e := Edge{From: from, To: to, Up: true}
	switch f[2] {
	case "tree":
		e.Kind = Tree
	case "shortcut":
		e.Kind = Shortcut
	default:
		return nil, fmt.Errorf("bad kind in %q", line)
	}
	if !drop {
		if e.Cost, err1 = strconv.ParseFloat(f[3], 64); err1 != nil {
			return nil, fmt.Errorf("bad cost in %q", line)
		}
		if len(f) == 5 && f[4] != "down" {
			return nil, fmt.Errorf("bad flag in %q", line)
		}
		e.Up = len(f) == 4
	}
	if !both {
		return []Edge{e}, nil
	}
	back := e
	back.From, back.To = e.To, e.From
	return []Edge{e, back}, nil
}

// applyEdgeLines adds (replacing same From, To, Kind) or drops the edges of input.
func applyEdgeLines(g *Graph, drop bool, input string) error {
	for line := range strings.Lines(input) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		edges, err := parseEdgeLine(line, drop)
		if err != nil {
			return err
		}
		for _, e := range edges {
			es := g.Edges(e.From)
			kept := es[:0]
			for _, o := range es {
				if o.To != e.To || o.Kind != e.Kind {
					kept = append(kept, o)
				}
			}
			if !drop {
				kept = append(kept, e)
			}
			if err := g.SetEdges(e.From, kept); err != nil {
				return err
			}
		}
	}
	return nil
}

func formatRoute(rt Route) string {
	st := rt.Step()
	return fmt.Sprintf("%s: %s cost=%s relays=%d step=%s(%s)\n", rt.Dest, rt, formatCost(rt.Cost), rt.Relays(), st.Kind, st.Via)
}

func formatCost(c float64) string {
	return strconv.FormatFloat(math.Round(c*1e6)/1e6, 'f', -1, 64)
}

func formatIDs(ids []regions.RegionID) string {
	if len(ids) == 0 {
		return " none"
	}
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(" " + id.String())
	}
	return b.String()
}

func sortedDests(m map[regions.RegionID]Route) []regions.RegionID {
	return slices.Sorted(maps.Keys(m))
}
