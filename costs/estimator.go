package costs

import (
	"fmt"
	"time"
)

// Estimator turns the four timestamps of timed exchanges over one link into a round-trip time and a
// clock offset, the way NTP's clock filter does: it keeps the last Config.Window accepted samples,
// forgets those older than Config.SampleTTL, and reports the sample of least delay among the rest.
// The least-delay sample is the one that waited least in queues, so its offset is also the least
// distorted: a sample whose outbound and return paths differ by a is off by exactly a/2.
//
// Impossible samples (a zero timestamp, an answer before its request, a peer that answered before
// it received, a delay that is not positive or above Config.MaxRTT) are rejected with an error
// wrapping ErrImpossible and leave the window untouched.
//
// An Estimator never reads the clock: every call that depends on age takes now. It is not safe for
// concurrent use.
type Estimator struct {
	window int
	maxRTT time.Duration
	ttl    time.Duration

	samples []timedSample // oldest first, at most window long
}

// timedSample is one accepted exchange and the time it was added.
type timedSample struct {
	at     time.Time
	delay  time.Duration
	offset time.Duration
}

// NewEstimator returns an empty estimator tuned by cfg.Window, cfg.MaxRTT and cfg.SampleTTL.
// cfg must have passed Validate.
func NewEstimator(cfg *Config) *Estimator {
	return &Estimator{
		window:  cfg.Window,
		maxRTT:  cfg.MaxRTT,
		ttl:     cfg.SampleTTL,
		samples: make([]timedSample, 0, cfg.Window),
	}
}

// checkStamps returns nil when s could be a real exchange no longer than maxRTT, or an error wrapping
// ErrImpossible that says what is wrong with it.
func checkStamps(s Stamps, maxRTT time.Duration) error {
	for i, t := range [...]time.Time{s.T1, s.T2, s.T3, s.T4} {
		if t.IsZero() {
			return fmt.Errorf("%w: T%d is zero", ErrImpossible, i+1)
		}
	}
	switch {
	case s.T4.Before(s.T1):
		return fmt.Errorf("%w: answer arrived (T4) %v before the request left (T1)", ErrImpossible, s.T1.Sub(s.T4))
	case s.T3.Before(s.T2):
		return fmt.Errorf("%w: peer answered (T3) %v before it received the request (T2)", ErrImpossible, s.T2.Sub(s.T3))
	}
	switch d := s.Delay(); {
	case d <= 0:
		return fmt.Errorf("%w: delay %v is not positive (peer held the request %v, round trip took %v)",
			ErrImpossible, d, s.T3.Sub(s.T2), s.T4.Sub(s.T1))
	case d > maxRTT:
		return fmt.Errorf("%w: delay %v exceeds MaxRTT %v", ErrImpossible, d, maxRTT)
	}
	return nil
}

// Add records one exchange answered at now. It drops samples older than SampleTTL and, once the
// window is full, the oldest sample. An impossible sample is returned as an error wrapping
// ErrImpossible and not recorded.
func (e *Estimator) Add(s Stamps, now time.Time) error {
	if err := checkStamps(s, e.maxRTT); err != nil {
		return err
	}
	e.expire(now)
	if len(e.samples) == e.window {
		copy(e.samples, e.samples[1:])
		e.samples = e.samples[:len(e.samples)-1]
	}
	e.samples = append(e.samples, timedSample{at: now, delay: s.Delay(), offset: s.Offset()})
	return nil
}

// RTT returns the least delay among the samples not older than SampleTTL at now, and false when
// there is none.
func (e *Estimator) RTT(now time.Time) (time.Duration, bool) {
	best, ok := e.best(now)
	return best.delay, ok
}

// Offset returns how far the peer's clock is ahead of ours, taken from the same sample as RTT, and
// false when there is none.
func (e *Estimator) Offset(now time.Time) (time.Duration, bool) {
	best, ok := e.best(now)
	return best.offset, ok
}

// Samples returns how many samples the window holds, including any that expired since the last
// Add (RTT and Offset skip those).
func (e *Estimator) Samples() int { return len(e.samples) }

// best returns the live sample of least delay; among equal delays, the newest.
func (e *Estimator) best(now time.Time) (timedSample, bool) {
	var best timedSample
	found := false
	for _, s := range e.samples {
		if e.expired(s, now) {
			continue
		}
		if !found || s.delay <= best.delay {
			best, found = s, true
		}
	}
	return best, found
}

// expire drops the samples older than SampleTTL at now.
func (e *Estimator) expire(now time.Time) {
	kept := e.samples[:0]
	for _, s := range e.samples {
		if !e.expired(s, now) {
			kept = append(kept, s)
		}
	}
	e.samples = kept
}

// expired says whether s is older than SampleTTL at now.
func (e *Estimator) expired(s timedSample, now time.Time) bool { return now.Sub(s.at) > e.ttl }
