package linkemu

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// conn is one proxied TCP connection: the client socket the Link accepted, the socket it dialed to
// the target, and a pipe each way. Four goroutines serve it, a reader and a writer per pipe, all
// owned by the Link's WaitGroup. The last of them to exit closes both sockets and unregisters conn.
type conn struct {
	link    *Link
	client  *net.TCPConn
	server  *net.TCPConn
	ctx     context.Context // canceled by abort, or by the Link's Close
	cancel  context.CancelFunc
	aborted sync.Once
	running atomic.Int32 // goroutines still serving conn
}

func newConn(l *Link, client, server *net.TCPConn) *conn {
	ctx, cancel := context.WithCancel(l.ctx)
	return &conn{link: l, client: client, server: server, ctx: ctx, cancel: cancel}
}

// startLocked starts the four goroutines. l.mu is held, so a Cut or Close that follows sees conn.
func (c *conn) startLocked() {
	l := c.link
	up := newPipe(l, c.client, c.server, l.upLim, &l.bytesUp)
	down := newPipe(l, c.server, c.client, l.downLim, &l.bytesDown)
	steps := []func(context.Context) error{up.read, up.write, down.read, down.write}
	c.running.Store(int32(len(steps)))
	for _, step := range steps {
		l.wg.Go(func() {
			if err := step(c.ctx); err != nil && !errors.Is(err, io.EOF) {
				c.abort()
			}
			c.exit()
		})
	}
}

// abort drops the connection at once. Both sockets are reset (SO_LINGER 0), so each peer reads
// ECONNRESET rather than a clean EOF and unsent bytes are discarded, as a partition would lose them.
func (c *conn) abort() {
	c.aborted.Do(func() {
		c.cancel()
		reset(c.client)
		reset(c.server)
	})
}

// exit is called by each goroutine as it returns; the last one closes up.
func (c *conn) exit() {
	if c.running.Add(-1) > 0 {
		return
	}
	c.cancel()
	_ = c.client.Close() // both directions ended cleanly, or abort already closed it
	_ = c.server.Close()
	c.link.remove(c)
}
