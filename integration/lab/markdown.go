package lab

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fedist/fedist/integration/fed"
)

// WriteMarkdown writes the report for people: a one-line conclusion computed from the rows, what
// the modes and every column mean, a summary, the overhead over the matrix and how much of it is the
// emulator's, throughput, then one row per pair.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	name := "(built in code)"
	if r.Topology != "" {
		name = "`" + filepath.Base(r.Topology) + "`"
	}
	fmt.Fprintf(&b, "# WAN lab report\n\n**%s**\n\n", r.conclusion())
	fmt.Fprintf(&b, "Topology %s, %d regions, %d ordered pairs. Run %s, took %v.\n\n", name, r.regions(), len(r.Rows),
		r.Started.UTC().Format(time.RFC3339), r.Took.Round(time.Second))
	fmt.Fprintf(&b, "Settings: %s.\n\n", r.Settings)
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "- %s (%s): %d regions up and converged in %v\n", m, modeWhat[m], r.regions(), r.StartUp[m].Round(time.Millisecond))
	}
	fmt.Fprintln(&b)
	r.writeGlossary(&b)

	fmt.Fprintf(&b, "## Summary\n\n")
	fmt.Fprintf(&b, "| over all pairs | median ×oracle | worst ×oracle (pair) | median ×tree | max ×tree | pairs within 10%% of oracle | failed lookups |\n")
	fmt.Fprintf(&b, "|---|---:|---|---:|---:|---:|---:|\n")
	r.summaryLine(&b, "tree path", func(row *Row) (float64, bool) { return row.TreeMs, true }, 0)
	for _, m := range r.Modes {
		r.summaryLine(&b, string(m)+" p50", func(row *Row) (float64, bool) { return row.p50(m) }, r.failed(m))
	}
	r.writeRouting(&b)
	r.writeEngine(&b)
	r.writeFailover(&b)
	r.writeLoad(&b)
	r.writeReplication(&b)
	r.writeOverhead(&b)

	if r.hasThroughput() {
		fmt.Fprintf(&b, "\n## Publish throughput\n\nOne publisher in `from`, one subscriber in `to`, on `fd.<to>.lab.tput`; "+
			"pairs measured one at a time. msg/s counts arrivals between the first and the last.\n\n")
		fmt.Fprintf(&b, "| from | to | tree ms |")
		for _, m := range r.Modes {
			fmt.Fprintf(&b, " %s msg/s | %s lost |", m, m)
		}
		fmt.Fprintf(&b, "\n|---|---|---:|%s\n", strings.Repeat("---:|---:|", len(r.Modes)))
		var tput []*Row
		for _, row := range r.Rows {
			if len(row.Throughput) > 0 {
				tput = append(tput, row)
			}
		}
		slices.SortStableFunc(tput, func(a, b *Row) int { return cmp.Compare(a.TreeMs, b.TreeMs) })
		for _, row := range tput {
			fmt.Fprintf(&b, "| %s | %s | %.1f |", row.From.Name, row.To.Name, row.TreeMs)
			for _, m := range r.Modes {
				t := row.Throughput[m]
				switch {
				case t == nil:
					fmt.Fprintf(&b, " – | – |")
				case t.Err != "":
					fmt.Fprintf(&b, " failed: %s | |", t.Err)
				default:
					fmt.Fprintf(&b, " %.0f | %d of %d |", t.MsgsPerSec, t.Sent-t.Received, t.Sent)
				}
			}
			fmt.Fprintln(&b)
		}
	}

	fmt.Fprintf(&b, "\n## Lookup RTT per pair\n\nMilliseconds; `×` = divided by the oracle.\n\n")
	fmt.Fprintf(&b, "| from | to | oracle | tree |")
	for _, m := range r.Modes {
		fmt.Fprintf(&b, " %s p50 | %s p99 |", m, m)
	}
	withPath := slices.Contains(r.Modes, fed.ModeFeDist)
	if withPath {
		fmt.Fprintf(&b, " fedist path |")
	}
	fmt.Fprintf(&b, "\n|---|---|---:|---:|%s", strings.Repeat("---:|---:|", len(r.Modes)))
	if withPath {
		fmt.Fprintf(&b, "---|")
	}
	fmt.Fprintln(&b)
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %.1f | %s |", row.From.Name, row.To.Name, row.OracleMs, row.cell(row.TreeMs))
		for _, m := range r.Modes {
			l := row.Lookup[m]
			if l == nil || l.N == 0 {
				fmt.Fprintf(&b, " failed | |")
				continue
			}
			fmt.Fprintf(&b, " %s | %s |", row.cell(l.P50), row.cell(l.P99))
		}
		if withPath {
			fmt.Fprintf(&b, " %s |", r.routeCell(row))
		}
		fmt.Fprintln(&b)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(&b, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// routeCell names the path most of the pair's FeDist lookups took, with the share that took it
// when others took another.
func (r *Report) routeCell(row *Row) string {
	if row.Route == nil {
		return "–"
	}
	s := r.routeText(row.Route.Path)
	if row.Route.Share < 0.995 {
		s += fmt.Sprintf(" (%.0f %%)", 100*row.Route.Share)
	}
	return s
}

func (row *Row) cell(v float64) string {
	if x := row.ratio(v); !math.IsNaN(x) {
		return fmt.Sprintf("%.1f ×%.2f", v, x)
	}
	return fmt.Sprintf("%.1f", v)
}

// summaryLine writes one summary row for a series: ratios to the oracle and to the tree.
func (r *Report) summaryLine(b *strings.Builder, label string, value func(*Row) (float64, bool), failed int) {
	s := r.series(value)
	if len(s.toOracle) == 0 {
		fmt.Fprintf(b, "| %s | – | – | – | – | – | %d |\n", label, failed)
		return
	}
	maxTree := math.NaN()
	if len(s.toTree) > 0 {
		maxTree = slices.Max(s.toTree)
	}
	fmt.Fprintf(b, "| %s | %.2f | %.2f (%s) | %.3f | %.3f | %d/%d | %d |\n", label, median(s.toOracle), s.worst, s.worstAt,
		median(s.toTree), maxTree, s.near, len(s.toOracle), failed)
}

// modeWhat says in a few words what each mode builds.
var modeWhat = map[fed.Mode]string{
	fed.ModeNATS:   "plain NATS leafnodes on the same tree, same emulator",
	fed.ModeFeDist: "FeDist region nodes",
}

func (r *Report) regions() int {
	seen := map[string]bool{}
	for _, row := range r.Rows {
		seen[row.From.Name] = true
	}
	return len(seen)
}

func (r *Report) hasThroughput() bool {
	for _, row := range r.Rows {
		if len(row.Throughput) > 0 {
			return true
		}
	}
	return false
}
