package fault

import (
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestKillRelayMidTraffic kills the hub A with SIGKILL while B looks A1's records up and A1 looks
// B's up: A relays every one of those lookups (A1 hangs under A, and shortcuts are off, so the
// tree is the only path). Lookups in both directions fail fast once the first has failed; A and A1
// are marked down; after A restarts on its store, A1 links to it again, every registry copy shows
// all active, and lookups cross A again. No acknowledged write is lost.
func TestKillRelayMidTraffic(t *testing.T) {
	skipShort(t)
	ctx := testCtx(t, 3*time.Minute)
	sc := startScene(t, ctx, sceneOpts{flags: []string{"-shortcuts", "0"}, twoWay: true,
		reader: func(tr *tree) *daemon { return tr.root }, grace: []regions.RegionID{aID, a1ID}})
	tr, cb, h, toA1, toB := sc.tr, sc.cb, sc.h, sc.toA1, sc.lk

	h.Mark("kill -9 a")
	killed := time.Now()
	tr.a.kill9(t)
	downAt := firstTimes(t, ctx, 20*time.Second, killed, map[string]func() error{
		"a":  func() error { return viewStatus(cb.Registry(), aID, regions.StatusDown) },
		"a1": func() error { return viewStatus(cb.Registry(), a1ID, regions.StatusDown) },
	})
	h.Mark("a, a1 down at b")
	failedA1 := toA1.waitOutcome(t, ctx, 20*time.Second, killed, fastFail...)
	failedB := toB.waitOutcome(t, ctx, 20*time.Second, killed, fastFail...)
	// The outage lasts until lookups started after the registry said down have failed too.
	toA1.waitOutcome(t, ctx, 20*time.Second, time.Now(), outRegionDown)
	toB.waitOutcome(t, ctx, 20*time.Second, time.Now(), fastFail...)

	h.Mark("restart a")
	restarted := time.Now()
	tr.a.start(t)
	tr.a.waitReady(t, ctx)
	tr.a1.waitReady(t, ctx)
	upAt := firstTimes(t, ctx, 30*time.Second, restarted, map[string]func() error{
		"a":  func() error { return viewStatus(cb.Registry(), aID, regions.StatusActive) },
		"a1": func() error { return viewStatus(cb.Registry(), a1ID, regions.StatusActive) },
	})
	toA1.waitOutcome(t, ctx, 30*time.Second, restarted, outOK)
	toB.waitOutcome(t, ctx, 30*time.Second, restarted, outOK)
	converge := time.Since(restarted)
	h.Mark("lookups cross a again")
	for _, d := range tr.all() {
		waitFor(t, ctx, 20*time.Second, "converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), allActive) })
	}
	toA1.stop()
	toB.stop()
	toA1.noTimeoutsAfter(t, failedA1.end, restarted)
	toB.noTimeoutsAfter(t, failedB.end, restarted)
	outA1, outB := toA1.between(killed, restarted), toB.between(killed, restarted)
	logSlow(t, toA1.name, outA1, killed)
	logSlow(t, toB.name, outB, killed)
	t.Logf("lookups from the kill to the restart: b→a1 %s; a1→b %s", tally(outA1), tally(outB))

	v := sc.verify(t, ctx)
	figures(t, "kill9-relay", "fastfail_ms", ms(failedA1.end.Sub(killed)), "fastfail_a1_ms", ms(failedB.end.Sub(killed)),
		"detect_ms", ms(downAt["a"]), "detect_a1_ms", ms(downAt["a1"]), "converge_ms", ms(converge),
		"active_a_ms", ms(upAt["a"]), "active_a1_ms", ms(upAt["a1"]), "lookups", len(outA1)+len(outB),
		"timeouts", count(outA1, outTimeout)+count(outB, outTimeout), "acked", v.Acked, "failed", v.Failed,
		"unknown", v.Unknown, "lost", len(v.Lost))
}
