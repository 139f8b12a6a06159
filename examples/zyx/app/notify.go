package app

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// change is one committed write to announce: a record's new value, or its deletion.
type change struct {
	kind    string
	id      regions.ID
	value   []byte
	deleted bool
}

type recordKey struct {
	kind string
	id   regions.ID
}

// notifier announces committed writes to FeDist in the background, retrying with backoff. Only the
// newest value of a record is ever sent: a change queued while an older one of the same record is
// being retried replaces it, and the two are never in flight at once, so they cannot arrive out of
// order. A change that exhausts its attempts is logged and dropped; the write it announces stays.
type notifier struct {
	cfg  NotifyConfig
	send func(context.Context, change) error
	log  zerolog.Logger

	mu      sync.Mutex // guards pending, order, busy
	pending map[recordKey]change
	order   []recordKey // keys of pending, oldest first
	busy    map[recordKey]bool
	wake    chan struct{} // capacity 1: there may be work

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // owns the workers
}

func newNotifier(cfg NotifyConfig, send func(context.Context, change) error, log zerolog.Logger) *notifier {
	ctx, cancel := context.WithCancel(context.Background())
	n := &notifier{cfg: cfg, send: send, log: log, pending: map[recordKey]change{}, busy: map[recordKey]bool{},
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	n.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go func() {
			defer n.wg.Done()
			n.work()
		}()
	}
	return n
}

// enqueue queues ch, replacing a pending change of the same record. It never blocks.
func (n *notifier) enqueue(ch change) {
	k := recordKey{ch.kind, ch.id}
	n.mu.Lock()
	if _, ok := n.pending[k]; !ok {
		n.order = append(n.order, k)
	}
	n.pending[k] = ch
	if len(n.order) > n.cfg.MaxPending {
		drop := n.order[0]
		n.order = n.order[1:]
		delete(n.pending, drop)
		n.log.Warn().Str("kind", drop.kind).Stringer("id", drop.id).Msg("too many changes waiting: dropped one; replicas of it may stay stale")
	}
	n.mu.Unlock()
	n.signal()
}

func (n *notifier) signal() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest pending change whose record no worker is sending, and marks it busy.
func (n *notifier) next() (change, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i, k := range n.order {
		if n.busy[k] {
			continue
		}
		ch := n.pending[k]
		delete(n.pending, k)
		n.order = append(n.order[:i:i], n.order[i+1:]...)
		n.busy[k] = true
		if len(n.order) > 0 {
			n.signal() // more work for another worker
		}
		return ch, true
	}
	return change{}, false
}

func (n *notifier) work() {
	for {
		ch, ok := n.next()
		if !ok {
			select {
			case <-n.wake:
				continue
			case <-n.ctx.Done():
				return
			}
		}
		n.deliver(ch)
		n.mu.Lock()
		delete(n.busy, recordKey{ch.kind, ch.id})
		n.mu.Unlock()
		n.signal() // a newer change of this record may have waited for it
	}
}

// deliver tries ch up to Attempts times, and stops early when a newer change of the same record
// is queued (it will be sent instead), on a permanent error, or on shutdown.
func (n *notifier) deliver(ch change) {
	k := recordKey{ch.kind, ch.id}
	var err error
	for attempt := range n.cfg.Attempts {
		if attempt > 0 {
			t := time.NewTimer(n.backoff(attempt))
			select {
			case <-t.C:
			case <-n.ctx.Done():
				t.Stop()
				n.log.Warn().Err(err).Str("kind", ch.kind).Stringer("id", ch.id).Msg("shutting down: change not announced")
				return
			}
			n.mu.Lock()
			_, newer := n.pending[k]
			n.mu.Unlock()
			if newer {
				return
			}
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.Timeout)
		err = n.send(ctx, ch)
		cancel()
		if err == nil {
			return
		}
		n.log.Debug().Err(err).Int("attempt", attempt+1).Str("kind", ch.kind).Stringer("id", ch.id).Msg("announcing a change failed")
		if permanent(err) {
			break
		}
	}
	n.log.Warn().Err(err).Str("kind", ch.kind).Stringer("id", ch.id).Msg("change not announced: giving up; the write stands, replicas elsewhere may stay stale")
}

// backoff is the pause before attempt (1, 2, …): Backoff doubled per attempt, capped, with up to
// 50% random jitter added.
func (n *notifier) backoff(attempt int) time.Duration {
	d := n.cfg.Backoff << (attempt - 1)
	if d > n.cfg.MaxBackoff || d <= 0 {
		d = n.cfg.MaxBackoff
	}
	return d + rand.N(d/2+1)
}

// permanent reports an error that no retry can cure.
func permanent(err error) bool {
	return errors.Is(err, client.ErrOtherRegion) || errors.Is(err, overlay.ErrBadKind) || errors.Is(err, regions.ErrBadID)
}

// shutdown stops the workers and waits for them; changes still pending are logged as lost.
func (n *notifier) shutdown() {
	n.cancel()
	n.wg.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.order) > 0 {
		n.log.Warn().Int("changes", len(n.order)).Msg("shutting down: changes not announced")
	}
}
