package overlay

import (
	"sync"
	"time"

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

type replyEntry struct {
	subject string
	expires time.Time
}

func newReplyTable(ttl time.Duration) *replyTable {
	return &replyTable{ttl: ttl, entries: map[string]replyEntry{}}
}

// add stores subject and returns its token.
func (t *replyTable) add(subject string, now time.Time) string {
	token := nuid.Next()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries[token] = replyEntry{subject: subject, expires: now.Add(t.ttl)}
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

// get returns the subject stored under token, if it has not expired.
func (t *replyTable) get(token string, now time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[token]
	if !ok || now.After(e.expires) {
		return "", false
	}
	return e.subject, true
}

func (t *replyTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.entries)
}
