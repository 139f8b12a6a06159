package lab

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/fedist/fedist/integration/fed"
)

// nearOracle reports whether v is within 1.10 × the oracle + 2 ms: the cost engine's target, with
// room for the servers and the emulator on short paths.
func (row *Row) nearOracle(v float64) bool { return v <= 1.10*row.OracleMs+2 }

// writeRouting writes how close each mode came to the oracle, what FeDist gained where the tree is
// long, and how its routes were warmed up.
func (r *Report) writeRouting(b *strings.Builder) {
	fmt.Fprintf(b, "\n## Routing\n\n")
	total := 0
	near := map[fed.Mode]int{}
	var long []*Row
	for _, row := range r.Rows {
		if row.OracleMs <= 0 {
			continue
		}
		total++
		for _, m := range r.Modes {
			if v, ok := row.p50(m); ok && row.nearOracle(v) {
				near[m]++
			}
		}
		if row.TreeMs >= 1.5*row.OracleMs {
			long = append(long, row)
		}
	}
	for _, m := range r.Modes {
		fmt.Fprintf(b, "- %s: p50 within 1.10 × oracle + 2 ms on %d of %d pairs (%.0f %%).\n", m, near[m], total, pct(near[m], total))
	}
	if len(long) > 0 {
		var nats, fd, gain []float64
		for _, row := range long {
			n, ok1 := row.p50(fed.ModeNATS)
			f, ok2 := row.p50(fed.ModeFeDist)
			if ok1 {
				nats = append(nats, n)
			}
			if ok2 {
				fd = append(fd, f)
			}
			if ok1 && ok2 && n > 0 {
				gain = append(gain, 100*(n-f)/n)
			}
		}
		fmt.Fprintf(b, "- On the %d pairs whose tree path is at least 1.5 × the oracle: median p50 %s (nats) and %s (fedist)",
			len(long), msText(median(nats)), msText(median(fd)))
		if len(gain) > 0 {
			fmt.Fprintf(b, "; FeDist's p50 is a median %.0f %% below plain NATS's (pair by pair)", median(gain))
		}
		fmt.Fprintln(b, ".")
	}
	if _, ok := r.TimedTook[fed.ModeFeDist]; !ok {
		return
	}
	routed, sc := 0, 0
	var shares []float64
	for _, row := range r.Rows {
		if row.Route != nil {
			routed++
			shares = append(shares, row.Route.Share)
			if row.Route.Path.UsesShortcut() {
				sc++
			}
		}
	}
	fmt.Fprintf(b, "- FeDist's most frequent path crossed a shortcut on %d of %d answered pairs; a median %.0f %% of a pair's answers took its most frequent path.\n",
		sc, routed, 100*median(shares))
	if w := r.Warmup; w != nil {
		state := "the routes settled"
		if !w.Settled {
			state = "the routes were STILL CHANGING when it ended"
		}
		fmt.Fprintf(b, "- Routing warm-up: %.0f s of lookups from every pair; %s after %d changes; %d routes crossed a shortcut and %d shortcuts were open at its end; %d lookups, %d failed.\n",
			w.TookS, state, w.Changes, w.OffTree, w.Shortcuts, w.Lookups, w.Failed)
		if w.LastErr != "" {
			fmt.Fprintf(b, "  The last warm-up failure: %s.\n", w.LastErr)
		}
	}
	fmt.Fprintf(b, "- While FeDist's lookups were timed (%.0f s), some node's routes changed in %d of its seconds.",
		r.TimedTook[fed.ModeFeDist].Seconds(), r.RouteChanges)
	for _, m := range r.Modes {
		if c, ok := r.Background[m]; ok && c.Sent > 0 {
			fmt.Fprintf(b, " Background lookups (%s): %d, %d failed.", m, c.Sent, c.Failed)
		}
	}
	fmt.Fprintln(b)
}

// writeEngine writes the links summary (links.json), the clock skew and the regions table.
func (r *Report) writeEngine(b *strings.Builder) {
	if _, ok := r.TimedTook[fed.ModeFeDist]; !ok {
		return
	}
	s := summarizeLinks(r.Links)
	fmt.Fprintf(b, "\n## Cost engine: links\n\n")
	fmt.Fprintf(b, "At the end of FeDist's timed lookups the nodes held %d directed links that carried traffic or were measured, %d of them measured, %d carrying messages.\n\n",
		s.Links, s.Measured, s.BusyLinks)
	fmt.Fprintf(b, "| median RTT error | median est − true RTT | median offset error | probes on busy links | probes on idle links | outage checks |\n|---:|---:|---:|---:|---:|---:|\n")
	fmt.Fprintf(b, "| %s %% | %s ms | %s ms | %d | %d | %d |\n\n", num1(s.RTTErrPct), num2(s.RTTBiasMs), num2(s.OffsetErrMs), s.ProbesBusy, s.ProbesIdle, s.ProbesStall)
	fmt.Fprintf(b, "The RTT error is |estimate − emulator RTT| / emulator RTT; the estimate includes the servers and the emulator's "+
		"own overhead (see Overhead), so short links show the largest relative error. ")
	if r.Skew == nil {
		fmt.Fprintf(b, "Clocks were not skewed (-skew 0): the true offset of every link is 0.\n")
	} else {
		var parts []string
		for _, row := range r.Rows {
			if d, ok := r.Skew[row.From.ID]; ok && !slices.Contains(parts, fmt.Sprintf("%s %+.1f", row.From.Name, ms(d))) {
				parts = append(parts, fmt.Sprintf("%s %+.1f", row.From.Name, ms(d)))
			}
		}
		fmt.Fprintf(b, "Each region's clock was skewed by a random offset within ±%v (seed %d), in ms: %s.\n",
			r.SkewMax, r.SkewSeed, strings.Join(parts, ", "))
	}
	if len(r.Regions) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Cost engine: regions\n\nShortcuts held at the end of the timed lookups (opened by the region's nodes, and accepted from others), "+
		"and the engine's control traffic (adverts and probes, sent and received) per second while the lookups were timed.\n\n")
	fmt.Fprintf(b, "| region | opened to | accepted | held | most per node | most per node, seen | control B/s |\n|---|---|---:|---:|---:|---:|---:|\n")
	maxNode, maxSeen := 0, 0
	var bps []float64
	for _, g := range r.Regions {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d | %.0f |\n", g.Region, strings.Join(g.Opened, ", "), g.Accepted, g.Held, g.HeldMaxNode,
			g.HeldMaxSeen, g.ControlBytesPerSec)
		maxNode, maxSeen = max(maxNode, g.HeldMaxNode), max(maxSeen, g.HeldMaxSeen)
		bps = append(bps, g.ControlBytesPerSec)
	}
	fmt.Fprintf(b, "\nMost shortcuts held by one node: %d at the end, %d at any poll. Control traffic per region: median %.0f B/s, most %.0f B/s.\n",
		maxNode, maxSeen, median(bps), slices.Max(bps))
}

// writeFailover writes the failover section.
func (r *Report) writeFailover(b *strings.Builder) {
	fr := r.Failover
	if fr == nil {
		return
	}
	fmt.Fprintf(b, "\n## Failover\n\nFrom failover.json. %s.\n\n", upper(fr.Settings))
	var rr, back []float64
	for _, p := range fr.Pairs {
		if p.RerouteMs != nil {
			rr = append(rr, *p.RerouteMs)
		}
		if p.BackMs != nil {
			back = append(back, *p.BackMs)
		}
	}
	if len(fr.Pairs) > 0 {
		fmt.Fprintf(b, "Rerouted %d of %d cuts: reroute p50 %s ms, p95 %s ms; back on the path before after the heal in %d of %d: p50 %s ms, p95 %s ms.\n\n",
			len(rr), len(fr.Pairs), num0(quantile(rr, 0.5)), num0(quantile(rr, 0.95)), len(back), len(fr.Pairs), num0(quantile(back, 0.5)), num0(quantile(back, 0.95)))
		fmt.Fprintf(b, "| from | to | cut | cut s | failed | reroute ms | back ms | path before | during | after | nats failed | nats recover ms |\n")
		fmt.Fprintf(b, "|---|---|---|---:|---:|---:|---:|---|---|---|---:|---:|\n")
		for _, p := range fr.Pairs {
			nf, nr := "–", "–"
			if p.NATS != nil {
				nf, nr = fmt.Sprintf("%d/%d", p.NATS.Failed, p.NATS.Sent), msOrNone(p.NATS.RecoverMs)
			}
			fmt.Fprintf(b, "| %s | %s | %s %s-%s | %.1f | %d/%d | %s | %s | %s | %s | %s | %s | %s |\n", p.From, p.To, p.CutKind,
				p.CutNames[0], p.CutNames[1], p.CutMs/1000, p.Failed, p.Sent, msOrNone(p.RerouteMs), msOrNone(p.BackMs),
				r.pathText(p.RelaysBefore, p.PathBefore), r.pathText(p.RelaysDuring, p.PathDuring), r.pathText(p.RelaysAfter, p.PathAfter), nf, nr)
		}
		fmt.Fprintf(b, "\n*failed* counts the pair's lookups lost from its window before the cut to its window after the return; *reroute* "+
			"is from the cut to the first answer on a path avoiding the cut link, *back* from the heal to the first answer on the path before. "+
			"*nats*: the same tree-link cut, held as long, on plain NATS; *recover* is from the heal to its first answer.\n")
	}
	for _, n := range fr.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
}

// writeLoad writes the load section.
func (r *Report) writeLoad(b *strings.Builder) {
	l := r.Load
	if l == nil {
		return
	}
	fmt.Fprintf(b, "\n## Load\n\nFrom load.json: a slow relay. **%s**\n\n%s.\n\n", l.Verdict, upper(l.Settings))
	if len(l.Pairs) > 0 {
		fmt.Fprintf(b, "| from | to | path before | p50 | path during | p50 | failed | moved | path after | p50 |\n|---|---|---|---:|---|---:|---:|---|---|---:|\n")
		for _, p := range l.Pairs {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %d/%d | %s | %s | %s |\n", p.From, p.To,
				r.pathText(p.Before.Relays, p.Before.Path), ptrMs(p.Before.P50Ms), r.pathText(p.During.Relays, p.During.Path), ptrMs(p.During.P50Ms),
				p.During.Failed, p.During.Sent, p.Moved, r.pathText(p.After.Relays, p.After.Path), ptrMs(p.After.P50Ms))
		}
	}
	for _, n := range l.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
}

// pathText writes a path of region IDs compactly by name: "-" for a tree hop, "~" for a shortcut.
func (r *Report) pathText(header string, path []string) string {
	if len(path) == 0 {
		return "–"
	}
	p := Path{Regions: ids(path)}
	if len(p.Regions) == 0 {
		return "–"
	}
	// The hop kinds are not kept in the ID list; read them back from the header.
	if r.top != nil {
		if x, err := ExpandPath(r.top.Tree(), p.Regions[0], p.Regions[len(p.Regions)-1], header); err == nil {
			p = x
		}
	}
	return r.routeText(p)
}

func (r *Report) routeText(p Path) string {
	var b strings.Builder
	for i, id := range p.Regions {
		if i > 0 {
			if i-1 < len(p.Shortcut) && p.Shortcut[i-1] {
				b.WriteString("~")
			} else {
				b.WriteString("-")
			}
		}
		b.WriteString(r.name(id))
	}
	return b.String()
}

func pct(n, of int) float64 {
	if of == 0 {
		return math.NaN()
	}
	return 100 * float64(n) / float64(of)
}

// quantile returns the nearest-rank q-quantile of xs, or NaN.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func msText(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.1f ms", v)
}

func ptrMs(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *v)
}

func num0(v float64) string { return fmtNaN(v, "%.0f") }
func num1(v float64) string { return fmtNaN(v, "%.1f") }
func num2(v float64) string { return fmtNaN(v, "%.2f") }

func fmtNaN(v float64, f string) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf(f, v)
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
