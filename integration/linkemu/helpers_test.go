package linkemu

import (
	"errors"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// checkFor calls f every step until it returns nil, and fails the test with f's last error if
// that has not happened within total.
func checkFor(tb testing.TB, total, step time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(step)
	}
}

// retry runs measure up to attempts times until it returns nil, logging each miss, and fails the
// test with the last error. It is for timing measurements on a shared machine, where other load can
// only make a result worse (a descheduled goroutine adds delay and removes throughput, never the
// reverse), so one clean attempt out of a few shows the emulator meets its tolerance.
func retry(tb testing.TB, attempts int, measure func() error) {
	tb.Helper()
	var err error
	for i := range attempts {
		if err = measure(); err == nil {
			return
		}
		tb.Logf("attempt %d of %d: %v", i+1, attempts, err)
	}
	tb.Fatal(err)
}

// testServer is a TCP server on 127.0.0.1 that runs handle for each connection. Cleanup closes
// the listener and every connection and waits for all goroutines.
type testServer struct {
	ln     net.Listener
	wg     sync.WaitGroup // owns the accept loop and one goroutine per connection
	mu     sync.Mutex     // guards conns, closed
	conns  map[net.Conn]struct{}
	closed bool
}

// startServer starts a testServer and returns its address.
func startServer(tb testing.TB, handle func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &testServer{ln: ln, conns: make(map[net.Conn]struct{})}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !s.track(c) {
				return
			}
			s.wg.Go(func() {
				defer s.untrack(c)
				handle(c)
			})
		}
	})
	tb.Cleanup(s.close)
	return ln.Addr().String()
}

func (s *testServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		c.Close()
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *testServer) untrack(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	c.Close()
}

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// echo writes back what it reads until the client half-closes.
func echo(c net.Conn) {
	_, _ = io.Copy(c, c)
	_ = c.(*net.TCPConn).CloseWrite()
}

// newLink starts a Link to target and closes it at cleanup.
func newLink(tb testing.TB, target string, cfg Config) *Link {
	tb.Helper()
	l, err := New(target, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Error(err)
		}
	})
	return l
}

// dial connects to addr and closes the connection at cleanup.
func dial(tb testing.TB, addr string) *net.TCPConn {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// pingRTTs sends n 16-byte pings over c, an echo connection, one at a time, and returns each
// round trip. Each ping must come back within timeout.
func pingRTTs(tb testing.TB, c net.Conn, n int, timeout time.Duration) []time.Duration {
	tb.Helper()
	msg := []byte("ping-0123456789a")
	got := make([]byte, len(msg))
	rtts := make([]time.Duration, 0, n)
	for range n {
		_ = c.SetDeadline(time.Now().Add(timeout))
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			tb.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			tb.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0))
	}
	_ = c.SetDeadline(time.Time{})
	return rtts
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// isReset reports whether err is what a reader sees when the link resets its connection.
func isReset(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}
