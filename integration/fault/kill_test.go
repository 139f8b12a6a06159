package fault

import (
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestKillRegionMidTraffic kills region B with SIGKILL while A1 looks B's records up, the writers
// join regions and write Zyx records in B and A1. Lookups fail fast (ErrNoResponder, then
// ErrRegionDown), never at their deadline once the first has failed; the root marks B down and A1's
// registry copy shows it; B restarted on its store comes back active everywhere and serves again;
// no acknowledged write is lost.
func TestKillRegionMidTraffic(t *testing.T) {
	skipShort(t)
	ctx := testCtx(t, 3*time.Minute)
	sc := startScene(t, ctx, sceneOpts{})
	tr, ca1, h, lk := sc.tr, sc.ca1, sc.h, sc.lk
	logRoutes(t, ctx, tr.a1)
	h.Mark("kill -9 b")
	killed := time.Now()
	tr.b.kill9(t)
	downAt := firstTimes(t, ctx, 20*time.Second, killed, map[string]func() error{
		"root": func() error {
			return statusesAt(ctx, tr.root.URL(), map[regions.RegionID]regions.Status{bID: regions.StatusDown})
		},
		"a1": func() error { return viewStatus(ca1.Registry(), bID, regions.StatusDown) },
	})
	detect := downAt["a1"]
	failed := lk.waitOutcome(t, ctx, 20*time.Second, killed, fastFail...)
	h.Mark("b down at a1")
	// The outage lasts until a lookup started after the registry said down has failed too.
	down := lk.waitOutcome(t, ctx, 20*time.Second, time.Now(), outRegionDown)

	h.Mark("restart b")
	restarted := time.Now()
	tr.b.start(t)
	converge := sc.waitBBack(t, ctx, restarted)
	lk.noTimeoutsAfter(t, failed.end, restarted)
	outage := lk.between(killed, restarted)
	t.Logf("lookups a1→b from the kill to the restart: %s; first fast failure %v after the kill (%s: %v)",
		tally(outage), failed.end.Sub(killed).Round(time.Millisecond), failed.out, failed.err)
	logSlow(t, "a1→b", outage, killed)

	v := sc.verify(t, ctx)
	figures(t, "kill9-region", "fastfail_ms", ms(failed.end.Sub(killed)), "detect_ms", ms(detect),
		"detect_root_ms", ms(downAt["root"]), "converge_ms", ms(converge), "lookups", len(outage), "fastfail", count(outage, fastFail...),
		"timeouts", count(outage, outTimeout), "region_down_after_ms", ms(down.end.Sub(killed)),
		"acked", v.Acked, "failed", v.Failed, "unknown", v.Unknown, "lost", len(v.Lost))
}
