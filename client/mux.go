package client

import (
	"context"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// mux is the client's own request/reply multiplexer: one wildcard inbox subscription, a channel per
// pending request. nats.go's Request turns every reply with a "Status: 503" header into
// ErrNoResponders and drops the message; FeDist's failure replies carry that header (so plain
// clients fail fast) and also say why in Fd-Status, which the client API needs to read.
type mux struct {
	nc     *nats.Conn
	prefix string // _INBOX.<nuid>.

	once sync.Once
	err  error
	sub  *nats.Subscription

	mu      sync.Mutex // guards pending
	pending map[string]chan *nats.Msg
}

func newMux(nc *nats.Conn) *mux {
	// A prefix of its own: the server sends its "no responders" status only to the first of the
	// connection's subscriptions that matches the reply, so sharing nats.go's response inbox would
	// hand that status to nats.go, which drops it.
	return &mux{nc: nc, prefix: nc.NewInbox() + ".", pending: map[string]chan *nats.Msg{}}
}

func (m *mux) start() error {
	m.once.Do(func() {
		m.sub, m.err = m.nc.Subscribe(m.prefix+"*", m.deliver)
		if m.err == nil {
			m.err = m.sub.SetPendingLimits(-1, 64<<20)
		}
	})
	return m.err
}

func (m *mux) deliver(msg *nats.Msg) {
	token := msg.Subject[len(m.prefix):]
	m.mu.Lock()
	ch := m.pending[token]
	delete(m.pending, token)
	m.mu.Unlock()
	if ch != nil {
		ch <- msg // buffered; each token is answered at most once
	}
}

// request publishes msg with a fresh reply subject and waits for the first reply or ctx.
func (m *mux) request(ctx context.Context, msg *nats.Msg) (*nats.Msg, error) {
	if err := m.start(); err != nil {
		return nil, err
	}
	token := nuid.Next()
	ch := make(chan *nats.Msg, 1)
	m.mu.Lock()
	m.pending[token] = ch
	m.mu.Unlock()
	msg.Reply = m.prefix + token
	if err := m.nc.PublishMsg(msg); err != nil {
		m.forget(token)
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		m.forget(token)
		return nil, ctx.Err()
	}
}

func (m *mux) forget(token string) {
	m.mu.Lock()
	delete(m.pending, token)
	m.mu.Unlock()
}
