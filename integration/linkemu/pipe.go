package linkemu

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// queueLen bounds the chunks in one direction's delay line. Bytes in flight per direction are at
// most queueLen*maxChunk (32 MiB), enough for 50 ms of delay at 600 MB/s.
const queueLen = 1024

// chunk is bytes read from one side, waiting in the delay line until release.
type chunk struct {
	data    []byte
	release time.Time
}

// pipe carries one direction of one proxied connection. read stamps each chunk and puts it on
// queue, the delay line; write takes it off and writes it at its release time. When src reaches
// EOF, read closes queue and write half-closes dst once the line is drained.
type pipe struct {
	link  *Link
	src   *net.TCPConn
	dst   *net.TCPConn
	lim   *rate.Limiter // the Link's limiter for this direction, shared with its other connections
	count *atomic.Int64 // the Link's byte counter for this direction
	queue chan chunk
}

func newPipe(l *Link, src, dst *net.TCPConn, lim *rate.Limiter, count *atomic.Int64) *pipe {
	return &pipe{link: l, src: src, dst: dst, lim: lim, count: count, queue: make(chan chunk, queueLen)}
}

// read runs until src ends or ctx is done. It returns io.EOF after a clean half-close by src.
func (p *pipe) read(ctx context.Context) error {
	defer close(p.queue)
	buf := make([]byte, maxChunk)
	var prev time.Time
	for {
		n, err := p.src.Read(buf[:chunkSize(p.link.Config().Bandwidth)])
		if n > 0 {
			if werr := waitN(ctx, p.lim, n); werr != nil {
				return werr
			}
			cfg := p.link.Config() // the delay in force when the chunk enters the line
			c := chunk{data: bytes.Clone(buf[:n])}
			c.release = releaseAt(time.Now(), prev, cfg.Delay, cfg.Jitter, rand.Float64())
			prev = c.release
			select {
			case p.queue <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err != nil {
			return err
		}
	}
}

// write runs until the delay line is drained and closed, or ctx is done.
func (p *pipe) write(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var c chunk
		var ok bool
		select {
		case c, ok = <-p.queue:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return p.dst.CloseWrite()
		}
		// A chunk alone in the line (request/response traffic) is released precisely. One with
		// others queued behind it (bulk traffic) is released on the timer alone: it may leave
		// ~1 ms late, but the chunks behind it are then due and follow at once, so throughput is
		// unaffected and no CPU is spent spinning.
		if !sleepUntil(ctx, timer, c.release, len(p.queue) == 0) {
			return ctx.Err()
		}
		n, err := p.dst.Write(c.data)
		p.count.Add(int64(n))
		if err != nil {
			return err
		}
	}
}

// waitN takes n tokens from lim in pieces no larger than its burst. A chunk never exceeds the
// burst, but SetConfig may have lowered the burst since the read that produced it.
func waitN(ctx context.Context, lim *rate.Limiter, n int) error {
	if lim.Limit() == rate.Inf {
		return nil
	}
	for n > 0 {
		k := min(n, lim.Burst())
		if err := lim.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
