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

// transfer is what a receiver saw of one bulk transfer.
type transfer struct {
	bytes int64
	rate  float64 // bytes/s after the warm-up, from the read that ended it to the last read
	err   error
}

// warmup is how many bytes a receiver takes before it starts the clock, so that neither the link's
// delay nor the token bucket's initial credit (burstSize, 100 KB at 2 MB/s) counts.
const warmup = 256 << 10

// receive reads c to EOF and measures the rate at which bytes arrived after the warm-up.
func receive(c net.Conn) transfer {
	buf := make([]byte, 64<<10)
	var tr transfer
	var start, last time.Time
	var startN int64
	for {
		n, err := c.Read(buf)
		if n > 0 {
			last = time.Now()
			tr.bytes += int64(n)
			if start.IsZero() && tr.bytes >= warmup {
				start, startN = last, tr.bytes
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			tr.err = err
			return tr
		}
	}
	if d := last.Sub(start); !start.IsZero() && d > 0 {
		tr.rate = float64(tr.bytes-startN) / d.Seconds()
	}
	return tr
}

// send writes n bytes to c and half-closes it.
func send(c *net.TCPConn, n int) error {
	block := bytes.Repeat([]byte("linkemu!"), 8<<10) // 64 KiB
	for n > 0 {
		k, err := c.Write(block[:min(n, len(block))])
		if err != nil {
			return err
		}
		n -= k
	}
	return c.CloseWrite()
}

// exchange sends n bytes each way at once over a new connection through a new link with cfg: the
// client and the server behind the link each send and receive. It returns what arrived up (at the
// server) and down (at the client).
func exchange(t *testing.T, n int, cfg Config) (up, down transfer) {
	t.Helper()
	ups := make(chan transfer, 1)
	target := startServer(t, func(c net.Conn) {
		var wg sync.WaitGroup
		wg.Go(func() { _ = send(c.(*net.TCPConn), n) })
		ups <- receive(c)
		wg.Wait()
	})
	l := newLink(t, target, cfg)
	c := dial(t, l.Addr())
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := send(c, n); err != nil {
			t.Error(err)
		}
	})
	down = receive(c)
	wg.Wait()
	up = <-ups
	for name, tr := range map[string]transfer{"up": up, "down": down} {
		if tr.err != nil || tr.bytes != int64(n) {
			t.Fatalf("%s: got %d of %d bytes, err %v", name, tr.bytes, n, tr.err)
		}
	}
	return up, down
}

// TestBandwidth sends 4.25 MB each way at once through a 2 MB/s link: after the warm-up, each
// direction runs at 2 MB/s ± 10% for about 2 s, independently of the other.
func TestBandwidth(t *testing.T) {
	const limit = 2_000_000
	retry(t, 3, func() error {
		up, down := exchange(t, 2*limit+warmup, Config{Bandwidth: limit})
		var errs []error
		for name, tr := range map[string]transfer{"up": up, "down": down} {
			t.Logf("%s: %.3f MB/s, limit %.3f MB/s, error %+.2f%%", name, tr.rate/1e6, limit/1e6,
				100*(tr.rate-limit)/limit)
			if tr.rate < 0.9*limit || tr.rate > 1.1*limit {
				errs = append(errs, fmt.Errorf("%s: %.0f B/s, want %d ± 10%%", name, tr.rate, limit))
			}
		}
		return errors.Join(errs...)
	})
}

// TestDelayDoesNotLimitThroughput pushes 16 MiB each way through a link with 50 ms of one-way
// delay. A sleep per 32 KiB read would carry 0.64 MB/s; the delay line must carry far more.
func TestDelayDoesNotLimitThroughput(t *testing.T) {
	const floor = 5e6 // B/s, 8 times what a sleep per read could carry
	retry(t, 3, func() error {
		up, down := exchange(t, 16<<20, Config{Delay: 50 * time.Millisecond})
		var errs []error
		for name, tr := range map[string]transfer{"up": up, "down": down} {
			t.Logf("%s: %.1f MB/s through 50 ms of delay", name, tr.rate/1e6)
			if tr.rate < floor {
				errs = append(errs, fmt.Errorf("%s: %.1f MB/s, want at least %.0f MB/s", name, tr.rate/1e6, floor/1e6))
			}
		}
		return errors.Join(errs...)
	})
}
