package linkemu

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// TestStatsAndHalfClose runs two echo sessions that half-close: each gets all its bytes back,
// then the counters show the bytes each way, two connections and none left open.
func TestStatsAndHalfClose(t *testing.T) {
	l := newLink(t, startServer(t, echo), Config{Delay: time.Millisecond})
	sizes := []int{1000, 100_000}
	for _, n := range sizes {
		c := dial(t, l.Addr())
		msg := bytes.Repeat([]byte{'x'}, n)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = c.Write(msg); _ = c.CloseWrite() })
		got, err := io.ReadAll(c)
		wg.Wait()
		if err != nil || len(got) != n {
			t.Fatalf("echo of %d bytes: got %d, err %v", n, len(got), err)
		}
		c.Close()
	}
	want := int64(sizes[0] + sizes[1])
	checkFor(t, 2*time.Second, 5*time.Millisecond, func() error {
		s := l.Stats()
		if s.BytesUp != want || s.BytesDown != want || s.Conns != 2 || s.Active != 0 {
			return fmt.Errorf("stats %+v, want %d bytes each way, 2 conns, 0 active", s, want)
		}
		if s.Refused != 0 || s.DialErrors != 0 {
			return fmt.Errorf("stats %+v, want no refusals or dial errors", s)
		}
		return nil
	})
}

// TestTargetDown: when the target refuses, the client is reset and DialErrors counts it.
func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := ln.Addr().String()
	ln.Close() // nothing listens here now
	l := newLink(t, target, DefaultConfig())
	expectTurnedAway(t, l.Addr(), time.Second)
	checkFor(t, time.Second, 5*time.Millisecond, func() error {
		if s := l.Stats(); s.DialErrors != 1 || s.Conns != 0 {
			return fmt.Errorf("stats %+v, want 1 dial error, 0 conns", s)
		}
		return nil
	})
}

func TestNewRejects(t *testing.T) {
	if _, err := New("no-port", DefaultConfig()); err == nil {
		t.Error("New accepted a target without a port")
	}
	if _, err := New("127.0.0.1:1", Config{Delay: -1}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("New with negative delay = %v, want ErrBadConfig", err)
	}
	l := newLink(t, "127.0.0.1:1", DefaultConfig())
	if _, err := l.DialContext(t.Context(), "udp", "x:1"); !errors.Is(err, ErrNetwork) {
		t.Errorf("DialContext udp = %v, want ErrNetwork", err)
	}
}
