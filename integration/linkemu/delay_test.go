package linkemu

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// rttTolerance is how far a measured median RTT may be from the configured one: 5% + 0.5 ms.
func rttTolerance(rtt time.Duration) time.Duration { return rtt/20 + 500*time.Microsecond }

// expectRTT pings over c, an echo connection, and requires the median round trip to be
// want ± rttTolerance(want), in one of 3 attempts.
func expectRTT(t *testing.T, c net.Conn, pings int, want time.Duration) {
	t.Helper()
	retry(t, 3, func() error {
		got := median(pingRTTs(t, c, pings, 2*want+time.Second))
		t.Logf("RTT %v: median of %d pings %v, error %v", want, pings, got, got-want)
		if diff := (got - want).Abs(); diff > rttTolerance(want) {
			return fmt.Errorf("median RTT %v, want %v ± %v", got, want, rttTolerance(want))
		}
		return nil
	})
}

// TestRTT measures round trips through a link to an echo server; the median must be 2*Delay.
func TestRTT(t *testing.T) {
	tests := []struct {
		rtt   time.Duration
		pings int
	}{
		{5 * time.Millisecond, 60},
		{50 * time.Millisecond, 20},
		{300 * time.Millisecond, 10},
	}
	for _, tt := range tests {
		t.Run(tt.rtt.String(), func(t *testing.T) {
			t.Parallel()
			l := newLink(t, startServer(t, echo), Config{Delay: tt.rtt / 2})
			expectRTT(t, dial(t, l.Addr()), tt.pings, tt.rtt)
		})
	}
}

// TestSetConfigChangesOpenConnection changes the delay under an open connection, up and down.
func TestSetConfigChangesOpenConnection(t *testing.T) {
	l := newLink(t, startServer(t, echo), Config{Delay: 5 * time.Millisecond})
	c := dial(t, l.Addr())
	expectRTT(t, c, 15, 10*time.Millisecond)

	if err := l.SetConfig(Config{Delay: 40 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	expectRTT(t, c, 7, 80*time.Millisecond)

	if err := l.SetRTT(4 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := l.Config().Delay; got != 2*time.Millisecond {
		t.Fatalf("SetRTT(4ms) left Delay %v, want 2ms", got)
	}
	expectRTT(t, c, 15, 4*time.Millisecond)

	if err := l.SetConfig(Config{Delay: time.Millisecond, Jitter: 2 * time.Millisecond}); err == nil {
		t.Fatal("SetConfig accepted Jitter > Delay")
	}
}

// TestJitterKeepsOrder streams numbered words through a jittery link and back: no round trip is
// shorter than 2*(Delay-Jitter), the median is within 2*(Delay ± Jitter), samples do spread, and
// the stream comes back in order. (Load on the machine can stretch single samples, so the upper
// bound is checked on the median.)
func TestJitterKeepsOrder(t *testing.T) {
	const delay, jitter = 10 * time.Millisecond, 8 * time.Millisecond
	l := newLink(t, startServer(t, echo), Config{Delay: delay, Jitter: jitter})

	c := dial(t, l.Addr())
	rtts := pingRTTs(t, c, 30, time.Second)
	lo, hi, mid := slices.Min(rtts), slices.Max(rtts), median(rtts)
	t.Logf("RTTs with Delay %v, Jitter %v: min %v, median %v, max %v", delay, jitter, lo, mid, hi)
	if lo < 2*(delay-jitter) || mid > 2*(delay+jitter) {
		t.Fatalf("RTT min %v, median %v; want min >= %v, median <= %v", lo, mid, 2*(delay-jitter), 2*(delay+jitter))
	}
	if hi-lo < 2*time.Millisecond {
		t.Fatalf("RTTs span only [%v, %v]; jitter had no effect", lo, hi)
	}

	const words = 20_000
	var sent bytes.Buffer
	for i := range words {
		sent.Write(binary.BigEndian.AppendUint32(nil, uint32(i)))
	}
	s := dial(t, l.Addr())
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; i < sent.Len(); i += 4 { // one small write per word, to make many chunks
			if _, err := s.Write(sent.Bytes()[i : i+4]); err != nil {
				t.Error(err)
				return
			}
		}
		_ = s.CloseWrite()
	})
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(s)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent.Bytes()) {
		t.Fatalf("stream came back reordered or short: %d of %d bytes", len(got), sent.Len())
	}
}
