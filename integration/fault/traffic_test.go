package fault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/regions"
)

// outcome classifies one lookup.
type outcome string

const (
	outOK          outcome = "ok"
	outNoResponder outcome = "no-responder" // client.ErrNoResponder: a round trip said nobody serves it
	outRegionDown  outcome = "region-down"  // client.ErrRegionDown: the registry copy says down
	outTimeout     outcome = "timeout"      // the lookup's deadline passed without an answer
	outOther       outcome = "other"
)

// fastFail are the outcomes that tell the caller at once that nobody will answer.
var fastFail = []outcome{outNoResponder, outRegionDown}

func classify(err error) outcome {
	switch {
	case err == nil:
		return outOK
	case errors.Is(err, client.ErrNoResponder):
		return outNoResponder
	case errors.Is(err, client.ErrRegionDown):
		return outRegionDown
	case errors.Is(err, context.DeadlineExceeded):
		return outTimeout
	}
	return outOther
}

// lookupRec is one lookup a looker made.
type lookupRec struct {
	start, end time.Time
	out        outcome
	err        error
}

// looker looks one record up at a steady rate, as an application does, bypassing replicas
// (client.Fresh) so that every lookup reaches the record's region, and records every outcome. The
// load is open: a new lookup starts every lookEvery whether or not earlier ones have answered (up
// to maxInFlight), so a lookup left waiting for its deadline does not hide the ones after it.
type looker struct {
	name    string
	c       *client.Client
	id      regions.ID
	timeout time.Duration // of one lookup

	mu   sync.Mutex // guards recs
	recs []lookupRec

	cancel context.CancelFunc
	wg     sync.WaitGroup // the loop and every lookup in flight
}

// lookupTimeout bounds one lookup of a looker: long enough that a lookup the network answers is
// never cut short on a loaded 2-core machine, so that a timeout means nobody answered.
const lookupTimeout = 3 * time.Second

const (
	lookEvery   = 20 * time.Millisecond // 50 lookups a second
	maxInFlight = 200                   // lookEvery × maxInFlight > lookupTimeout: never reached
)

// startLooker starts looking up record id of kindIDs from client c; it stops when the test ends.
func startLooker(t *testing.T, name string, c *client.Client, id regions.ID) *looker {
	l := &looker{name: name, c: c, id: id, timeout: lookupTimeout}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Go(func() { l.run(ctx) })
	t.Cleanup(l.stop)
	return l
}

func (l *looker) run(ctx context.Context) {
	slots := make(chan struct{}, maxInFlight)
	tick := time.NewTicker(lookEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case slots <- struct{}{}:
		default:
			continue // maxInFlight lookups waiting: skip this tick
		}
		l.wg.Go(func() {
			defer func() { <-slots }()
			l.lookup(ctx)
		})
	}
}

// lookup makes one lookup and records its outcome.
func (l *looker) lookup(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	start := time.Now()
	data, err := l.c.Lookup(lctx, kindIDs, l.id, client.Fresh())
	if ctx.Err() != nil {
		return // stopped mid-lookup: not an outcome
	}
	if err == nil && string(data) != l.id.String() {
		err = fmt.Errorf("lookup %s answered %q", l.id, data)
	}
	l.mu.Lock()
	l.recs = append(l.recs, lookupRec{start: start, end: time.Now(), out: classify(err), err: err})
	l.mu.Unlock()
}

// stop ends the loop and waits for it; it is idempotent.
func (l *looker) stop() {
	l.cancel()
	l.wg.Wait()
}

// between returns the lookups that started in [from, to); a zero to means no end.
func (l *looker) between(from, to time.Time) []lookupRec {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []lookupRec
	for _, r := range l.recs {
		if !r.start.Before(from) && (to.IsZero() || r.start.Before(to)) {
			out = append(out, r)
		}
	}
	return out
}

// first returns the lookup started at or after from that ended first with one of the outcomes.
func (l *looker) first(from time.Time, outs ...outcome) (lookupRec, bool) {
	return firstOf(l.between(from, time.Time{}), outs...)
}

// firstOf returns the lookup of recs that ended first with one of the outcomes.
func firstOf(recs []lookupRec, outs ...outcome) (lookupRec, bool) {
	var got lookupRec
	found := false
	for _, r := range recs {
		if slices.Contains(outs, r.out) && (!found || r.end.Before(got.end)) {
			got, found = r, true
		}
	}
	return got, found
}

// waitOutcome waits until a lookup started at or after from ended with one of outs, and returns it.
func (l *looker) waitOutcome(t *testing.T, ctx context.Context, total time.Duration, from time.Time, outs ...outcome) lookupRec {
	t.Helper()
	var got lookupRec
	waitFor(t, ctx, total, fmt.Sprintf("%s: a lookup ending %v", l.name, outs), func() error {
		var ok bool
		if got, ok = l.first(from, outs...); !ok {
			return fmt.Errorf("outcomes so far: %s", tally(l.between(from, time.Time{})))
		}
		return nil
	})
	return got
}

// tally counts outcomes: "ok=12 no-responder=3".
func tally(recs []lookupRec) string {
	counts := map[outcome]int{}
	for _, r := range recs {
		counts[r.out]++
	}
	s := ""
	for _, o := range []outcome{outOK, outNoResponder, outRegionDown, outTimeout, outOther} {
		if counts[o] > 0 {
			s += fmt.Sprintf("%s=%d ", o, counts[o])
		}
	}
	if s == "" {
		return "none"
	}
	return s[:len(s)-1]
}

// count returns how many of recs ended with one of outs.
func count(recs []lookupRec, outs ...outcome) int {
	n := 0
	for _, r := range recs {
		for _, o := range outs {
			if r.out == o {
				n++
			}
		}
	}
	return n
}

// noTimeoutsAfter fails the test if a lookup started at or after from (and before to, if set) ran
// into its deadline or failed in an unexpected way: from then on, every lookup must say at once
// that nobody will answer.
func (l *looker) noTimeoutsAfter(t *testing.T, from, to time.Time) {
	t.Helper()
	var bad []lookupRec
	for _, r := range l.between(from, to) {
		if r.out == outTimeout || r.out == outOther {
			bad = append(bad, r)
		}
	}
	if len(bad) == 0 {
		return
	}
	describe := func(r lookupRec) string {
		return fmt.Sprintf("started %v after, ended %s after %v: %v", r.start.Sub(from).Round(time.Millisecond),
			r.out, r.end.Sub(r.start).Round(time.Millisecond), r.err)
	}
	t.Errorf("%s: %d lookups did not fail fast after they should have; first %s; last %s",
		l.name, len(bad), describe(bad[0]), describe(bad[len(bad)-1]))
}

// timeline tallies the outcomes of recs by when they started, in buckets of step from from:
// "+0s ok=3 timeout=22 | +0.5s timeout=25 | …".
func timeline(recs []lookupRec, from time.Time, step time.Duration) string {
	buckets := map[int][]lookupRec{}
	last := 0
	for _, r := range recs {
		i := int(r.start.Sub(from) / step)
		buckets[i] = append(buckets[i], r)
		last = max(last, i)
	}
	var parts []string
	for i := 0; i <= last; i++ {
		if len(buckets[i]) > 0 {
			parts = append(parts, fmt.Sprintf("+%v %s", time.Duration(i)*step, tally(buckets[i])))
		}
	}
	return strings.Join(parts, " | ")
}

// logSlow logs every lookup of recs that did not end ok or fast, with its start relative to at.
func logSlow(t *testing.T, name string, recs []lookupRec, at time.Time) {
	t.Helper()
	for _, r := range recs {
		if r.out == outTimeout || r.out == outOther {
			t.Logf("%s: lookup started %+v from the fault ended %s after %v: %v", name,
				r.start.Sub(at).Round(time.Millisecond), r.out, r.end.Sub(r.start).Round(time.Millisecond), r.err)
		}
	}
}
