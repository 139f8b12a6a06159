package linkemu

import (
	"context"
	"runtime"
	"time"
)

// releaseAt returns when a chunk read at now may be written to the far side: now + delay, moved by
// (2u-1)*jitter for u in [0, 1), and never before prev, the release time of the chunk read ahead of
// it. The last rule keeps bytes in order; it can only push a release later, never past
// now + delay + jitter, because prev itself was at most that far from an earlier, smaller now.
func releaseAt(now, prev time.Time, delay, jitter time.Duration, u float64) time.Time {
	d := delay
	if jitter > 0 {
		d += time.Duration((2*u - 1) * float64(jitter))
	}
	t := now.Add(d)
	if t.Before(prev) {
		return prev
	}
	return t
}

// spinWindow is how long before a release the writer stops trusting its timer and yields in a loop.
// Go's timers fire up to about 1 ms late on Linux, because the netpoller sleeps in epoll_wait with
// millisecond resolution; measured lateness was 0.7-0.95 ms for short timers.
const spinWindow = 1200 * time.Microsecond

// sleepUntil blocks until t, or until ctx is done, and reports whether t was reached. timer is the
// caller's, reused across calls; it must be stopped or drained on entry. With precise, it sleeps on
// timer until spinWindow before t and yields in a loop for the rest, waking within microseconds of
// t. Without, it sleeps on timer alone, burns no CPU, and may wake about 1 ms late.
func sleepUntil(ctx context.Context, timer *time.Timer, t time.Time, precise bool) bool {
	window := time.Duration(0)
	if precise {
		window = spinWindow
	}
	if d := time.Until(t) - window; d > 0 {
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return false
		}
	}
	for time.Now().Before(t) {
		if ctx.Err() != nil {
			return false
		}
		runtime.Gosched()
	}
	return true
}
