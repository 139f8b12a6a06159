package lab

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// engineReport is smallReport with everything a FeDist run adds: paths, links, regions, a
// failover and a load scenario.
func engineReport(t *testing.T) *Report {
	t.Helper()
	top := smallTopo(t)
	rep := smallReport(t, []fed.Mode{fed.ModeNATS, fed.ModeFeDist}, func(m fed.Mode, row *Row) float64 {
		if m == fed.ModeFeDist {
			return row.OracleMs + 1
		}
		return row.TreeMs + 1
	}, nil)
	a1, a, b, root := id(top, "a1"), id(top, "a"), id(top, "b"), id(top, "root")
	rep.TimedTook[fed.ModeFeDist] = 10 * time.Second
	rep.Skew = map[regions.RegionID]time.Duration{a1: -50 * time.Millisecond, a: 0, b: 20 * time.Millisecond, root: 0}
	rep.SkewMax, rep.SkewSeed = 200*time.Millisecond, 1
	for _, row := range rep.Rows {
		h := ""
		if row.From.ID == a1 && row.To.ID == b {
			h = "00a1:s,00b0:t"
		}
		row.Lookup[fed.ModeFeDist].Paths = map[string]int{h: 30}
		if err := row.setRoute(top); err != nil {
			t.Fatal(err)
		}
	}
	rtt := func(x, y regions.RegionID) (time.Duration, bool) {
		ms, ok := top.LinkRTT(x, y)
		return time.Duration(ms * float64(time.Millisecond)), ok
	}
	rep.Links = linkRecords(top, rtt, rep.Skew, []nodeLinks{{Region: a1, Node: "fedist-00a1-n1", Links: []costs.LinkStatus{
		{Peer: a, Kind: costs.Tree, HasRTT: true, RTT: 2200 * time.Microsecond, Offset: 49 * time.Millisecond, Up: true, Msgs: 0, ProbesIdle: 7},
		{Peer: b, Kind: costs.Shortcut, HasRTT: true, RTT: 3600 * time.Microsecond, Offset: 71 * time.Millisecond, Up: true,
			Setup: 4 * time.Millisecond, Msgs: 500, Samples: 400, ProbesBusy: 1},
		{Peer: root, Kind: costs.Shortcut}, // never used nor measured: left out
	}}})
	rep.Regions = []RegionStats{{Region: "a1", ID: "00a1", Nodes: 1, Opened: []string{"b"}, Held: 1, HeldMaxNode: 1, ControlBytes: 1000, ControlBytesPerSec: 100}}
	reroute, back := 120.0, 2500.0
	rep.Failover = &FailoverReport{Settings: "one lookup every 20ms", Pairs: []FailoverPair{{From: "a1", To: "b", FromID: "00a1", ToID: "00b0",
		CutKind: "shortcut", Cut: [2]string{"00a1", "00b0"}, CutNames: [2]string{"a1", "b"}, CutMs: 5000, Sent: 400, Failed: 1,
		RerouteMs: &reroute, BackMs: &back, PathBefore: []string{"00a1", "00b0"}, RelaysBefore: "00a1:s,00b0:t",
		PathDuring: []string{"00a1", "00a0", "0001", "00b0"}}}}
	p50 := 3.0
	rep.Load = &LoadReport{Settings: "2ms per message", Region: "b", Verdict: "The engine did NOT route around b's slowed relay.",
		Pairs: []LoadPair{{From: "a1", To: "b", Before: LoadPhase{Path: []string{"00a1", "00b0"}, Relays: "00a1:s,00b0:t", P50Ms: &p50}}}}
	return rep
}

func TestLinkRecords(t *testing.T) {
	rep := engineReport(t)
	if len(rep.Links) != 2 {
		t.Fatalf("%d links, want the two measured ones: %+v", len(rep.Links), rep.Links)
	}
	sc := rep.Links[1]
	if sc.From != "a1" || sc.To != "b" || sc.Kind != "shortcut" || sc.RTTMs != 3 || *sc.EstRTTMs != 3.6 ||
		sc.OffsetTrueMs != 70 || *sc.EstOffsetMs != 71 || sc.SetupMs != 4 || sc.Msgs != 500 || sc.ProbesBusy != 1 {
		t.Errorf("shortcut a1→b: %+v", sc)
	}
	s := summarizeLinks(rep.Links)
	// RTT errors 10 % (a1→a: 2.2 vs 2) and 20 % (a1→b: 3.6 vs 3); offset errors 1 ms each.
	if s.Measured != 2 || s.BusyLinks != 1 || s.ProbesBusy != 1 || s.ProbesIdle != 7 ||
		!near(s.RTTErrPct, 15) || !near(s.OffsetErrMs, 1) || !near(s.RTTBiasMs, 0.4) {
		t.Errorf("summary %+v", s)
	}
}

func near(x, want float64) bool { return x > want-1e-9 && x < want+1e-9 }

// TestEngineFiles: a FeDist run writes links.json, failover.json and load.json beside the report,
// report.json carries the regions and each pair's path, and report.md explains its new sections.
func TestEngineFiles(t *testing.T) {
	rep := engineReport(t)
	dir := t.TempDir()
	if out := os.Getenv("FEDIST_LAB_TEST_OUT"); out != "" {
		dir = out // to look at the files
	}
	if err := rep.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	var links []map[string]any
	readJSON(t, filepath.Join(dir, "links.json"), &links)
	if len(links) != 2 {
		t.Fatalf("links.json has %d links", len(links))
	}
	for _, k := range []string{"from", "to", "kind", "rtt_ms", "est_rtt_ms", "offset_true_ms", "est_offset_ms", "setup_ms", "msgs",
		"probes_busy", "probes_idle", "probes_stall"} {
		if _, ok := links[0][k]; !ok {
			t.Errorf("links.json: a link has no %q: %v", k, links[0])
		}
	}
	var doc struct {
		Regions []RegionStats      `json:"regions"`
		Skew    map[string]float64 `json:"skew_ms"`
		Pairs   []map[string]any   `json:"pairs"`
		Links   *LinkSummary       `json:"links_summary"`
	}
	readJSON(t, filepath.Join(dir, "report.json"), &doc)
	if len(doc.Regions) != 1 || doc.Regions[0].Held != 1 || doc.Skew["a1"] != -50 || doc.Links == nil {
		t.Errorf("report.json: regions %+v, skew %v, links %+v", doc.Regions, doc.Skew, doc.Links)
	}
	for _, p := range doc.Pairs {
		if p["from"] == "a1" && p["to"] == "b" {
			if path, _ := json.Marshal(p["fedist_path"]); string(path) != `["00a1","00b0"]` || p["fedist_shortcut"] != true {
				t.Errorf("a1 → b: fedist_path %s, shortcut %v", path, p["fedist_shortcut"])
			}
		}
		if p["from"] == "a" && p["to"] == "b" && p["fedist_shortcut"] != false {
			t.Errorf("a → b took the tree: %v", p)
		}
	}
	var fo FailoverReport
	readJSON(t, filepath.Join(dir, "failover.json"), &fo)
	if len(fo.Pairs) != 1 || *fo.Pairs[0].RerouteMs != 120 || fo.Pairs[0].Cut != [2]string{"00a1", "00b0"} {
		t.Errorf("failover.json: %+v", fo)
	}
	var ld map[string]any
	readJSON(t, filepath.Join(dir, "load.json"), &ld)
	if ps, _ := ld["pairs"].([]any); len(ps) != 1 || ps[0].(map[string]any)["before"] == nil {
		t.Errorf("load.json: %v", ld)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	for _, want := range []string{"| 15.0 % | 0.40 ms | 1.00 ms | 1 | 7 | 0 |", "| a1 | b | 3.0 | 12.0 ×4.00 |", "a1~b |",
		"fedist: p50 within 1.10 × oracle + 2 ms on 12 of 12 pairs", "reroute p50 120 ms", "| a1 | b | shortcut a1-b | 5.0 | 1/400 | 120 | 2500 | a1~b | a1-a-root-b |",
		"did NOT route around", "a1 -50.0"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if n := explainedSections(t, string(md)); n != 8 {
		t.Errorf("%d sections with tables, want 8", n)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
}
