package linkemu

import (
	"errors"
	"fmt"
	"time"
)

// ErrBadConfig is returned by Validate, New and SetConfig for a Config that cannot be applied.
var ErrBadConfig = errors.New("invalid link config")

// Config shapes one Link. Delay, Jitter and Bandwidth apply to each direction separately.
type Config struct {
	// Delay is the one-way delay added in each direction. A chunk read from one side at time t is
	// written to the other side at t + Delay (± Jitter). The delay line is pipelined, so Delay adds
	// latency but does not limit throughput. RTT over one connection through the Link = 2*Delay.
	Delay time.Duration
	// Jitter spreads each chunk's delay uniformly over [Delay-Jitter, Delay+Jitter]. A chunk is
	// never released before the chunk read ahead of it, so jitter never reorders bytes. It must not
	// exceed Delay.
	Jitter time.Duration
	// Bandwidth caps each direction at this many bytes per second, shared by all connections
	// through the Link. 0 means unlimited. Reads are at most chunkSize(Bandwidth) bytes, 1/100 of a
	// second's worth clamped to [256 B, 32 KiB]. The token bucket holds burstSize(Bandwidth), 1/20
	// of a second's worth and never less than a chunk, so a proxy goroutine held up by a busy CPU
	// catches up instead of losing bandwidth; an idle link may send up to that much at once.
	Bandwidth int
}

// DefaultConfig returns a transparent link: the proxy adds nothing but its own overhead.
func DefaultConfig() Config {
	return Config{
		Delay:     0, // tests set the delay they mean to measure
		Jitter:    0, // steady timing unless a test asks for noise
		Bandwidth: 0, // unlimited; loopback runs at GB/s
	}
}

// DefaultWANConfig returns a link like one between two regions on one continent.
func DefaultWANConfig() Config {
	return Config{
		Delay:     25 * time.Millisecond, // 50 ms RTT, e.g. Frankfurt to Madrid and back
		Jitter:    time.Millisecond,      // a quiet backbone varies by about a millisecond
		Bandwidth: 12_500_000,            // 100 Mbit/s, a modest inter-region pipe
	}
}

// Validate reports the first field of c that cannot be applied, wrapping ErrBadConfig.
func (c Config) Validate() error {
	switch {
	case c.Delay < 0:
		return fmt.Errorf("%w: Delay %v is negative", ErrBadConfig, c.Delay)
	case c.Jitter < 0:
		return fmt.Errorf("%w: Jitter %v is negative", ErrBadConfig, c.Jitter)
	case c.Jitter > c.Delay:
		return fmt.Errorf("%w: Jitter %v exceeds Delay %v; a chunk cannot leave before it arrives",
			ErrBadConfig, c.Jitter, c.Delay)
	case c.Bandwidth < 0:
		return fmt.Errorf("%w: Bandwidth %d B/s is negative; use 0 for unlimited", ErrBadConfig, c.Bandwidth)
	}
	return nil
}

const (
	maxChunk = 32 << 10 // largest read, and the size of each pipe's read buffer
	minChunk = 256      // smallest read under a tight bandwidth cap, so tiny caps still make progress
)

// chunkSize returns the largest read for a direction capped at bandwidth bytes/s. It never exceeds
// the token bucket's burst, so a chunk never asks the limiter for more than it can grant at once.
func chunkSize(bandwidth int) int {
	if bandwidth == 0 {
		return maxChunk
	}
	return min(max(bandwidth/100, minChunk), maxChunk)
}

// burstSize returns the token bucket size for a direction capped at bandwidth bytes/s: 50 ms of
// credit, and at least one chunk.
func burstSize(bandwidth int) int {
	return max(bandwidth/20, chunkSize(bandwidth))
}
