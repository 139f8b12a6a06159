package costs

import (
	"fmt"
	"time"

	"github.com/fedist/fedist/regions"
)

// Link is one region's view of one of its links: an Estimator fed by the link's timed exchanges,
// when the link needs a probe, what it carried, its connection setup cost and whether it is up.
//
// Traffic. Carried counts an untimed message; Sent counts a timed exchange going out, either a
// request that carries traffic (and its timestamps) or a probe; Answered feeds the answer's four
// timestamps to the estimator. Answers are not matched to requests: an answer of any kind proves
// the link works, so it clears every outstanding request and probe. A request still in flight
// then goes untracked; if it is lost, the idle rule below probes the link after ProbeIdle.
//
// Probing. NeedProbe is true when
//   - the latest probe has been outstanding longer than the down bound (so a down link is asked
//     again once per bound until it answers);
//   - a timed request has been outstanding longer than half the down bound (a probe then decides,
//     so a busy link that stops answering is down about 1.5 bounds after its last answer);
//   - there is no RTT (none yet, or every sample expired), no timed request is outstanding (its
//     answer brings a sample), and no probe was answered within ProbeIdle (so a peer whose samples
//     are all rejected is probed once per ProbeIdle, not at every tick);
//   - no answer came within Config.ProbeIdle and no request is outstanding.
//
// It is never true while the latest probe is outstanding and within the down bound. A link that
// sees at least one timed exchange answered per ProbeIdle therefore never needs a probe.
//
// Outage. Only an outstanding probe decides: a link whose oldest unanswered probe is older than the
// down bound, max(Config.DownMin, Config.DownRTTs × RTT), is down. RTT is the estimator's, or the
// last one it reported if its samples have expired, or none (the bound is DownMin) if it never had
// one. An answer of any kind brings the link up, even one whose sample is rejected. Until its first
// answer the link is unknown: Up is false, but it never goes down, so a link that never worked
// produces no down transition. CheckDown applies the rule; it is the only place a link goes down.
//
// Setup. SetSetup takes the time a connection took to set up (dial, TLS and NATS handshake); the
// setup cost is that minus one RTT, the part a message on the open link does not pay. Until the
// link has an RTT the raw dial time stands; it is never negative.
//
// A Link never reads the clock: every call takes now. It is not safe for concurrent use; the node
// serialises calls.
type Link struct {
	peer regions.RegionID
	kind Kind
	cfg  *Config
	est  *Estimator

	state    linkState
	reported bool // Up as CheckDown last returned it

	lastRTT time.Duration // the estimator's RTT after the last accepted sample; outlives expiry
	dial    time.Duration // raw setup time from SetSetup

	lastTraffic     time.Time // last message carried or timed request sent
	lastAnswer      time.Time // last answer of any kind; zero until the first
	lastProbeAnswer time.Time // last answer to a probe
	reqSince        time.Time // first timed request sent since the last answer; zero if none
	probeOldest     time.Time // oldest unanswered probe; zero if none
	probeLast       time.Time // newest unanswered probe; zero if none

	msgs, samples, probesBusy, probesIdle, probesStall, rejected uint64
}

// linkState is unknown until the first answer, then up or down.
type linkState uint8

const (
	linkUnknown linkState = iota
	linkUp
	linkDown
)

// NewLink returns the state of a new, unknown link to peer. cfg must have passed Validate and must
// not change while the link is in use.
func NewLink(peer regions.RegionID, kind Kind, cfg *Config) *Link {
	return &Link{peer: peer, kind: kind, cfg: cfg, est: NewEstimator(cfg)}
}

// Carried counts one untimed message that crossed the link at now.
func (l *Link) Carried(now time.Time) {
	l.msgs++
	l.lastTraffic = now
}

// Sent records a timed exchange that left at now: a probe, or a request that carries traffic.
// The caller sends a probe only when NeedProbe says so.
func (l *Link) Sent(now time.Time, probe bool) {
	if !probe {
		l.msgs++
		l.lastTraffic = now
		if l.reqSince.IsZero() {
			l.reqSince = now
		}
		return
	}
	switch {
	case !l.reqSince.IsZero() && now.Sub(l.reqSince) > l.downBound(now)/2:
		l.probesStall++ // an outage check: traffic went unanswered past half the bound
	case !l.lastTraffic.IsZero() && now.Sub(l.lastTraffic) <= l.cfg.ProbeIdle:
		l.probesBusy++
	default:
		l.probesIdle++
	}
	if l.probeOldest.IsZero() {
		l.probeOldest = now
	}
	l.probeLast = now
}

// Answered records the answer to a timed exchange (a probe if probe) that arrived at now. The
// sample goes to the estimator; an impossible one is counted as rejected and returned as an error
// wrapping ErrImpossible. Either way the link is up.
func (l *Link) Answered(s Stamps, probe bool, now time.Time) error {
	err := l.est.Add(s, now)
	switch {
	case err != nil:
		l.rejected++
		err = fmt.Errorf("link to %v (%v): %w", l.peer, l.kind, err)
	case !probe:
		l.samples++
	}
	if rtt, ok := l.est.RTT(now); ok {
		l.lastRTT = rtt
	}
	l.lastAnswer = now
	if probe {
		l.lastProbeAnswer = now
	}
	l.reqSince, l.probeOldest, l.probeLast = time.Time{}, time.Time{}, time.Time{}
	l.state = linkUp
	return err
}

// NeedProbe says whether the caller should probe the link now (rules in the Link doc); after
// sending the probe it calls Sent(now, true).
func (l *Link) NeedProbe(now time.Time) bool {
	bound := l.downBound(now)
	if !l.probeLast.IsZero() {
		return now.Sub(l.probeLast) > bound
	}
	if !l.reqSince.IsZero() && now.Sub(l.reqSince) > bound/2 {
		return true
	}
	if _, ok := l.est.RTT(now); !ok {
		if !l.reqSince.IsZero() {
			return false // a timed request is out: its answer brings the first sample
		}
		return l.lastProbeAnswer.IsZero() || now.Sub(l.lastProbeAnswer) > l.cfg.ProbeIdle
	}
	idle := now.Sub(l.lastAnswer) > l.cfg.ProbeIdle // lastAnswer is set: there is an RTT
	return idle && l.reqSince.IsZero()
}

// CheckDown marks an up link down when its oldest unanswered probe is older than the down bound at
// now, and reports whether Up changed since the previous CheckDown: it reports a link's first
// answer, each outage and each recovery (Answered brings a link up; CheckDown reports it).
func (l *Link) CheckDown(now time.Time) (changed bool) {
	if l.state == linkUp && !l.probeOldest.IsZero() && now.Sub(l.probeOldest) > l.downBound(now) {
		l.state = linkDown
	}
	up := l.Up()
	changed, l.reported = up != l.reported, up
	return changed
}

// Lost marks the link down at now because the connection that carried it closed (a reset, or the
// peer went): no need to wait for the down bound. The next answer brings it back up.
func (l *Link) Lost(now time.Time) {
	l.state = linkDown
	if l.probeOldest.IsZero() {
		l.probeOldest = now
	}
}

// Up says whether the link answered and has not been marked down since. An unknown link (no
// answer yet) is not up.
func (l *Link) Up() bool { return l.state == linkUp }

// Kind returns what carries the link.
func (l *Link) Kind() Kind { return l.kind }

// Peer returns the region at the link's far end.
func (l *Link) Peer() regions.RegionID { return l.peer }

// SetSetup records how long the last connection over the link took to set up: dial, TLS and the
// NATS handshake. Negative durations count as zero.
func (l *Link) SetSetup(dial time.Duration) { l.dial = max(dial, 0) }

// downBound is max(DownMin, DownRTTs × RTT) with the best RTT known at now.
func (l *Link) downBound(now time.Time) time.Duration {
	rtt, _ := l.rtt(now)
	return max(l.cfg.DownMin, time.Duration(l.cfg.DownRTTs*float64(rtt)))
}

// rtt returns the estimator's RTT at now, or the last one it reported, and false if there never
// was one.
func (l *Link) rtt(now time.Time) (time.Duration, bool) {
	if rtt, ok := l.est.RTT(now); ok {
		return rtt, true
	}
	return l.lastRTT, l.lastRTT > 0
}

// setup is the setup cost at now: the dial time minus the RTT, or the raw dial time before the
// link has an RTT.
func (l *Link) setup(now time.Time) time.Duration {
	rtt, ok := l.rtt(now)
	if !ok {
		return l.dial
	}
	return max(l.dial-rtt, 0)
}
