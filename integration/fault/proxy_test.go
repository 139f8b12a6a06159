package fault

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeParent listens like a parent's leafnode port: it sends an INFO naming its own address in
// leafnode_urls, then echoes. It stops when the test ends.
func fakeParent(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_, _ = io.WriteString(c, `INFO {"server_id":"X","leafnode_urls":["`+ln.Addr().String()+`"],"max_payload":1048576}`+"\r\n")
				_, _ = io.Copy(c, c)
			})
		}
	})
	return ln.Addr().String()
}

// TestLeafProxy: the first INFO advertises the proxy instead of the parent, bytes pass both ways,
// a cut resets open connections at once and turns new ones away, and a heal lets them through.
func TestLeafProxy(t *testing.T) {
	parent := fakeParent(t)
	p, err := NewLeafProxy(parent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })

	dial := func() (net.Conn, *bufio.Reader, string) {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		info, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read INFO: %v", err)
		}
		return c, r, info
	}
	c, r, info := dial()
	if !strings.Contains(info, `"leafnode_urls":["`+p.Addr()+`"]`) || strings.Contains(info, parent) ||
		!strings.Contains(info, `"max_payload":1048576`) || !strings.HasSuffix(info, "\r\n") {
		t.Fatalf("INFO through the proxy: %q, want leafnode_urls [%s] and the rest kept", info, p.Addr())
	}
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		t.Fatal(err)
	}
	if echo, err := r.ReadString('\n'); err != nil || echo != "PING\r\n" {
		t.Fatalf("echo through the proxy: %q, %v", echo, err)
	}

	p.Cut()
	if _, err := r.ReadString('\n'); err == nil || errors.Is(err, io.ErrNoProgress) || isTimeout(err) {
		t.Fatalf("read after the cut: %v, want the connection reset", err)
	}
	c2, err := net.Dial("tcp", p.Addr())
	if err == nil {
		_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c2.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("a connection while cut was not reset: %v", err)
		}
		_ = c2.Close()
	}
	if s := p.Stats(); s.Refused < 1 || s.Active != 0 {
		t.Fatalf("stats while cut: %+v, want one refused and none active", s)
	}

	p.Heal()
	if _, _, info := dial(); !strings.Contains(info, p.Addr()) {
		t.Fatalf("INFO after the heal: %q", info)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
