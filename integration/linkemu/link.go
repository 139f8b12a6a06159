package linkemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

var (
	// ErrClosed is returned by a Link or Mesh that has been closed.
	ErrClosed = errors.New("link emulator closed")
	// ErrCut is returned by DialContext while the link is cut.
	ErrCut = errors.New("link is cut")
)

// dialTimeout bounds the proxy's dial to its target; the target is local, so this only trips when
// the target is wedged.
const dialTimeout = 5 * time.Second

// Link is one TCP proxy listening on 127.0.0.1 and forwarding every connection to a target address,
// with the delay, jitter and bandwidth of its Config applied in each direction. "Up" is client to
// target, "down" is target to client. All methods are safe for concurrent use.
type Link struct {
	target  string
	ln      *net.TCPListener
	cfg     atomic.Pointer[Config] // read per chunk; written under mu
	upLim   *rate.Limiter
	downLim *rate.Limiter

	ctx    context.Context // canceled by Close; parent of every conn's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // owns the accept loop, connection setup and every pipe goroutine

	mu     sync.Mutex // guards conns, cut, closed and writes to cfg
	conns  map[*conn]struct{}
	cut    bool
	closed bool

	closeOnce sync.Once
	closeErr  error

	bytesUp, bytesDown, nConns, refused, dialErrors atomic.Int64
}

// Stats counts what a Link has carried since New.
type Stats struct {
	BytesUp    int64 // bytes written to the target, over all connections
	BytesDown  int64 // bytes written back to clients, over all connections
	Conns      int64 // connections proxied to the target
	Active     int   // connections open now
	Refused    int64 // connection attempts turned away because the link was cut
	DialErrors int64 // accepted connections dropped because the target could not be dialed
}

// New starts a Link that forwards to target ("host:port") and returns once it is listening.
func New(target string, cfg Config) (*Link, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("linkemu: target %q: %w", target, err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("linkemu: link to %s: %w", target, err)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("linkemu: link to %s: %w", target, err)
	}
	l := &Link{
		target:  target,
		ln:      ln,
		upLim:   rate.NewLimiter(limitOf(cfg.Bandwidth), burstSize(cfg.Bandwidth)),
		downLim: rate.NewLimiter(limitOf(cfg.Bandwidth), burstSize(cfg.Bandwidth)),
		conns:   make(map[*conn]struct{}),
	}
	l.cfg.Store(&cfg)
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.wg.Go(l.acceptLoop)
	return l, nil
}

// Addr returns the address clients dial to go through the link, as "127.0.0.1:port".
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Target returns the address the link forwards to.
func (l *Link) Target() string { return l.target }

// Config returns the config in force.
func (l *Link) Config() Config { return *l.cfg.Load() }

// SetConfig replaces the config. Existing connections use it from their next chunk on; chunks
// already in the delay line keep their release times, and later chunks never overtake them.
func (l *Link) SetConfig(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("linkemu: link %s->%s: %w", l.Addr(), l.target, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.setConfigLocked(cfg)
	return nil
}

// SetRTT sets Delay to rtt/2, so a round trip over one connection through the link takes rtt.
// Jitter and Bandwidth are kept; it fails if Jitter would exceed the new Delay.
func (l *Link) SetRTT(rtt time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg := l.Config()
	cfg.Delay = rtt / 2
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("linkemu: link %s->%s: RTT %v: %w", l.Addr(), l.target, rtt, err)
	}
	l.setConfigLocked(cfg)
	return nil
}

func (l *Link) setConfigLocked(cfg Config) {
	l.cfg.Store(&cfg)
	for _, lim := range []*rate.Limiter{l.upLim, l.downLim} {
		lim.SetLimit(limitOf(cfg.Bandwidth))
		lim.SetBurst(burstSize(cfg.Bandwidth))
	}
}

// Cut resets every open connection at once and turns new ones away until Heal. A client that
// connects while the link is cut is accepted and reset immediately.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for c := range l.conns {
		c.abort()
	}
}

// Heal lets new connections through again. Connections reset by Cut stay gone.
func (l *Link) Heal() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = false
}

// IsCut reports whether the link is cut.
func (l *Link) IsCut() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// Stats returns the link's counters.
func (l *Link) Stats() Stats {
	l.mu.Lock()
	active := len(l.conns)
	l.mu.Unlock()
	return Stats{
		BytesUp:    l.bytesUp.Load(),
		BytesDown:  l.bytesDown.Load(),
		Conns:      l.nConns.Load(),
		Active:     active,
		Refused:    l.refused.Load(),
		DialErrors: l.dialErrors.Load(),
	}
}

// Close stops the listener, resets every connection and waits for all of the link's goroutines.
// It may be called more than once; every call waits and returns the first call's error.
func (l *Link) Close() error {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		for c := range l.conns {
			c.abort()
		}
		l.mu.Unlock()
		l.cancel()
		l.closeErr = l.ln.Close()
	})
	l.wg.Wait()
	return l.closeErr
}

func (l *Link) acceptLoop() {
	for {
		client, err := l.ln.AcceptTCP()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil { // e.g. EMFILE: back off rather than spin
			select {
			case <-l.ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		if l.IsCut() {
			l.refused.Add(1)
			reset(client)
			continue
		}
		l.wg.Go(func() { l.serve(client) })
	}
}

// serve dials the target for one accepted client and starts proxying.
func (l *Link) serve(client *net.TCPConn) {
	d := net.Dialer{Timeout: dialTimeout}
	sc, err := d.DialContext(l.ctx, "tcp", l.target)
	if err != nil {
		l.dialErrors.Add(1)
		reset(client)
		return
	}
	server := sc.(*net.TCPConn)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut || l.closed { // cut or closed while we dialed
		if l.cut {
			l.refused.Add(1)
		}
		reset(client)
		reset(server)
		return
	}
	c := newConn(l, client, server)
	l.conns[c] = struct{}{}
	l.nConns.Add(1)
	c.startLocked()
}

func (l *Link) remove(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

// reset closes s with SO_LINGER 0, so the peer reads ECONNRESET at once.
func reset(s *net.TCPConn) {
	_ = s.SetLinger(0) // best effort: the socket may already be gone
	_ = s.Close()
}

func limitOf(bandwidth int) rate.Limit {
	if bandwidth == 0 {
		return rate.Inf
	}
	return rate.Limit(bandwidth)
}
