package overlay

import (
	"sync/atomic"
	"time"
)

// serviceMeter measures how long the relay takes to handle a message, on one message in
// serviceSample so the clock is read off the hot path: an exponentially weighted mean (1/8 per
// sample) and when it was last updated. The cost engine reports it as load; a relay that queues
// or stalls (SetSlowdown in the lab) is then routed around.
type serviceMeter struct {
	seq  atomic.Uint64
	mean atomic.Int64 // ns
	at   atomic.Int64 // unix ns of the last sample
}

const serviceSample = 16

// begin returns the start time when this message is one to time.
func (s *serviceMeter) begin() (time.Time, bool) {
	if s.seq.Add(1)%serviceSample != 1 {
		return time.Time{}, false
	}
	return time.Now(), true
}

// end records a timed message. Concurrent updates may lose one sample; the mean does not need it.
func (s *serviceMeter) end(start time.Time) {
	now := time.Now()
	d := int64(now.Sub(start))
	old := s.mean.Load()
	if old == 0 {
		s.mean.Store(d)
	} else {
		s.mean.Store(old + (d-old)/8)
	}
	s.at.Store(now.UnixNano())
}

// read returns the mean and when it was last updated (zero if never).
func (s *serviceMeter) read() (time.Duration, time.Time) {
	at := s.at.Load()
	if at == 0 {
		return 0, time.Time{}
	}
	return time.Duration(s.mean.Load()), time.Unix(0, at)
}
