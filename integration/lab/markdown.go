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

// WriteMarkdown writes the report for people: a summary, throughput, then one row per pair.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	name := "(built in code)"
	if r.Topology != "" {
		name = "`" + filepath.Base(r.Topology) + "`"
	}
	fmt.Fprintf(&b, "# WAN lab report\n\n")
	fmt.Fprintf(&b, "Topology %s, %d regions, %d ordered pairs. Run %s, took %v.\n\n", name, r.regions(), len(r.Rows),
		r.Started.UTC().Format(time.RFC3339), r.Took.Round(time.Second))
	fmt.Fprintf(&b, "Settings: %s.\n\n", r.Settings)
	for _, m := range r.Modes {
		fmt.Fprintf(&b, "- %s: %d regions up and converged in %v\n", m, r.regions(), r.StartUp[m].Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "\n**oracle** = shortest-path RTT over the allowed links (Dijkstra); **tree** = sum of link RTTs along "+
		"the tree path; measured values are lookup round trips (request to `fd.<to>.get.lab.<id>`, answer from a plain "+
		"client in `to`), p50/p99 by nearest rank. `×` = divided by the oracle.\n\n")

	fmt.Fprintf(&b, "## Summary\n\n")
	fmt.Fprintf(&b, "| over all pairs | median ×oracle | worst ×oracle (pair) | median ×tree | max ×tree | pairs within 10%% of oracle | failed lookups |\n")
	fmt.Fprintf(&b, "|---|---:|---|---:|---:|---:|---:|\n")
	r.summaryLine(&b, "tree path", func(row *Row) (float64, bool) { return row.TreeMs, true }, nil)
	for _, m := range r.Modes {
		r.summaryLine(&b, string(m)+" p50", func(row *Row) (float64, bool) { return row.p50(m) }, &m)
	}

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
	fmt.Fprintf(&b, "\n|---|---|---:|---:|%s\n", strings.Repeat("---:|---:|", len(r.Modes)))
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

func (row *Row) cell(v float64) string {
	if x := row.ratio(v); !math.IsNaN(x) {
		return fmt.Sprintf("%.1f ×%.2f", v, x)
	}
	return fmt.Sprintf("%.1f", v)
}

// summaryLine writes one summary row for a series: ratios to the oracle and to the tree.
func (r *Report) summaryLine(b *strings.Builder, label string, value func(*Row) (float64, bool), mode *fed.Mode) {
	var toOracle, toTree []float64
	worst, worstAt, near, failed := math.Inf(-1), "", 0, 0
	for _, row := range r.Rows {
		if mode != nil {
			if l := row.Lookup[*mode]; l != nil {
				failed += l.Errors
				if l.N == 0 {
					failed++
				}
			}
		}
		v, ok := value(row)
		if !ok {
			continue
		}
		if x := row.ratio(v); !math.IsNaN(x) {
			toOracle = append(toOracle, x)
			if x > worst {
				worst, worstAt = x, row.From.Name+" → "+row.To.Name
			}
			if x <= 1.10 {
				near++
			}
		}
		if row.TreeMs > 0 {
			toTree = append(toTree, v/row.TreeMs)
		}
	}
	if len(toOracle) == 0 {
		fmt.Fprintf(b, "| %s | – | – | – | – | – | %d |\n", label, failed)
		return
	}
	maxTree := math.NaN()
	if len(toTree) > 0 {
		maxTree = slices.Max(toTree)
	}
	fmt.Fprintf(b, "| %s | %.2f | %.2f (%s) | %.3f | %.3f | %d/%d | %d |\n", label, median(toOracle), worst, worstAt,
		median(toTree), maxTree, near, len(toOracle), failed)
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
