package lab

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// pollEvery is how often the scenarios look at their streams' answers.
const pollEvery = 20 * time.Millisecond

// runFailover cuts, one after the other, the links planFailover picks on env's FeDist federation,
// while every chosen pair sends lookups (FailoverConfig.Every), and times each reroute and return.
func runFailover(ctx context.Context, env *lookupEnv, rep *Report, cfg *Config, prog *progress) *FailoverReport {
	fc := &cfg.Failover
	top := env.f.Topology()
	out := &FailoverReport{Pairs: []FailoverPair{}, Notes: []string{},
		Settings: fmt.Sprintf("one lookup every %v per pair (timeout %v), for %v before the first cut; each cut planned from the routes of its moment; %v of lookups before each cut; a cut lasts until its pairs are rerouted and at least %v (at most %v); after the heal up to %v for the path before",
			fc.Every, fc.RequestTimeout, fc.Settle, fc.Before, fc.Hold, fc.RerouteTimeout, fc.BackTimeout)}
	cuts := planFailover(rep.Rows, currentPaths(env.f), top.Tree(), newLinkGraph(snapshotLinks(env.f)), fc, nil)
	var pairs []Pair
	for _, c := range cuts {
		pairs = append(pairs, c.pairs...)
	}
	if len(cuts) == 0 {
		out.Notes = append(out.Notes, "no pair's route crossed a shortcut or a tree link that the engine's up links lead around: nothing to cut")
		prog.printf("failover: nothing to cut")
		return out
	}
	ss := startStreams(ctx, pairs, fc.Every, fc.RequestTimeout, env.lookup)
	defer ss.stop()
	// The pairs' own traffic, far above the background's, may move their routes; and every cut
	// may move them again. So each cut is planned anew from the routes of that moment, among the
	// pairs not measured yet, until the pairs wanted of each kind have been cut under.
	prog.printf("failover: %d pairs send lookups for %v before the first cut", len(pairs), fc.Settle)
	sleepCtx(ctx, fc.Settle)
	budget := *fc
	var done [][2]regions.RegionID
	measured := map[Pair]bool{}
	skip := func(cut [2]regions.RegionID) bool {
		return slices.ContainsFunc(done, func(d [2]regions.RegionID) bool { return samePair(d, cut) })
	}
	for step := 1; ctx.Err() == nil && budget.TreePairs+budget.ShortcutPairs > 0; step++ {
		var rows []*Row
		for _, row := range rep.Rows {
			if p := (Pair{row.From, row.To}); slices.Contains(pairs, p) && !measured[p] {
				rows = append(rows, row)
			}
		}
		plan := planFailover(rows, currentPaths(env.f), top.Tree(), newLinkGraph(snapshotLinks(env.f)), &budget, skip)
		if len(plan) == 0 {
			break
		}
		c := plan[0]
		done = append(done, c.cut)
		if c.kind == costs.Tree {
			budget.TreePairs = max(0, budget.TreePairs-len(c.pairs))
		} else {
			budget.ShortcutPairs = max(0, budget.ShortcutPairs-len(c.pairs))
		}
		var who []string
		for _, p := range c.pairs {
			who = append(who, p.From.Name+" → "+p.To.Name)
			measured[p] = true
		}
		prog.printf("failover, cut %d: the %s link %s-%s under %s", step, c.kind, top.Name(c.cut[0]), top.Name(c.cut[1]), strings.Join(who, ", "))
		fps, notes := cutOnce(ctx, env.f, ss, c, fc)
		out.Notes = append(out.Notes, notes...)
		for _, n := range notes {
			prog.printf("failover: %s", n)
		}
		for _, fp := range fps {
			prog.printf("failover: %s → %s: %d of %d lookups failed, rerouted after %s ms over %s, back after %s ms",
				fp.From, fp.To, fp.Failed, fp.Sent, msOrNone(fp.RerouteMs), strings.Join(names(top, ids(fp.PathDuring)), "-"), msOrNone(fp.BackMs))
		}
		out.Pairs = append(out.Pairs, fps...)
	}
	var ntree, nsc int
	for _, fp := range out.Pairs {
		if fp.CutKind == costs.Tree.String() {
			ntree++
		} else {
			nsc++
		}
	}
	if ntree < fc.TreePairs {
		out.Notes = append(out.Notes, fmt.Sprintf("%d pairs wanted across a tree link with a path around it, %d measured: no other pair's route crossed a link of its tree path that the engine's up links lead around", fc.TreePairs, ntree))
	}
	if nsc < fc.ShortcutPairs {
		out.Notes = append(out.Notes, fmt.Sprintf("%d pairs wanted on a shortcut, %d measured: only so many pairs' routes crossed one", fc.ShortcutPairs, nsc))
	}
	return out
}

// cutOnce runs one cut: lookups before it, the cut until its pairs are rerouted (and Hold), the
// heal, and lookups until they are back on their paths before. A pair whose path no longer
// crosses the link is left out, with a note.
func cutOnce(ctx context.Context, f *fed.Federation, ss *streams, c failoverCut, fc *FailoverConfig) ([]FailoverPair, []string) {
	top := f.Topology()
	cut := c.cut
	cutName := top.Name(cut[0]) + "-" + top.Name(cut[1])
	type state struct {
		p        Pair
		st       *stream
		expand   func(string) (Path, bool)
		pre      windowStats
		before   Path
		rerouted *outcome
		back     *outcome
	}
	var notes []string
	t0 := time.Now()
	// The path before is the one the pair's answers of the last second agree on (90 %); a pair
	// whose route is moving gets up to two more Before periods to settle.
	recent := func(st *stream) windowStats { return st.window(time.Now().Add(-time.Second), time.Now()) }
	for try := 0; try < 3; try++ {
		if !sleepCtx(ctx, fc.Before) {
			return nil, nil
		}
		settled := true
		for _, p := range c.pairs {
			w := recent(ss.of(p))
			settled = settled && w.Answered && w.Share >= 0.9
		}
		if settled {
			break
		}
	}
	var sts []*state
	for _, p := range c.pairs {
		s := &state{p: p, st: ss.of(p), expand: func(h string) (Path, bool) {
			x, err := ExpandPath(top.Tree(), p.From.ID, p.To.ID, h)
			return x, err == nil
		}}
		s.pre = recent(s.st)
		s.before, _ = s.expand(s.pre.Header)
		switch {
		case !s.pre.Answered:
			notes = append(notes, fmt.Sprintf("%s → %s: no answer in the second before cutting %s; left out", p.From.Name, p.To.Name, cutName))
		case !s.before.Uses(cut[0], cut[1]):
			notes = append(notes, fmt.Sprintf("%s → %s: its lookups took %s before the cut, which does not cross %s; left out of that cut",
				p.From.Name, p.To.Name, strings.Join(names(top, s.before.Regions), "-"), cutName))
		case s.pre.Share < 0.9:
			notes = append(notes, fmt.Sprintf("%s → %s: its answers still took several paths before cutting %s (the most frequent, %s, %.0f %% of them); measured all the same",
				p.From.Name, p.To.Name, cutName, strings.Join(names(top, s.before.Regions), "-"), 100*s.pre.Share))
			sts = append(sts, s)
		default:
			sts = append(sts, s)
		}
	}
	if len(sts) == 0 {
		return nil, notes
	}
	tCut := time.Now()
	if err := f.Cut(cut[0], cut[1]); err != nil {
		return nil, append(notes, fmt.Sprintf("cut %s: %v", cutName, err))
	}
	avoids := func(s *state) func(string) bool {
		return func(h string) bool { x, ok := s.expand(h); return ok && !x.Uses(cut[0], cut[1]) }
	}
	for ctx.Err() == nil {
		all := true
		for _, s := range sts {
			if s.rerouted == nil {
				if o, ok := s.st.first(tCut, avoids(s)); ok {
					s.rerouted = &o
				}
			}
			all = all && s.rerouted != nil
		}
		if since := time.Since(tCut); all && since >= fc.Hold || since >= fc.RerouteTimeout {
			break
		}
		sleepCtx(ctx, pollEvery)
	}
	tHeal := time.Now()
	if err := f.Heal(cut[0], cut[1]); err != nil {
		return nil, append(notes, fmt.Sprintf("heal %s: %v", cutName, err))
	}
	same := func(s *state) func(string) bool {
		return func(h string) bool {
			x, ok := s.expand(h)
			return ok && slices.Equal(x.Regions, s.before.Regions) && slices.Equal(x.Shortcut, s.before.Shortcut)
		}
	}
	// asGood: the same path, or one within the router's switching margin of it.
	margin := costs.DefaultConfig()
	asGood := func(s *state) func(string) bool {
		before, errBefore := pathRTT(top, s.before)
		return func(h string) bool {
			if same(s)(h) {
				return true
			}
			x, ok := s.expand(h)
			if !ok || errBefore != nil {
				return false
			}
			rtt, err := pathRTT(top, x)
			return err == nil && rtt <= before*(1+margin.SwitchRel)+margin.SwitchAbs
		}
	}
	for ctx.Err() == nil && time.Since(tHeal) < fc.BackTimeout {
		all := true
		for _, s := range sts {
			if s.back == nil {
				if o, ok := s.st.first(tHeal, asGood(s)); ok {
					s.back = &o
				}
			}
			all = all && s.back != nil
		}
		if all {
			break
		}
		sleepCtx(ctx, pollEvery)
	}
	tEnd := time.Now()
	sleepCtx(ctx, fc.Before)
	var out []FailoverPair
	for _, s := range sts {
		p := s.p
		tAfter := tEnd
		if s.back != nil {
			tAfter = s.back.done
		}
		during, after, all := s.st.window(tCut, tHeal), s.st.window(tAfter, time.Now()), s.st.window(t0, time.Now())
		fp := FailoverPair{
			From: p.From.Name, To: p.To.Name, FromID: p.From.ID.String(), ToID: p.To.ID.String(),
			CutKind: c.kind.String(), Cut: [2]string{cut[0].String(), cut[1].String()},
			CutNames: [2]string{top.Name(cut[0]), top.Name(cut[1])}, CutMs: *num(ms(tHeal.Sub(tCut))),
			Sent: all.Sent, Failed: all.Failed,
			PathBefore: s.before.IDs(), RelaysBefore: s.pre.Header,
			pair: p, cut: cut, cutFor: tHeal.Sub(tCut),
		}
		if s.rerouted != nil {
			fp.RerouteMs = num(ms(s.rerouted.done.Sub(tCut)))
		}
		if s.back != nil {
			fp.BackMs = num(ms(s.back.done.Sub(tHeal)))
			if x, ok := s.expand(after.Header); ok && after.Answered {
				sameAfter := slices.Equal(x.Regions, s.before.Regions) && slices.Equal(x.Shortcut, s.before.Shortcut)
				fp.BackSame = &sameAfter
			}
		}
		if x, ok := s.expand(during.Header); ok && during.Answered {
			fp.PathDuring, fp.RelaysDuring = x.IDs(), during.Header
		}
		if x, ok := s.expand(after.Header); ok && after.Answered {
			fp.PathAfter, fp.RelaysAfter = x.IDs(), after.Header
		}
		out = append(out, fp)
	}
	return out, notes
}

// failoverBaseline repeats FeDist's tree-link cuts on a plain-NATS federation of its own, each
// held as long as FeDist's was, and fills the NATS figures of the pairs under each.
func failoverBaseline(ctx context.Context, cfg *Config, fr *FailoverReport, prog *progress) error {
	type natsCut struct {
		cut   [2]regions.RegionID
		hold  time.Duration
		pairs []*FailoverPair
	}
	var cuts []*natsCut
	var pairs []Pair
	for i := range fr.Pairs {
		fp := &fr.Pairs[i]
		if fp.CutKind != costs.Tree.String() || fp.cutFor <= 0 {
			continue
		}
		j := slices.IndexFunc(cuts, func(c *natsCut) bool { return c.cut == fp.cut })
		if j < 0 {
			j = len(cuts)
			cuts = append(cuts, &natsCut{cut: fp.cut, hold: fp.cutFor})
		}
		cuts[j].pairs = append(cuts[j].pairs, fp)
		if !slices.Contains(pairs, fp.pair) {
			pairs = append(pairs, fp.pair)
		}
	}
	if len(cuts) == 0 {
		return nil
	}
	top := cfg.Topology
	prog.printf("failover, plain NATS beside it: starting %d regions for %d tree-link cuts", top.Len(), len(cuts))
	f, err := fed.Start(ctx, cfg.Federation(top, fed.ModeNATS))
	if err != nil {
		return err
	}
	defer f.Close()
	env, err := newLookupEnv(ctx, f, cfg)
	if err != nil {
		return err
	}
	defer env.close()
	for _, p := range pairs { // interest spreads to the senders before anything is cut
		deadline := time.Now().Add(cfg.WarmupTimeout)
		for _, err := env.lookup(ctx, p, 1, env.timeout(p)); err != nil; _, err = env.lookup(ctx, p, 1, env.timeout(p)) {
			if time.Now().After(deadline) || !sleepCtx(ctx, 50*time.Millisecond) {
				return fmt.Errorf("%s → %s: no answer within %v: %w", p.From.Name, p.To.Name, cfg.WarmupTimeout, err)
			}
		}
	}
	fc := &cfg.Failover
	ss := startStreams(ctx, pairs, fc.Every, fc.RequestTimeout, env.lookup)
	defer ss.stop()
	answered := func(string) bool { return true }
	for _, c := range cuts {
		t0 := time.Now()
		if !sleepCtx(ctx, fc.Before) {
			return ctx.Err()
		}
		tCut := time.Now()
		if err := f.Cut(c.cut[0], c.cut[1]); err != nil {
			return err
		}
		sleepCtx(ctx, c.hold)
		tHeal := time.Now()
		if err := f.Heal(c.cut[0], c.cut[1]); err != nil {
			return err
		}
		recovered := map[*FailoverPair]time.Duration{}
		for ctx.Err() == nil && time.Since(tHeal) < fc.BackTimeout && len(recovered) < len(c.pairs) {
			for _, fp := range c.pairs {
				if o, ok := ss.of(fp.pair).first(tHeal, answered); ok {
					recovered[fp] = o.done.Sub(tHeal)
				}
			}
			sleepCtx(ctx, pollEvery)
		}
		sleepCtx(ctx, fc.Before)
		for _, fp := range c.pairs {
			st := ss.of(fp.pair)
			nf := &NATSFailover{}
			if d, ok := recovered[fp]; ok {
				nf.RecoverMs = num(ms(d))
			}
			if o, ok := st.first(tCut, answered); ok && o.done.Before(tHeal) {
				nf.FirstDuringMs = num(ms(o.done.Sub(tCut)))
			}
			w := st.window(t0, time.Now())
			nf.Sent, nf.Failed = w.Sent, w.Failed
			fp.NATS = nf
			prog.printf("failover, plain NATS: %s → %s, tree link %s-%s cut for %.1f s: %d of %d lookups failed, first answer %s ms after the heal",
				fp.From, fp.To, fp.CutNames[0], fp.CutNames[1], c.hold.Seconds(), nf.Failed, nf.Sent, msOrNone(nf.RecoverMs))
		}
	}
	return nil
}

func msOrNone(v *float64) string {
	if v == nil {
		return "never"
	}
	return fmt.Sprintf("%.0f", *v)
}

// ids parses region IDs written by Path.IDs.
func ids(ss []string) []regions.RegionID {
	out := make([]regions.RegionID, 0, len(ss))
	for _, s := range ss {
		if r, err := regions.ParseRegion(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}
