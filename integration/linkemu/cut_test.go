package linkemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// promptly is how soon a peer must notice a cut.
const promptly = 100 * time.Millisecond

// readErrWithin reads from c until an error and fails the test if the error is a timeout or
// arrives later than within after start. It returns how long after start the error came.
func readErrWithin(t *testing.T, c net.Conn, start time.Time, within time.Duration) time.Duration {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 512)
	var err error
	for err == nil {
		_, err = c.Read(buf)
	}
	if elapsed := time.Since(start); !isReset(err) || elapsed > within {
		t.Fatalf("read ended after %v with %v, want a reset or EOF within %v", elapsed, err, within)
	}
	return time.Since(start)
}

// expectTurnedAway dials addr and fails the test unless the connection is reset within promptly:
// either connect itself reports the reset, or the first read does.
func expectTurnedAway(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if elapsed := time.Since(start); elapsed > within {
			t.Fatalf("dial failed after %v, want within %v", elapsed, within)
		}
		return
	}
	defer c.Close()
	readErrWithin(t, c, start, within)
}

// TestCutAndHeal: a cut resets open connections at once on both sides, turns new ones away while
// it lasts, and after Heal new connections work again.
func TestCutAndHeal(t *testing.T) {
	serverSaw := make(chan time.Time, 1)
	target := startServer(t, func(c net.Conn) {
		echo(c)
		serverSaw <- time.Now()
	})
	l := newLink(t, target, Config{Delay: 20 * time.Millisecond})
	c := dial(t, l.Addr())
	pingRTTs(t, c, 1, time.Second)
	if _, err := c.Write([]byte("in flight when the link is cut")); err != nil {
		t.Fatal(err)
	}

	cutAt := time.Now()
	l.Cut()
	clientSaw := readErrWithin(t, c, cutAt, promptly)
	serverSawAfter := (<-serverSaw).Sub(cutAt)
	t.Logf("cut seen by the client after %v, by the target after %v", clientSaw, serverSawAfter)
	if serverSawAfter > promptly {
		t.Fatalf("target saw the cut after %v, want within %v", serverSawAfter, promptly)
	}
	checkFor(t, time.Second, 5*time.Millisecond, func() error {
		if s := l.Stats(); s.Active != 0 {
			return fmt.Errorf("Active = %d after cut, want 0", s.Active)
		}
		return nil
	})

	t.Run("new dials are turned away", func(t *testing.T) {
		expectTurnedAway(t, l.Addr(), promptly) // the listener accepts, then resets
		_, err := l.DialContext(context.Background(), "tcp", "ignored:1")
		if !errors.Is(err, ErrCut) {
			t.Fatalf("DialContext while cut = %v, want ErrCut", err)
		}
		checkFor(t, time.Second, 5*time.Millisecond, func() error {
			if s := l.Stats(); s.Refused != 2 || s.Conns != 1 {
				return fmt.Errorf("Refused = %d, Conns = %d, want 2 and 1", s.Refused, s.Conns)
			}
			return nil
		})
	})

	l.Heal()
	if l.IsCut() {
		t.Fatal("IsCut after Heal")
	}
	c3, err := l.Dial("tcp", "ignored:1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c3.Close() })
	expectRTT(t, c3, 5, 40*time.Millisecond)
}

// TestCloseResetsAndWaits: Close resets open connections, returns only when every goroutine has
// ended (goleak checks that at the end of the package), and may be called again.
func TestCloseResetsAndWaits(t *testing.T) {
	l, err := New(startServer(t, echo), Config{Delay: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, l.Addr())
	pingRTTs(t, c, 1, time.Second)
	closedAt := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	readErrWithin(t, c, closedAt, promptly)
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := l.Dial("tcp", ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial after Close = %v, want ErrClosed", err)
	}
}
