package lab

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/fedist/fedist/integration/fed"
)

// TestChartAxesLeaveRoom: every point of both panels lies inside its axes with room to spare.
func TestChartAxesLeaveRoom(t *testing.T) {
	rep := fakeReport(t)
	rows := rep.ratioRows()
	lo, hi := 1.0, 0.0
	var maxTree, maxP50 float64
	for _, row := range rows {
		p50, _ := row.p50(fed.ModeNATS)
		for _, y := range []float64{row.TreeMs / row.OracleMs, p50 / row.OracleMs} {
			lo, hi = min(lo, y), max(hi, y)
		}
		maxTree, maxP50 = max(maxTree, row.TreeMs), max(maxP50, p50)
	}
	ratio, err := rep.ratioPlot()
	if err != nil {
		t.Fatal(err)
	}
	// The ratio panel's y is log10 of the ratio.
	room := 0.05 * math.Log10(hi/lo)
	if ratio.Y.Min > math.Log10(lo)-room || ratio.Y.Max < math.Log10(hi)+room || ratio.X.Min > 0 || ratio.X.Max < float64(len(rows)+1) {
		t.Errorf("ratio panel: x [%v, %v], log y [%v, %v]; want x ⊇ [0, %d], ratios [%v, %v] with 5 %% room",
			ratio.X.Min, ratio.X.Max, ratio.Y.Min, ratio.Y.Max, len(rows)+1, lo, hi)
	}
	honest, err := rep.honestyPlot()
	if err != nil {
		t.Fatal(err)
	}
	if honest.X.Max < maxTree*1.05 || honest.Y.Max < maxP50*1.05 {
		t.Errorf("tree-RTT panel: x up to %v, y up to %v; want room above %v and %v", honest.X.Max, honest.Y.Max, maxTree, maxP50)
	}
}

func TestPad(t *testing.T) {
	for _, tc := range []struct{ lo, hi, wantLo, wantHi float64 }{
		{0, 2, -0.12, 2.12}, // 6 % of the span
		{1, 1, 0.99, 1.01},  // a flat series still gets room
	} {
		lo, hi := pad(tc.lo, tc.hi, 0.06)
		if math.Abs(lo-tc.wantLo) > 1e-9 || math.Abs(hi-tc.wantHi) > 1e-9 {
			t.Errorf("pad(%v, %v) = %v, %v; want %v, %v", tc.lo, tc.hi, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
	if got := padUp(0, 500, 0.06); got != 530 {
		t.Errorf("padUp(0, 500) = %v, want 530", got)
	}
}

func TestRatioTicks(t *testing.T) {
	var labels []string
	for _, tk := range (ratioTicks{}).Ticks(math.Log10(0.9), math.Log10(12)) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1 1.5 2 3 5 10" {
		t.Errorf("ticks between 0.9 and 12 labelled %q", got)
	}
}

// TestWorstLabels: the chart names the five worst pairs of the world topology (BENCHMARKS.md's
// table), each pair once for both directions, at its left point, and no two names crowd.
func TestWorstLabels(t *testing.T) {
	rep := fakeReport(t)
	rows := rep.ratioRows()
	const gap = 0.05
	got := worstLabels(rows, rep.Modes, 5, gap)
	if len(got.Labels) != 5 {
		t.Fatalf("%d labels, want 5: %q", len(got.Labels), got.Labels)
	}
	pair := func(s string) []string {
		ends := strings.Split(s, " ↔ ")
		slices.Sort(ends)
		return ends
	}
	for i, want := range [][]string{{"ap-south-1", "me-south-1"}, {"ap-southeast-1", "me-south-1"}, {"ap-south-1", "ap-southeast-1"}} {
		if g := pair(got.Labels[i]); !slices.Equal(g, want) {
			t.Errorf("label %d = %q, want %s ↔ %s in either order", i, got.Labels[i], want[0], want[1])
		}
	}
	seen := map[string]bool{}
	for i, l := range got.Labels {
		p := strings.Join(pair(l), ",")
		if seen[p] || !strings.Contains(l, " ↔ ") {
			t.Errorf("label %q: repeated, or not both directions", l)
		}
		seen[p] = true
		x := int(got.XYs[i].X)
		if row := rows[x-1]; !strings.HasPrefix(l, row.From.Name+" ↔ "+row.To.Name) {
			t.Errorf("label %q at x=%d, the point of %s → %s", l, x, row.From.Name, row.To.Name)
		}
		rev := slices.IndexFunc(rows, func(r *Row) bool { return r.From == rows[x-1].To && r.To == rows[x-1].From })
		if rev+1 < x {
			t.Errorf("label %q at x=%d, right of the reverse direction's point at x=%d", l, x, rev+1)
		}
		if i > 0 && got.XYs[i-1].Y-got.XYs[i].Y < gap-1e-9 {
			t.Errorf("labels %q and %q are %v decades apart, want at least %v", got.Labels[i-1], l,
				got.XYs[i-1].Y-got.XYs[i].Y, gap)
		}
	}
	// Unmeasured pairs are named by the tree path's ratio.
	for _, row := range rows {
		clear(row.Lookup)
	}
	if got := worstLabels(rows, rep.Modes, 1, gap); len(got.XYs) != 1 || math.Abs(got.XYs[0].Y-math.Log10(450.6/38.4)) > 1e-9 {
		t.Errorf("without measurements: %v %q, want the tree ratio 450.6/38.4", got.XYs, got.Labels)
	}
}
