package topo

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedist/fedist/regions"
)

const smallCSV = `region,root,a,a1,b
root,0,10,,20
a,10,0,4,30
a1,,4,0,50
b,20,30,50,0
`

const smallJSON = `{"regions":[
 {"id":"0001","name":"root","parent":""},
 {"id":"00a0","name":"a","parent":"0001"},
 {"id":"00a1","name":"a1","parent":"a","nodes":2},
 {"id":"00b0","name":"b","parent":"0001"}],
 "rtt_csv":"rtt.csv","links":%s}`

// writeTopo writes a topology file and its CSV into a fresh folder and returns the file's path.
func writeTopo(t *testing.T, json, csv string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rtt.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "topo.json")
	if err := os.WriteFile(p, []byte(json), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSmall(t *testing.T) {
	top, err := Load(writeTopo(t, strings.Replace(smallJSON, "%s", `[["a1","b"]]`, 1), smallCSV))
	if err != nil {
		t.Fatal(err)
	}
	if top.Len() != 4 || top.Tree().Root() != 1 {
		t.Fatalf("Len %d root %s", top.Len(), top.Tree().Root())
	}
	a1, _ := top.ByName("a1")
	if a1.ID != 0xa1 || a1.Parent != 0xa0 || a1.Nodes != 2 {
		t.Fatalf("a1 = %+v (parent given by name)", a1)
	}
	for _, tc := range []struct {
		a, b            regions.RegionID
		allowed         bool
		tree, oracle    float64
		oraclePathNames string
	}{
		{0xa1, 0xb0, true, 4 + 10 + 20, 34, "a1 a root b"}, // the direct a1-b link (50) is slower
		{0xa0, 0xb0, false, 30, 30, "a root b"},            // a-b is not allowed: 10+20
		{0x01, 0xa1, false, 14, 14, "root a a1"},
		{0xa1, 0xa0, true, 4, 4, "a1 a"},
	} {
		if got := top.Allowed(tc.a, tc.b); got != tc.allowed {
			t.Errorf("Allowed(%s,%s) = %v", tc.a, tc.b, got)
		}
		tree, err := top.TreeRTT(tc.a, tc.b)
		if err != nil || tree != tc.tree {
			t.Errorf("TreeRTT(%s,%s) = %v, %v; want %v", tc.a, tc.b, tree, err, tc.tree)
		}
		or, err := top.OracleRTT(tc.a, tc.b)
		if err != nil || or != tc.oracle {
			t.Errorf("OracleRTT(%s,%s) = %v, %v; want %v", tc.a, tc.b, or, err, tc.oracle)
		}
		p, _ := top.OraclePath(tc.a, tc.b)
		var names []string
		for _, r := range p {
			names = append(names, top.Name(r))
		}
		if strings.Join(names, " ") != tc.oraclePathNames {
			t.Errorf("OraclePath(%s,%s) = %v", tc.a, tc.b, names)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, csv, want string
		is                    error
	}{
		{"syntax", `{"regions":[}`, smallCSV, "topo.json:1", ErrTopology},
		{"no csv", `{"regions":[{"id":"0001","name":"root"}]}`, smallCSV, "rtt_csv is missing", ErrTopology},
		{"unknown parent", strings.Replace(strings.Replace(smallJSON, `"parent":"a"`, `"parent":"zz"`, 1), "%s", `"all"`, 1),
			smallCSV, `parent "zz" is neither`, ErrTopology},
		{"parent id not in file", strings.Replace(strings.Replace(smallJSON, `"parent":"a"`, `"parent":"0fff"`, 1), "%s", `"all"`, 1),
			smallCSV, "parent region is not in the registry", regions.ErrParentUnknown},
		{"two roots", strings.Replace(strings.Replace(smallJSON, `"name":"b","parent":"0001"`, `"name":"b","parent":""`, 1), "%s", `"all"`, 1),
			smallCSV, "2 roots", regions.ErrNoRoot},
		{"cycle", `{"regions":[{"id":"0001","name":"root"},{"id":"00a0","name":"a","parent":"00b0"},{"id":"00b0","name":"b","parent":"00a0"}],"rtt_csv":"rtt.csv","links":"tree"}`,
			smallCSV, "does not reach the root", regions.ErrCycle},
		{"reserved id", strings.Replace(strings.Replace(smallJSON, `"00b0"`, `"0000"`, 1), "%s", `"all"`, 1),
			smallCSV, "reserved", regions.ErrReservedRegion},
		{"name not in csv", strings.Replace(strings.Replace(smallJSON, `"name":"b"`, `"name":"c"`, 1), "%s", `"all"`, 1),
			smallCSV, `region "c" is not in the RTT matrix`, ErrTopology},
		{"missing rtt for all", strings.Replace(smallJSON, "%s", `"all"`, 1), smallCSV,
			"no RTT between root and a1, an allowed link", ErrTopology},
		{"missing rtt for tree link", strings.Replace(smallJSON, "%s", `"tree"`, 1), strings.Replace(smallCSV, "a,10,0,4,30", "a,10,0,,30", 1) + "",
			"", nil}, // a1-a is given on a1's row; one direction is enough
		{"missing rtt both ways", strings.Replace(smallJSON, "%s", `"tree"`, 1),
			strings.Replace(strings.Replace(smallCSV, "a,10,0,4,30", "a,10,0,,30", 1), "a1,,4,0,50", "a1,,,0,50", 1),
			"no RTT between a and a1, a tree link", ErrTopology},
		{"link to unknown", strings.Replace(smallJSON, "%s", `[["a","zz"]]`, 1), smallCSV, "link a-zz names a region", ErrTopology},
		{"link not a pair", strings.Replace(smallJSON, "%s", `[["a"]]`, 1), smallCSV, "links[0] has 1 names", ErrTopology},
		{"links word", strings.Replace(smallJSON, "%s", `"some"`, 1), smallCSV, `links "some"`, ErrTopology},
		{"csv row unknown", strings.Replace(smallJSON, "%s", `"tree"`, 1), smallCSV + "zz,1,2,3,4\n",
			`rtt.csv:6: row "zz" names a region that is not in the header`, ErrRTT},
		{"csv ragged", strings.Replace(smallJSON, "%s", `"tree"`, 1), smallCSV + "b,1\n", "rtt.csv:6: 2 cells", ErrRTT},
		{"csv negative", strings.Replace(smallJSON, "%s", `"tree"`, 1), strings.Replace(smallCSV, "0,10,,20", "0,-10,,20", 1),
			`rtt.csv:2: root to a: "-10"`, ErrRTT},
		{"csv duplicate row", strings.Replace(smallJSON, "%s", `"tree"`, 1), smallCSV + "b,20,30,50,0\n",
			`row "b" already appeared on line 5`, ErrRTT},
		{"duplicate name", strings.Replace(strings.Replace(smallJSON, `"name":"b"`, `"name":"a"`, 1), "%s", `"tree"`, 1),
			smallCSV, `region name "a" is used by`, ErrTopology},
		{"bad nodes", strings.Replace(strings.Replace(smallJSON, `"nodes":2`, `"nodes":0`, 1), "%s", `"tree"`, 1),
			smallCSV, "nodes 0", ErrTopology},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeTopo(t, tc.json, tc.csv))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, tc.is) {
				t.Fatalf("error %v; want it to contain %q and wrap %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestUnlistedTreeLinkWarns(t *testing.T) {
	top, err := Load(writeTopo(t, strings.Replace(smallJSON, "%s", `[["a1","b"]]`, 1), smallCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Warnings) != 1 || !strings.Contains(top.Warnings[0], "a-root, a1-a, b-root") || !top.Allowed(0xa1, 0xa0) {
		t.Fatalf("warnings %q; want one naming the tree links, each still allowed", top.Warnings)
	}
}

func TestAsymmetricMean(t *testing.T) {
	m, err := ParseRTT(strings.NewReader("x,p,q\np,0,10\nq,14,0\n"), "m.csv")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := m.RTT("q", "p"); v != 12 {
		t.Fatalf("RTT = %v, want the mean 12", v)
	}
	if len(m.Warnings) != 1 {
		t.Fatalf("warnings %q, want one about p-q", m.Warnings)
	}
}

func TestUnknownFieldWarns(t *testing.T) {
	top, err := Load(writeTopo(t, strings.Replace(strings.Replace(smallJSON, `"nodes":2`, `"node":2`, 1), "%s", `"tree"`, 1), smallCSV))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Warnings) != 1 || !strings.Contains(top.Warnings[0], `unknown field "node"`) {
		t.Fatalf("warnings %q", top.Warnings)
	}
}

// TestWorldOracle loads the committed world topology and cross-checks every oracle RTT against a
// brute-force Floyd-Warshall over the same allowed links, and every tree RTT against the path.
func TestWorldOracle(t *testing.T) {
	top, err := Load(filepath.Join("..", "testdata", "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(top.Warnings) > 0 {
		t.Errorf("warnings: %q", top.Warnings)
	}
	rs := top.Regions()
	n := len(rs)
	d := make([][]float64, n)
	for i := range n {
		d[i] = make([]float64, n)
		for j := range n {
			d[i][j] = math.Inf(1)
			if ms, ok := top.LinkRTT(rs[i].ID, rs[j].ID); ok {
				d[i][j] = ms
			}
		}
		d[i][i] = 0
	}
	for k := range n {
		for i := range n {
			for j := range n {
				d[i][j] = min(d[i][j], d[i][k]+d[k][j])
			}
		}
	}
	for i := range n {
		for j := range n {
			got, err := top.OracleRTT(rs[i].ID, rs[j].ID)
			if err != nil || math.Abs(got-d[i][j]) > 1e-9 {
				t.Errorf("oracle %s-%s = %v, %v; brute force %v", rs[i].Name, rs[j].Name, got, err, d[i][j])
			}
			tree, _ := top.TreeRTT(rs[i].ID, rs[j].ID)
			if tree+1e-9 < got {
				t.Errorf("tree %s-%s = %v is below the oracle %v", rs[i].Name, rs[j].Name, tree, got)
			}
		}
	}
	south, _ := top.ByName("ap-south-1")
	me, _ := top.ByName("me-south-1")
	if tr, _ := top.TreeRTT(south.ID, me.ID); math.Abs(tr-(133.8+149.3+69.6+97.9)) > 1e-9 {
		t.Errorf("tree ap-south-1 to me-south-1 = %v", tr)
	}
}
