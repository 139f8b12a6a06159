package fault

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestHistoryCheck: an acknowledged write that never shows up is lost, one that shows up late is
// not, failed writes are not looked up, and unknown ones are reported whichever way they went.
func TestHistoryCheck(t *testing.T) {
	h := NewHistory()
	now := time.Now()
	for _, op := range []Op{
		{Kind: "join", Key: "late", Result: Ack},
		{Kind: "join", Key: "gone", Result: Ack},
		{Kind: "join", Key: "there", Result: Ack},
		{Kind: "join", Key: "refused", Result: Fail, Err: "refused"},
		{Kind: "zyx-user", Key: "maybe", Result: Unknown, Err: "timeout"},
		{Kind: "zyx-user", Key: "never", Result: Unknown, Err: "timeout"},
	} {
		op.Start, op.End = now, now
		h.Add(op)
	}
	h.Mark("kill -9 b")
	calls := map[string]int{}
	present := func(_ context.Context, op Op) error {
		calls[op.Key]++
		switch {
		case op.Key == "late" && calls[op.Key] < 3, op.Key == "gone", op.Key == "never":
			return errors.New("missing")
		case op.Key == "refused":
			t.Errorf("a failed write was looked up")
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	v := h.Check(ctx, 10*time.Millisecond, present)
	if v.Acked != 3 || v.Failed != 1 || v.Unknown != 2 || v.UnknownPresent != 1 {
		t.Fatalf("verdict %s, want acked=3 failed=1 unknown=2 unknown_present=1", v)
	}
	if len(v.Lost) != 1 || v.Lost[0].Key != "gone" || v.Lost[0].Err != "missing" {
		t.Fatalf("lost %+v, want only \"gone\", with the reason", v.Lost)
	}
	if calls["there"] != 1 {
		t.Errorf("a write found at once was looked up %d times", calls["there"])
	}
	s := h.Summary(10)
	for _, want := range []string{"join      ack=3 fail=1 unknown=0", "=== kill -9 b", "zyx-user maybe unknown"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
}
