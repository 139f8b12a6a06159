package lab

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// fakeReport is a report of the world topology where plain NATS measured the tree path plus 1 ms
// per link and FeDist was not run.
func fakeReport(t *testing.T) *Report {
	t.Helper()
	top, err := topo.Load(filepath.Join("..", "testdata", "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(top)
	cfg.Modes = []fed.Mode{fed.ModeNATS}
	rep, err := newReport(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range rep.Rows {
		hops := float64(len(row.TreePath) - 1)
		row.Lookup[fed.ModeNATS] = &LookupResult{Summary: Summary{N: 30, Min: row.TreeMs + hops*0.9,
			P50: row.TreeMs + hops, P99: row.TreeMs + 2*hops, Max: row.TreeMs + 2*hops}}
		if i%40 == 0 {
			row.Throughput[fed.ModeNATS] = &ThroughputResult{Sent: 1000, Received: 1000, MsgsPerSec: 150000}
		}
	}
	return rep
}

func TestReportFiles(t *testing.T) {
	rep := fakeReport(t)
	dir := t.TempDir()
	if out := os.Getenv("FEDIST_LAB_TEST_OUT"); out != "" {
		dir = out // to look at the chart
	}
	if err := rep.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pairs   []map[string]any `json:"pairs"`
		Regions []any            `json:"regions"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report.json is not an object with a list of pairs: %v", err)
	}
	rows := doc.Pairs
	if len(rows) != 132 {
		t.Fatalf("%d rows, want 132", len(rows))
	}
	for _, k := range []string{"from", "to", "oracle_ms", "tree_ms", "nats_p50_ms", "nats_p99_ms", "fedist_p50_ms", "fedist_p99_ms",
		"nats_zero_delay_p50_ms", "fedist_zero_delay_p50_ms", "fedist_path", "fedist_shortcut"} {
		if _, ok := rows[0][k]; !ok {
			t.Errorf("row has no %q: %v", k, rows[0])
		}
	}
	var found bool
	for _, r := range rows {
		if r["from"] == "ap-south-1" && r["to"] == "me-south-1" {
			found = true
			if r["oracle_ms"] != 38.4 || r["tree_ms"] != 450.6 || r["fedist_p50_ms"] != nil || r["nats_p50_ms"] != 454.6 {
				t.Errorf("ap-south-1 → me-south-1: %v", r)
			}
		}
	}
	if !found {
		t.Error("no ap-south-1 → me-south-1 row")
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"| ap-south-1 | me-south-1 | 38.4 | 450.6 ×11.73 | 454.6 ×11.84 |", "## Publish throughput", "| nats p50 |",
		"the tree path is the shortest for 22 of 132 pairs"} { // as BENCHMARKS.md counted it
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "links.json")); !os.IsNotExist(err) {
		t.Errorf("links.json written for a run without fedist: %v", err)
	}
	img, _ := os.ReadFile(filepath.Join(dir, "report.png"))
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width < 1000 {
		t.Fatalf("report.png: %v, %+v", err, cfg)
	}
}

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in            []int
		p50, p99, max float64
	}{
		{[]int{5}, 5, 5, 5},
		{[]int{4, 1, 3, 2}, 2, 4, 4},
		{[]int{10, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 5, 10, 10},
	} {
		ds := make([]time.Duration, len(tc.in))
		for i, v := range tc.in {
			ds[i] = time.Duration(v) * time.Millisecond
		}
		s := Summarize(ds)
		if s.P50 != tc.p50 || s.P99 != tc.p99 || s.Max != tc.max || s.N != len(tc.in) {
			t.Errorf("Summarize(%v) = %+v", tc.in, s)
		}
	}
}

func TestThroughputPairs(t *testing.T) {
	top := smallTopo(t)
	got := throughputPairs(top, allPairs(top), 3)
	if len(got) != 3 {
		t.Fatalf("%d pairs", len(got))
	}
	first, _ := top.TreeRTT(got[0].From.ID, got[0].To.ID)
	last, _ := top.TreeRTT(got[2].From.ID, got[2].To.ID)
	if first != 2 || last != 12 {
		t.Fatalf("picked tree RTTs %v … %v, want the shortest (2) and the longest (12)", first, last)
	}
}

// TestIBMTopology: ibm.json, the IBM Cloud matrix built like world.json, loads without warnings
// and has pairs that routing off the tree can shorten.
func TestIBMTopology(t *testing.T) {
	top, err := topo.Load(filepath.Join("..", "testdata", "ibm.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig(top)
	rep, err := newReport(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	short, long := 0, 0
	for _, row := range rep.Rows {
		if row.treeShortest() {
			short++
		}
		if row.TreeMs >= 1.5*row.OracleMs {
			long++
		}
	}
	if top.Len() != 12 || len(top.Warnings) != 0 || short != 28 || long != 14 {
		t.Errorf("%d regions, warnings %q; tree shortest for %d pairs, ≥ 1.5 × oracle for %d", top.Len(), top.Warnings, short, long)
	}
	c := rep.row([2]regions.RegionID{id(top, "chennai"), id(top, "london")})
	if c.TreeMs != 329.5 || c.OracleMs != 140 {
		t.Errorf("chennai → london: tree %v, oracle %v", c.TreeMs, c.OracleMs)
	}
}
