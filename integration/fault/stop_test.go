package fault

import (
	"syscall"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// stopWindow is how long TestStopContRegion keeps region B stopped at most, waiting for the root
// to mark it down: the leafnode links ping every 2 s and give up after 3 pings unanswered
// (broker.DefaultConfig), so a stopped process is noticed well within it.
const stopWindow = 25 * time.Second

// TestStopContRegion freezes region B's process with SIGSTOP while A1 looks B's records up and the
// writers run, and thaws it with SIGCONT. It reports what a frozen region looks like: whether (and
// when) the root marks it down, and how lookups fail meanwhile (a frozen process keeps its sockets
// open, so lookups wait for their deadline until its links time out). It asserts that B is active
// and serving again after SIGCONT, and that no acknowledged write is lost.
func TestStopContRegion(t *testing.T) {
	skipShort(t)
	ctx := testCtx(t, 3*time.Minute)
	sc := startScene(t, ctx, sceneOpts{})
	tr, ca1, h, lk := sc.tr, sc.ca1, sc.h, sc.lk

	h.Mark("SIGSTOP b")
	stopped := time.Now()
	tr.b.signal(t, syscall.SIGSTOP)
	downAfter, err := poll(ctx, stopWindow, 10*time.Millisecond, func() error {
		return viewStatus(ca1.Registry(), bID, regions.StatusDown)
	})
	wentDown := err == nil
	downAt := time.Now()
	if wentDown {
		h.Mark("b down at a1")
		// Once the registry says down, lookups fail at once.
		lk.waitOutcome(t, ctx, 20*time.Second, time.Now(), outRegionDown)
	} else {
		t.Logf("b stopped for %v and not marked down: %v", downAfter.Round(time.Millisecond), err)
	}

	h.Mark("SIGCONT b")
	conted := time.Now()
	tr.b.signal(t, syscall.SIGCONT)
	converge := sc.waitBBack(t, ctx, conted)
	frozen := lk.between(stopped, conted)
	firstFast, fast := firstOf(frozen, fastFail...)
	if wentDown {
		lk.noTimeoutsAfter(t, downAt, conted) // the registry copy says down: no round trip
	}
	t.Logf("lookups a1→b while b was stopped: %s; marked down: %v after %v", tally(frozen), wentDown, downAfter.Round(time.Millisecond))
	t.Logf("lookups a1→b by start after SIGSTOP: %s", timeline(frozen, stopped, 500*time.Millisecond))

	v := sc.verify(t, ctx)
	downMs := int64(-1)
	if wentDown {
		downMs = ms(downAfter)
	}
	firstFastMs := int64(-1)
	if fast {
		firstFastMs = ms(firstFast.end.Sub(stopped))
	}
	figures(t, "sigstop-region", "detect_ms", downMs, "fastfail_ms", firstFastMs, "converge_ms", ms(converge),
		"lookups", len(frozen), "timeouts", count(frozen, outTimeout), "no_responder", count(frozen, outNoResponder),
		"region_down", count(frozen, outRegionDown), "acked", v.Acked, "failed", v.Failed, "unknown", v.Unknown, "lost", len(v.Lost))
}
