package lab

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/fedist/fedist/integration/fed"
)

// modeNames are the names the report's sentences use; tables use the mode strings.
var modeNames = map[fed.Mode]string{fed.ModeFeDist: "FeDist", fed.ModeNATS: "plain NATS"}

// series is one series of values, one per pair (the tree RTT, or a mode's p50), set against the
// pairs' references.
type series struct {
	toOracle, toTree []float64 // value ÷ oracle, value ÷ tree RTT
	worst            float64   // the largest value ÷ oracle
	worstAt          string    // its pair
	near             int       // pairs within 10 % of the oracle
	// treeShare is, for each detour pair (Row.detour), where the value lies between the oracle (0)
	// and the tree RTT (1). A system that routes along the tree has a median at 1 or above.
	treeShare      []float64
	detourToOracle []float64 // value ÷ oracle on the detour pairs
}

func (r *Report) series(value func(*Row) (float64, bool)) series {
	s := series{worst: math.Inf(-1)}
	for _, row := range r.Rows {
		v, ok := value(row)
		if !ok {
			continue
		}
		if x := row.ratio(v); !math.IsNaN(x) {
			s.toOracle = append(s.toOracle, x)
			if x > s.worst {
				s.worst, s.worstAt = x, row.From.Name+" → "+row.To.Name
			}
			if x <= 1.10 {
				s.near++
			}
		}
		if row.TreeMs > 0 {
			s.toTree = append(s.toTree, v/row.TreeMs)
		}
		if row.detour() {
			s.treeShare = append(s.treeShare, (v-row.OracleMs)/(row.TreeMs-row.OracleMs))
			s.detourToOracle = append(s.detourToOracle, v/row.OracleMs)
		}
	}
	return s
}

// followsTree reports whether the series is closer to the tree RTT than to the oracle on the
// median detour pair, and known=false when the topology has no detour pair.
func (s series) followsTree() (follows, known bool) {
	if len(s.treeShare) == 0 {
		return false, false
	}
	return median(s.treeShare) >= 0.5, true
}

// detour reports whether the pair's tree path is at least 10 % longer than its oracle: a pair on
// which routing along the tree and along the shortest path can be told apart.
func (row *Row) detour() bool { return row.OracleMs > 0 && row.TreeMs >= 1.1*row.OracleMs }

// treeShortest reports whether the tree path is a shortest path (the matrix has 0.1 ms steps).
func (row *Row) treeShortest() bool { return row.TreeMs <= row.OracleMs+0.05 }

// failed counts a mode's failed lookups: timeouts after warm-up, and pairs never answered.
func (r *Report) failed(m fed.Mode) int {
	n := 0
	for _, row := range r.Rows {
		if l := row.Lookup[m]; l != nil {
			n += l.Errors
			if l.N == 0 {
				n++
			}
		}
	}
	return n
}

// conclusion is the report's first line: what the measurements say about routing, from the data.
func (r *Report) conclusion() string {
	shortest, pairs := 0, 0
	for _, row := range r.Rows {
		if row.OracleMs > 0 {
			pairs++
			if row.treeShortest() {
				shortest++
			}
		}
	}
	stats := map[fed.Mode]series{}
	for _, m := range r.Modes {
		if s := r.series(func(row *Row) (float64, bool) { return row.p50(m) }); len(s.toTree) > 0 {
			stats[m] = s
		}
	}
	if len(stats) == 0 {
		return "No lookup was measured; see the notes at the end."
	}
	tree := r.series(func(row *Row) (float64, bool) { return row.TreeMs, true })
	treeFact := fmt.Sprintf("the tree path is the shortest for %d of %d pairs", shortest, pairs)
	onDetours := fmt.Sprintf("on the %d pairs whose tree path is at least 10 %% longer than the oracle, median p50 ×oracle",
		len(tree.treeShare))
	var line string
	if len(stats) == 1 {
		m := slices.Collect(maps.Keys(stats))[0]
		s, name := stats[m], modeNames[m]
		switch follows, known := s.followsTree(); {
		case !known:
			line = fmt.Sprintf("%s: median p50 ×tree %.3f; the tree path is the shortest for all %d pairs, so this "+
				"topology cannot show routing off the tree", name, median(s.toTree), pairs)
		case follows:
			line = fmt.Sprintf("%s follows the tree: median p50 ×tree %.3f; %s", name, median(s.toTree), treeFact)
		default:
			line = fmt.Sprintf("%s takes paths shorter than the tree: %s %.2f, the tree path's %.2f; %s",
				name, onDetours, median(s.detourToOracle), median(tree.detourToOracle), treeFact)
		}
	} else {
		f, n := stats[fed.ModeFeDist], stats[fed.ModeNATS]
		ff, known := f.followsTree()
		nf, _ := n.followsTree()
		switch {
		case !known:
			line = fmt.Sprintf("FeDist: median p50 ×tree %.3f, plain NATS %.3f; the tree path is the shortest for all "+
				"%d pairs, so this topology cannot show routing off the tree", median(f.toTree), median(n.toTree), pairs)
		case ff && nf:
			line = fmt.Sprintf("FeDist follows the tree like plain NATS: median p50 ×tree %.3f vs %.3f; %s",
				median(f.toTree), median(n.toTree), treeFact)
		case !ff && nf:
			line = fmt.Sprintf("FeDist takes paths shorter than the tree and plain NATS does not: %s %.2f vs %.2f; %s",
				onDetours, median(f.detourToOracle), median(n.detourToOracle), treeFact)
		default:
			line = fmt.Sprintf("FeDist: median p50 ×oracle %.2f, ×tree %.3f; plain NATS: ×oracle %.2f, ×tree %.3f; %s",
				median(f.toOracle), median(f.toTree), median(n.toOracle), median(n.toTree), treeFact)
		}
	}
	failed := 0
	for _, m := range r.Modes {
		failed += r.failed(m)
	}
	if failed > 0 {
		line += fmt.Sprintf("; failed lookups: %d (see Notes)", failed)
	}
	return strings.ToUpper(line[:1]) + line[1:] + "."
}

// writeGlossary says what the modes are and what every column of every table means.
func (r *Report) writeGlossary(b *strings.Builder) {
	b.WriteString(`## How to read this report

- **nats** is the baseline: plain NATS leafnodes (embedded nats-servers) on the same tree, with the
  same JetStream domains, through the same link emulator, and nothing of FeDist. **fedist** is
  FeDist's region nodes on that tree. Each mode has a federation of its own, built in this process,
  one after the other; every connection between two regions crosses an emulated link whose one-way
  delay is half the matrix RTT.
- A **lookup** is a request from a client in region *from* to ` + "`fd.<to>.get.lab.<id>`" + `, answered by a
  client in region *to*: in nats a plain nats.go connection at both ends; in fedist FeDist's
  application client (client.Client, which sends a destination's traffic into its region's relay
  when the cost engine routes it off the tree, and Client.Serve, which returns the relays crossed in
  the Fd-Path header). Its round trip is timed; **p50** and **p99** are by nearest rank over the
  pair's lookups, in ms. While they are timed every pair also sends background lookups (both modes).
- **fedist path**: the path most of the pair's FeDist lookups took, read from Fd-Path: ` + "`-`" + ` a tree
  link, ` + "`~`" + ` a shortcut (a percentage when some took another path).
- **oracle**: the shortest-path RTT between the two regions over the allowed links (Dijkstra on the
  matrix), the best any routing could do. **tree**: the sum of the matrix RTTs along the tree path,
  what routing along the tree costs. **×oracle**, **×tree**: a value divided by the pair's oracle or
  tree RTT; a bare ` + "`×`" + ` in a cell is ×oracle.

Columns, table by table:

- *Summary*, one row for the tree path itself and one per mode's p50, over all pairs: **median
  ×oracle**; **worst ×oracle** and its pair; **median ×tree** and **max ×tree** (1.000 is exactly
  the tree RTT; above it is overhead); **pairs within 10 % of oracle**; **failed lookups** (timeouts
  after warm-up, plus pairs that never answered).
- *Routing*: per mode, the pairs whose p50 is within **1.10 × oracle + 2 ms**; on the pairs whose
  tree path is at least 1.5 × the oracle, each mode's median p50 and FeDist's median gain over plain
  NATS, pair by pair; with fedist, the pairs whose path crossed a shortcut, the routing warm-up, and
  in how many seconds of the timed lookups some node's routes changed.
` + r.engineGlossary() + `- *Overhead over the matrix*, pairs grouped by the tree links their path crosses: **pairs**;
  **median tree ms**; per mode **p50 − path** (median, ms: what a lookup took beyond the matrix RTT
  of the path it took, the tree path in nats and the fedist path in fedist) and
  **links at 0 ms** (median p50 after every link's delay was set to 0: the servers, the emulator's
  proxies and the concurrency without the delay lines).
`)
	if r.hasThroughput() {
		b.WriteString(`- *Publish throughput*, a few pairs one at a time: **tree ms**; per mode **msg/s** (arrivals over
  the time from the first to the last) and **lost** (sent minus received, of sent).
`)
	}
	b.WriteString(`- *Lookup RTT per pair*: **oracle** and **tree** in ms; per mode **p50** and **p99** in ms, each with
  its ×oracle; with fedist, the **fedist path**.

`)
}

// engineGlossary explains the cost engine's sections that the report has.
func (r *Report) engineGlossary() string {
	var b strings.Builder
	if _, ok := r.TimedTook[fed.ModeFeDist]; ok {
		b.WriteString(`- *Cost engine: links*, from links.json (every directed link a node measured or sent over, at the
  end of FeDist's timed lookups): **median RTT error** (|estimate − emulator RTT| / emulator RTT),
  **median est − true RTT** in ms, **median offset error** (|estimated − true clock offset| in ms,
  the true one from -skew), and the probes sent on links that carried traffic (**busy**, which the
  engine should not need) and on idle ones, and the **outage checks** (probes after a timed request
  went unanswered past the down bound).
`)
		if len(r.Regions) > 0 {
			b.WriteString(`- *Cost engine: regions*: per region the shortcuts its nodes **opened to** and **accepted**, both
  **held** together and the **most per node** (K bounds it), at the end of the timed lookups, and the
  most per node **seen** at any once-a-second poll while they were timed; and the engine's
  **control B/s** (adverts and probes, sent and received) while they were timed.
`)
		}
	}
	if r.Failover != nil {
		b.WriteString(`- *Failover*, one cut per row: the pair, the link **cut** (a shortcut's or a tree link's region
  pair) and for how long (**cut s**), its lookups that **failed** (of those sent from before the cut
  to after the return), **reroute ms** (cut → first answer on a path avoiding the cut link),
  **back ms** (heal → first answer on the path before), the paths **before**, **during** and
  **after**; for tree links the same cut on plain NATS: **nats failed** and **nats recover ms** (heal
  → first answer).
`)
	}
	if r.Load != nil {
		b.WriteString(`- *Load*, one row per pair whose path crossed the slowed relay: the **path** and **p50** (ms)
  before the slowdown, during it (after the engine reacted, or its bound) with the lookups that
  **failed**, whether it **moved** (*stayed* on the relay, *detoured* around it on a path no
  shorter, *improved* to a shorter path the slowdown does not explain), and after it.
`)
	}
	return b.String()
}

// writeOverhead writes how far the measured p50 lies above the tree RTT, by tree links crossed,
// and what part of it is the emulator's delay lines.
func (r *Report) writeOverhead(b *strings.Builder) {
	groups := map[int][]*Row{}
	for _, row := range r.Rows {
		groups[len(row.TreePath)-1] = append(groups[len(row.TreePath)-1], row)
	}
	fmt.Fprintf(b, "\n## Overhead over the matrix\n\n| tree links crossed | pairs | median tree ms |")
	for _, m := range r.Modes {
		fmt.Fprintf(b, " %s p50 − path | %s links at 0 ms |", m, m)
	}
	fmt.Fprintf(b, "\n|---:|---:|---:|%s\n", strings.Repeat("---:|---:|", len(r.Modes)))
	line := func(label string, rows []*Row) {
		var tree []float64
		for _, row := range rows {
			tree = append(tree, row.TreeMs)
		}
		fmt.Fprintf(b, "| %s | %d | %.1f |", label, len(rows), median(tree))
		for _, m := range r.Modes {
			over, zero := overhead(rows, m)
			fmt.Fprintf(b, " %s | %s |", msCell(over), msCell(zero))
		}
		fmt.Fprintln(b)
	}
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		line(fmt.Sprint(k), groups[k])
	}
	line("all", r.Rows)
	r.explainOverhead(b)
}

// overhead returns the median over rows of a mode's p50 minus the RTT of the path its lookups
// took (the tree path, or FeDist's most frequent path), and the median p50 with every link at
// 0 ms; NaN where nothing was measured.
func overhead(rows []*Row, m fed.Mode) (over, zero float64) {
	var o, z []float64
	for _, row := range rows {
		if v, ok := row.p50(m); ok {
			path := row.TreeMs
			if m == fed.ModeFeDist && row.Route != nil {
				path = row.Route.RTTMs
			}
			o = append(o, v-path)
		}
		if v, ok := row.controlP50(m); ok {
			z = append(z, v)
		}
	}
	return median(o), median(z)
}

// explainOverhead writes the sentences under the overhead table, with the run's own figures.
func (r *Report) explainOverhead(b *strings.Builder) {
	var over, zero, rest []string
	for _, m := range r.Modes {
		o, z := overhead(r.Rows, m)
		if math.IsNaN(o) {
			continue
		}
		over = append(over, fmt.Sprintf("%.1f ms (%s)", o, m))
		if !math.IsNaN(z) {
			zero = append(zero, fmt.Sprintf("%.1f ms (%s)", z, m))
			rest = append(rest, fmt.Sprintf("%.1f ms (%s)", o-z, m))
		}
	}
	if len(over) == 0 {
		return
	}
	fmt.Fprintf(b, "\nOver all pairs, a lookup took a median %s more than the RTT of the path it took. ", strings.Join(over, " and "))
	if len(zero) == 0 {
		fmt.Fprintf(b, "The zero-delay control was not run (fedist-lab -zero-delay, Config.ZeroDelayControl), so this report cannot say how much "+
			"of that is the emulator's.\n")
		return
	}
	fmt.Fprintf(b, "With every link's delay set to 0, at the same %d pairs at once on %d CPUs, lookups took %s: "+
		"that is the servers, the emulator's proxies and the concurrency. The rest, %s, is the emulator's delay lines "+
		"releasing late. To release a message on time, a delay line sleeps on a timer and then spins for the "+
		"last 1.2 ms of the delay (linkemu's spin window), on every link crossed and in both directions; when many pairs "+
		"with short RTTs run at once, spinning fills much of each round trip, and the spinners and the servers queue for "+
		"the CPUs. One link alone keeps its median RTT within 5 %% + 0.5 ms of its setting (linkemu's TestRTT); "+
		"fewer pairs at once (-concurrency 4) or longer RTTs shrink the rest.\n",
		r.Concurrency, r.Procs, strings.Join(zero, " and "), strings.Join(rest, " and "))
}

func msCell(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}
