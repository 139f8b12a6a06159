package lab

import (
	"regexp"
	"strings"
	"testing"

	"github.com/fedist/fedist/integration/fed"
)

// smallReport is a report of the small topology (helpers_test.go) in which each mode's lookups
// have the p50 that p50 returns, and the p50 control returns with every link at 0 ms (nil: no
// control). The topology has 12 pairs; the tree path is the shortest for 8 of them. The other
// four (a↔b: tree 10, oracle 5; a1↔b: tree 12, oracle 3) are the detour pairs.
func smallReport(t *testing.T, modes []fed.Mode, p50, control func(fed.Mode, *Row) float64) *Report {
	t.Helper()
	cfg := DefaultConfig(smallTopo(t))
	cfg.Modes = modes
	rep, err := newReport(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	rep.Concurrency, rep.Procs = 16, 2
	for _, row := range rep.Rows {
		for _, m := range modes {
			v := p50(m, row)
			row.Lookup[m] = &LookupResult{Summary: Summary{N: 30, Min: v, P50: v, P99: v, Max: v}}
			if control != nil {
				c := control(m, row)
				row.Control[m] = &LookupResult{Summary: Summary{N: 30, Min: c, P50: c, P99: c, Max: c}}
			}
		}
	}
	return rep
}

func links(row *Row) float64 { return float64(len(row.TreePath) - 1) }

func TestConclusion(t *testing.T) {
	both := []fed.Mode{fed.ModeNATS, fed.ModeFeDist}
	onTree := func(m fed.Mode, row *Row) float64 { // ×tree 1.02 for nats, 1.01 for fedist
		if m == fed.ModeNATS {
			return row.TreeMs * 1.02
		}
		return row.TreeMs * 1.01
	}
	fedistShort := func(m fed.Mode, row *Row) float64 { // fedist at ×oracle 1.05 everywhere
		if m == fed.ModeFeDist {
			return row.OracleMs * 1.05
		}
		return row.TreeMs * 1.02
	}
	tests := []struct {
		name  string
		modes []fed.Mode
		p50   func(fed.Mode, *Row) float64
		edit  func(*Report)
		want  string
	}{
		{"both on the tree", both, onTree, nil,
			"FeDist follows the tree like plain NATS: median p50 ×tree 1.010 vs 1.020; the tree path is the shortest for 8 of 12 pairs."},
		// On the detour pairs the tree is 2× (a↔b) and 4× (a1↔b) the oracle: nats's median is 1.02 × 3.
		{"fedist off the tree", both, fedistShort, nil,
			"FeDist takes paths shorter than the tree and plain NATS does not: on the 4 pairs whose tree path is at least " +
				"10 % longer than the oracle, median p50 ×oracle 1.05 vs 3.06; the tree path is the shortest for 8 of 12 pairs."},
		{"nats alone", []fed.Mode{fed.ModeNATS}, onTree, nil,
			"Plain NATS follows the tree: median p50 ×tree 1.020; the tree path is the shortest for 8 of 12 pairs."},
		{"fedist alone, off the tree", []fed.Mode{fed.ModeFeDist}, fedistShort, nil,
			"FeDist takes paths shorter than the tree: on the 4 pairs whose tree path is at least 10 % longer than the " +
				"oracle, median p50 ×oracle 1.05, the tree path's 3.00; the tree path is the shortest for 8 of 12 pairs."},
		{"no detour pairs", both, onTree, func(r *Report) {
			for _, row := range r.Rows {
				row.OracleMs = row.TreeMs
			}
		}, "FeDist: median p50 ×tree 1.010, plain NATS 1.020; the tree path is the shortest for all 12 pairs, so this " +
			"topology cannot show routing off the tree."},
		{"failures", both, onTree, func(r *Report) {
			r.Rows[0].Lookup[fed.ModeNATS].Errors = 2
			r.Rows[1].Lookup[fed.ModeFeDist] = &LookupResult{Err: "no answer"}
		}, "FeDist follows the tree like plain NATS: median p50 ×tree 1.010 vs 1.020; the tree path is the shortest for " +
			"8 of 12 pairs; failed lookups: 3 (see Notes)."},
		{"nothing measured", both, onTree, func(r *Report) {
			for _, row := range r.Rows {
				clear(row.Lookup)
			}
		}, "No lookup was measured; see the notes at the end."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := smallReport(t, tt.modes, tt.p50, nil)
			if tt.edit != nil {
				tt.edit(rep)
			}
			if got := rep.conclusion(); got != tt.want {
				t.Errorf("conclusion:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestOverhead: nats measured the tree RTT + 2 ms + 0.5 ms per tree link, and 0.4 ms + 0.1 ms per
// link with the links at 0 ms. The small topology has 6 pairs one tree link apart (tree RTTs 2, 4
// and 6), 4 two apart (6 and 10) and 2 three apart (12).
func TestOverhead(t *testing.T) {
	over := func(_ fed.Mode, row *Row) float64 { return row.TreeMs + 2 + 0.5*links(row) }
	zero := func(_ fed.Mode, row *Row) float64 { return 0.4 + 0.1*links(row) }
	var b strings.Builder
	smallReport(t, []fed.Mode{fed.ModeNATS}, over, zero).writeOverhead(&b)
	for _, want := range []string{
		"| tree links crossed | pairs | median tree ms | nats p50 − path | nats links at 0 ms |",
		"| 1 | 6 | 4.0 | 2.50 | 0.50 |",
		"| 2 | 4 | 8.0 | 3.00 | 0.60 |",
		"| 3 | 2 | 12.0 | 3.50 | 0.70 |",
		"| all | 12 | 6.0 | 2.75 | 0.55 |",
		"a lookup took a median 2.8 ms (nats) more than the RTT of the path it took",
		"at the same 16 pairs at once on 2 CPUs, lookups took 0.6 ms (nats)",
		"The rest, 2.2 ms (nats), is the emulator's delay lines releasing late.",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("overhead section lacks %q:\n%s", want, b.String())
		}
	}

	b.Reset()
	smallReport(t, []fed.Mode{fed.ModeNATS}, over, nil).writeOverhead(&b)
	for _, want := range []string{"| 1 | 6 | 4.0 | 2.50 | – |", "The zero-delay control was not run"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("overhead section without control lacks %q:\n%s", want, b.String())
		}
	}
}

// TestMarkdownOpening: report.md starts with the conclusion, says what the modes are, and explains
// the columns of every table it writes before the first table.
func TestMarkdownOpening(t *testing.T) {
	for _, tput := range []bool{false, true} {
		rep := smallReport(t, []fed.Mode{fed.ModeNATS, fed.ModeFeDist}, func(_ fed.Mode, row *Row) float64 { return row.TreeMs + 1 }, nil)
		if tput {
			rep.Rows[0].Throughput[fed.ModeNATS] = &ThroughputResult{Sent: 10, Received: 10, MsgsPerSec: 1000}
		}
		var b strings.Builder
		if err := rep.WriteMarkdown(&b); err != nil {
			t.Fatal(err)
		}
		md := b.String()
		if !strings.HasPrefix(md, "# WAN lab report\n\n**"+rep.conclusion()+"**\n") {
			t.Errorf("report.md does not open with the conclusion:\n%.300s", md)
		}
		if !strings.Contains(md, "**nats** is the baseline: plain NATS leafnodes") ||
			!strings.Contains(md, "- nats (plain NATS leafnodes on the same tree, same emulator):") {
			t.Error("report.md does not say what nats means")
		}
		explained := explainedSections(t, md)
		if want := 4 + map[bool]int{true: 1}[tput]; explained != want { // summary, routing, overhead, pairs
			t.Errorf("throughput %v: %d tables, want %d", tput, explained, want)
		}
	}
}

// explainedSections checks that every section of md with a table is explained in the glossary
// before the first table, and returns how many there are.
func explainedSections(t *testing.T, md string) int {
	t.Helper()
	firstTable := strings.Index(md, "\n|")
	sections := regexp.MustCompile(`(?m)^## (.+)$`).FindAllStringSubmatch(md, -1)
	explained := 0
	for _, s := range sections {
		if s[1] == "How to read this report" || s[1] == "Notes" {
			continue
		}
		explained++
		if i := strings.Index(md, "- *"+s[1]+"*"); i < 0 || i > firstTable {
			t.Errorf("table %q is not explained before the first table", s[1])
		}
	}
	return explained
}
