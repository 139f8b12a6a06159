package overlay

import (
	"sync"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// replyTable remembers the reply subjects a relay wrapped, under random tokens. An answer is
// forwarded only to a subject in the table, so a client cannot use the relay's full permissions to
// publish where it may not (fdr.<…>.fdc.root.leave would otherwise reach the root as the relay).
// Entries live for ttl, long enough for any request's timeout; several answers to one request (a
// scatter-gather reply) all pass while the entry lives.
type replyTable struct {
	ttl time.Duration

	mu      sync.Mutex // guards entries, swept
	entries map[string]replyEntry
	swept   time.Time
}

// replyEntry is one wrapped request.
type replyEntry struct {
	subject string     // where its answers go
	back    *nats.Conn // the shortcut to answer on, for a request that came over one; nil: the node's own
	expires time.Time
	// Timing (see Engine): peer and t1 when this relay timed the exchange with the next relay;
	// arrived when the previous relay timed it with us (we answer with T2 = arrived, T3 = now).
	peer    regions.RegionID
	t1      time.Time
	arrived time.Time
	// A lookup of this region's client (Replicas): its kind, ID, and when it was sent on.
	kind  string
	id    regions.ID
	asked time.Time
}

func newReplyTable(ttl time.Duration) *replyTable {
	return &replyTable{ttl: ttl, entries: map[string]replyEntry{}}
}

// add stores e and returns its token.
func (t *replyTable) add(e replyEntry, now time.Time) string {
	token := nuid.Next()
	e.expires = now.Add(t.ttl)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries[token] = e
	if now.Sub(t.swept) > t.ttl {
		for k, e := range t.entries {
			if now.After(e.expires) {
				delete(t.entries, k)
			}
		}
		t.swept = now
	}
	return token
}

// get returns the entry stored under token, if it has not expired.
func (t *replyTable) get(token string, now time.Time) (replyEntry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[token]
	if !ok || now.After(e.expires) {
		return replyEntry{}, false
	}
	if e.kind != "" {
		// A lookup's later answers still pass to the caller, but only the first is shown to the
		// replicas: whoever learnt the token cannot overwrite a value after the genuine answer.
		t.entries[token] = replyEntry{subject: e.subject, back: e.back, expires: e.expires}
	}
	return e, true
}

func (t *replyTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
