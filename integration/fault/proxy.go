package fault

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LeafProxy is a TCP proxy on 127.0.0.1 for one NATS leafnode link, from a child region's node to
// its parent's leafnode port, that the test can cut and heal.
//
// It exists because a cut of integration/linkemu does not hold for daemons: the parent's first INFO
// advertises its own leafnode listener (leafnode_urls), the daemons do not set
// IgnoreDiscoveredServers (broker.Config.LeafIgnoreDiscovered has no flag), and so a child whose
// link is reset redials the parent's listener directly, around the proxy. LeafProxy rewrites
// leafnode_urls in every INFO the parent sends (on connect, and with the link's permissions after
// it) to its own address, as a parent behind a load balancer would advertise with nats-server's
// leafnodes.advertise; everything else passes unchanged. To find the INFO lines it frames the
// message payloads, so the link must be uncompressed (the daemons' default; no -compression).
//
// Cut resets every connection (SO_LINGER 0: both peers read ECONNRESET at once) and, until Heal,
// accepts new connections only to reset them, as linkemu does. Every goroutine belongs to the
// proxy's WaitGroup; Close waits for all of them.
type LeafProxy struct {
	target string
	ln     *net.TCPListener
	wg     sync.WaitGroup // the accept loop and both copy loops of every connection

	mu     sync.Mutex // guards conns, cut, closed
	conns  map[*net.TCPConn]struct{}
	cut    bool
	closed bool

	accepted, refused atomic.Int64
}

// ProxyStats counts what a LeafProxy did since it started.
type ProxyStats struct {
	Accepted int64 // connections proxied to the target
	Refused  int64 // connections reset because the proxy was cut (or the target did not answer)
	Active   int   // connections open now (each proxied connection counts its two sockets)
}

// NewLeafProxy starts a proxy to target ("host:port") and returns once it listens.
func NewLeafProxy(target string) (*LeafProxy, error) {
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("leaf proxy to %s: %w", target, err)
	}
	p := &LeafProxy{target: target, ln: ln, conns: map[*net.TCPConn]struct{}{}}
	p.wg.Go(p.acceptLoop)
	return p, nil
}

// Addr returns the address children dial, "127.0.0.1:port".
func (p *LeafProxy) Addr() string { return p.ln.Addr().String() }

// Cut resets every open connection and turns new ones away until Heal.
func (p *LeafProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		reset(c)
	}
}

// Heal lets new connections through again.
func (p *LeafProxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Stats returns the proxy's counters.
func (p *LeafProxy) Stats() ProxyStats {
	p.mu.Lock()
	active := len(p.conns)
	p.mu.Unlock()
	return ProxyStats{Accepted: p.accepted.Load(), Refused: p.refused.Load(), Active: active}
}

// Close stops listening, resets every connection and waits for the proxy's goroutines. It is
// idempotent.
func (p *LeafProxy) Close() error {
	p.mu.Lock()
	first := !p.closed
	p.closed = true
	for c := range p.conns {
		reset(c)
	}
	p.mu.Unlock()
	var err error
	if first {
		err = p.ln.Close()
	}
	p.wg.Wait()
	return err
}

func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

func (p *LeafProxy) acceptLoop() {
	for {
		c, err := p.ln.AcceptTCP()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		cut, closed := p.cut, p.closed
		p.mu.Unlock()
		if cut || closed {
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// dialTimeout bounds the dial to the local target.
const dialTimeout = 2 * time.Second

func (p *LeafProxy) serve(client *net.TCPConn) {
	t, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		p.refused.Add(1)
		reset(client)
		return
	}
	target := t.(*net.TCPConn)
	if !p.track(client, target) {
		reset(client)
		reset(target)
		return
	}
	p.accepted.Add(1)
	done := make(chan struct{}, 2)
	p.wg.Go(func() {
		_, _ = io.Copy(target, client)
		done <- struct{}{}
	})
	p.wg.Go(func() {
		_ = p.copyRewriting(client, target)
		done <- struct{}{}
	})
	<-done // one direction ended: end both, as a dropped link would
	p.untrack(client, target)
	reset(client)
	reset(target)
	<-done
}

// track registers a connection pair unless the proxy was cut or closed meanwhile.
func (p *LeafProxy) track(cs ...*net.TCPConn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.closed {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *LeafProxy) untrack(cs ...*net.TCPConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// copyRewriting copies the parent's side to the child, replacing leafnode_urls in every INFO line.
// It reads the protocol line by line and passes each message payload through whole (its size is
// the last field of LMSG and HMSG lines), so a payload is never taken for a protocol line.
func (p *LeafProxy) copyRewriting(dst io.Writer, src io.Reader) error {
	r := bufio.NewReaderSize(src, 64<<10)
	w := bufio.NewWriterSize(dst, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return err
		}
		if out, ok := rewriteInfo(line, p.Addr()); ok {
			line = out
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if n, ok := payloadSize(line); ok {
			if _, err := io.CopyN(w, r, n+2); err != nil { // the payload and its CRLF
				return err
			}
		}
		if r.Buffered() == 0 { // nothing more at hand: send what we have
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
}

// payloadSize returns the size of the payload that follows a message line (LMSG, HMSG, RMSG, MSG:
// the total size is the last field).
func payloadSize(line []byte) (int64, bool) {
	fields := bytes.Fields(line)
	if len(fields) < 3 {
		return 0, false
	}
	switch strings.ToUpper(string(fields[0])) {
	case "LMSG", "HMSG", "RMSG", "MSG":
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(string(fields[len(fields)-1]), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// errNotInfo says a line is not an INFO protocol line.
var errNotInfo = errors.New("not an INFO line")

// rewriteInfo returns an INFO line with leafnode_urls set to [addr] (only when it listed any), and
// false for any other line.
func rewriteInfo(line []byte, addr string) ([]byte, bool) {
	body, err := infoBody(line)
	if err != nil {
		return nil, false
	}
	var info map[string]json.RawMessage
	if json.Unmarshal(body, &info) != nil {
		return nil, false
	}
	if _, ok := info["leafnode_urls"]; !ok {
		return nil, false
	}
	info["leafnode_urls"], _ = json.Marshal([]string{addr})
	out, err := json.Marshal(info)
	if err != nil {
		return nil, false
	}
	return append(append([]byte("INFO "), out...), '\r', '\n'), true
}

func infoBody(line []byte) ([]byte, error) {
	const prefix = "INFO "
	if len(line) < len(prefix) || !bytes.EqualFold(line[:len(prefix)], []byte(prefix)) {
		return nil, errNotInfo
	}
	return bytes.TrimSpace(line[len(prefix):]), nil
}
