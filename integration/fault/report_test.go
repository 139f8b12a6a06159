package fault

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// skipShort skips a scenario under -short: each one builds and runs the daemons.
func skipShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemons as processes")
	}
}

// figures logs one greppable line of measurements: "FAULT <scenario> key=value ...". pairs
// alternates keys and values.
func figures(t *testing.T, scenario string, pairs ...any) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "FAULT %s", scenario)
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, " %v=%v", pairs[i], pairs[i+1])
	}
	t.Log(b.String())
}

// waitAcks waits until the history holds at least n acknowledged writes of kind ("" for any), so
// that a fault lands on a system that has been taking writes.
func waitAcks(t *testing.T, ctx context.Context, h *History, kind string, n int) {
	t.Helper()
	waitFor(t, ctx, 30*time.Second, fmt.Sprintf("%d acknowledged %q writes", n, kind), func() error {
		if got := h.Count(kind, Ack); got < n {
			return fmt.Errorf("%d so far:\n%s", got, h.Summary(5))
		}
		return nil
	})
}

// verifyWrites is the lost-ack check: every acknowledged write of h must be found by present
// within checkWait; a missing one fails the test. It logs the history's summary and returns the
// verdict.
func verifyWrites(t *testing.T, ctx context.Context, h *History, present func(context.Context, Op) error) Verdict {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, checkWait)
	defer cancel()
	v := h.Check(cctx, 250*time.Millisecond, present)
	t.Logf("history (%s):\n%s", v, h.Summary(25))
	for _, op := range v.Lost {
		t.Errorf("LOST: acknowledged %s %s (written at +%v, took %v) is missing: %s", op.Kind, op.Key,
			op.Start.Sub(h.start).Round(time.Millisecond), op.End.Sub(op.Start).Round(time.Millisecond), op.Err)
	}
	if v.Acked == 0 {
		t.Error("no write was acknowledged, so the checker checked nothing")
	}
	return v
}

// checkWait bounds the lost-ack check: mirrors and lookups across the tree have converged long
// before; what is still missing then is lost.
const checkWait = 30 * time.Second
