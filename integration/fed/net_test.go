package fed

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/linkemu"
	"github.com/fedist/fedist/integration/topo"
)

// echoServer answers every byte with itself until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex // guards conns
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(c, c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echoRTT returns the fastest of a few one-byte round trips over c.
func echoRTT(t *testing.T, c net.Conn) time.Duration {
	t.Helper()
	best := time.Hour
	buf := []byte{1}
	for range 3 {
		start := time.Now()
		if _, err := c.Write(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}

func TestNet(t *testing.T) {
	top := smallTopo(t)
	n, err := NewNet(top, linkemu.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	target := echoServer(t)
	ctx := context.Background()

	// A cut made before any link exists holds for the links created later.
	if err := n.Cut(bID, a1ID); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Dial(ctx, a1ID, bID, "tcp", target); !errors.Is(err, linkemu.ErrCut) {
		t.Fatalf("dial over a cut pair: %v, want ErrCut", err)
	}
	if err := n.Heal(a1ID, bID); err != nil {
		t.Fatal(err)
	}
	c, err := n.Dialer(a1ID, bID).Dial("tcp", target)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if rtt := echoRTT(t, c); rtt < 3*time.Millisecond {
		t.Fatalf("RTT over the 3 ms A1-B link: %v", rtt)
	}
	// SetRTT reaches the open connection, and only the pair's links.
	if err := n.SetRTT(bID, a1ID, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if rtt := echoRTT(t, c); rtt < 20*time.Millisecond {
		t.Fatalf("RTT after SetRTT(20ms): %v", rtt)
	}
	if d, _ := n.RTT(aID, rootID); d != 4*time.Millisecond {
		t.Fatalf("RTT(a, root) = %v, want the matrix's 4 ms", d)
	}
	// Each direction and each target gets its own link; the pair's state covers them all.
	addr1, _ := n.Addr(a1ID, bID, target)
	addr2, _ := n.Addr(bID, a1ID, target)
	if addr1 == addr2 || len(n.LinkAddrs(a1ID, bID)) != 1 || len(n.LinkAddrs(bID, a1ID)) != 1 {
		t.Fatalf("links %s and %s; from A1 %v, from B %v", addr1, addr2, n.LinkAddrs(a1ID, bID), n.LinkAddrs(bID, a1ID))
	}
	if _, err := n.Dial(ctx, aID, aID, "tcp", target); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("dial to itself: %v", err)
	}
}

// TestNotAllowed uses a tree-only topology: regions that are not parent and child get no link.
func TestNotAllowed(t *testing.T) {
	n, err := NewNet(smallTopoLinks(t, &topo.Links{}, 1), linkemu.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Addr(a1ID, bID, "127.0.0.1:1"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("A1-B in a tree-only topology: %v, want ErrNotAllowed", err)
	}
	if err := n.Cut(a1ID, bID); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Cut(A1, B): %v, want ErrNotAllowed", err)
	}
	if _, err := n.Addr(a1ID, aID, "127.0.0.1:1"); err != nil {
		t.Fatalf("tree link A1-A: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Link(aID, rootID, "127.0.0.1:1"); !errors.Is(err, linkemu.ErrClosed) {
		t.Fatalf("Link after Close: %v", err)
	}
}
