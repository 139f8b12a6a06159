package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// fakeSender records what the notifier sends and fails while failing is set.
type fakeSender struct {
	mu      sync.Mutex // guards sent, at, failing
	sent    []string
	at      []time.Duration
	start   time.Time
	failing error
}

func (f *fakeSender) send(_ context.Context, ch change) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, fmt.Sprintf("%s/%s=%s", ch.kind, ch.id.Region(), ch.value))
	f.at = append(f.at, time.Since(f.start))
	return f.failing
}

func (f *fakeSender) got() ([]string, []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...), append([]time.Duration(nil), f.at...)
}

func notifyCfg() NotifyConfig {
	return NotifyConfig{Workers: 2, Attempts: 4, Backoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		Timeout: time.Second, MaxPending: 3}
}

var recA = regions.NewID(0x00a0, 1)

func TestNotifierRetriesWithBackoffThenGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSender{start: time.Now(), failing: client.ErrNoResponder}
		n := newNotifier(notifyCfg(), f.send, zerolog.Nop())
		defer n.shutdown()
		n.enqueue(change{kind: "user", id: recA, value: []byte("v1")})
		time.Sleep(10 * time.Second) // far past every backoff: fake time in the bubble
		synctest.Wait()
		sent, at := f.got()
		if len(sent) != 4 {
			t.Fatalf("sent %d times (%v), want Attempts = 4", len(sent), sent)
		}
		// Pauses 100, 200, 300 (capped) ms, each plus up to 50% jitter.
		for i, base := range []time.Duration{0, 100, 200, 300} {
			gap := at[i]
			if i > 0 {
				gap -= at[i-1]
			}
			if lo, hi := base*time.Millisecond, base*time.Millisecond*3/2; gap < lo || gap > hi {
				t.Errorf("attempt %d came %v after the one before, want %v to %v", i+1, gap, lo, hi)
			}
		}
	})
}

func TestNotifierSendsOnlyTheNewestValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSender{start: time.Now(), failing: client.ErrNoResponder}
		n := newNotifier(notifyCfg(), f.send, zerolog.Nop())
		defer n.shutdown()
		n.enqueue(change{kind: "user", id: recA, value: []byte("v1")})
		synctest.Wait() // v1's first attempt failed; it waits to retry
		n.enqueue(change{kind: "user", id: recA, value: []byte("v2")})
		n.enqueue(change{kind: "user", id: recA, value: []byte("v3")})
		f.mu.Lock()
		f.failing = nil
		f.mu.Unlock()
		time.Sleep(time.Second)
		synctest.Wait()
		// v1 stops retrying once a newer value waits; v2 is replaced by v3 before it is sent.
		if sent, _ := f.got(); fmt.Sprint(sent) != "[user/00a0=v1 user/00a0=v3]" {
			t.Fatalf("sent %v, want v1 once, then v3", sent)
		}
	})
}

func TestNotifierPermanentErrorsAndOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSender{start: time.Now(), failing: fmt.Errorf("wrap: %w", client.ErrOtherRegion)}
		cfg := notifyCfg()
		cfg.Workers = 1
		n := newNotifier(cfg, f.send, zerolog.Nop())
		defer n.shutdown()
		n.enqueue(change{kind: "user", id: recA, value: []byte("x")})
		time.Sleep(time.Second)
		synctest.Wait()
		if sent, _ := f.got(); len(sent) != 1 {
			t.Fatalf("a permanent error was retried: %v", sent)
		}
		// With one worker blocked, at most MaxPending (3) changes wait; the oldest go first.
		block := make(chan struct{})
		f2 := &fakeSender{start: time.Now()}
		n2 := newNotifier(cfg, func(ctx context.Context, ch change) error {
			if ch.id == recA {
				<-block
			}
			return f2.send(ctx, ch)
		}, zerolog.Nop())
		defer n2.shutdown()
		n2.enqueue(change{kind: "user", id: recA, value: []byte("a")})
		synctest.Wait()
		for i := range 5 {
			n2.enqueue(change{kind: "post", id: regions.NewID(0x00b0, uint64(i+1)), value: []byte{'0' + byte(i)}})
		}
		close(block)
		synctest.Wait()
		if sent, _ := f2.got(); fmt.Sprint(sent) != "[user/00a0=a post/00b0=2 post/00b0=3 post/00b0=4]" {
			t.Fatalf("sent %v, want a, then the 3 newest posts", sent)
		}
	})
}

func TestPermanent(t *testing.T) {
	if permanent(client.ErrNoResponder) || permanent(context.DeadlineExceeded) || !permanent(fmt.Errorf("x: %w", regions.ErrBadID)) {
		t.Fatal("permanent() misclassifies")
	}
}
