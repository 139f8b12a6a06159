package costs

import (
	"encoding/json"
	"time"

	"github.com/fedist/fedist/regions"
)

// LinkStatus is a snapshot of one Link, for the cost formula, adverts and the node's status page.
// Its JSON form (snake_case) also carries every duration as float milliseconds (rtt_ms, …) and the
// kind by name.
type LinkStatus struct {
	Peer regions.RegionID `json:"peer"`
	Kind Kind             `json:"kind"`

	RTT    time.Duration `json:"rtt"`     // least delay in the estimator's window; 0 unless HasRTT
	Offset time.Duration `json:"offset"`  // how far the peer's clock is ahead of ours, same sample
	HasRTT bool          `json:"has_rtt"` // the estimator holds a live sample
	Setup  time.Duration `json:"setup"`   // connection setup cost beyond one RTT (see Link)
	Up     bool          `json:"up"`      // false while down and while unknown (LastAnswer zero)

	Msgs       uint64 `json:"msgs"`        // messages carried, timed and untimed; probes excluded
	Samples    uint64 `json:"samples"`     // accepted samples piggy-backed on requests
	ProbesBusy uint64 `json:"probes_busy"` // probes sent with traffic in the ProbeIdle before
	ProbesIdle uint64 `json:"probes_idle"` // probes sent on an idle link
	// ProbesStall are outage checks: probes sent because a timed request went unanswered past half
	// the down bound. They are the outage rule at work, not measurement, and count in neither above.
	ProbesStall uint64 `json:"probes_stall"`
	Rejected    uint64 `json:"rejected"` // impossible samples, from requests and probes

	LastAnswer time.Time `json:"last_answer"` // zero until the first answer (link unknown)
}

// Status returns the link's state at now.
func (l *Link) Status(now time.Time) LinkStatus {
	st := LinkStatus{
		Peer:        l.peer,
		Kind:        l.kind,
		Setup:       l.setup(now),
		Up:          l.Up(),
		Msgs:        l.msgs,
		Samples:     l.samples,
		ProbesBusy:  l.probesBusy,
		ProbesIdle:  l.probesIdle,
		ProbesStall: l.probesStall,
		Rejected:    l.rejected,
		LastAnswer:  l.lastAnswer,
	}
	st.RTT, st.HasRTT = l.est.RTT(now)
	st.Offset, _ = l.est.Offset(now)
	return st
}

// MarshalJSON adds rtt_ms, offset_ms and setup_ms, and writes the peer as its 4-hex region ID and
// the kind by name, as the node's GET /links serves it.
func (s LinkStatus) MarshalJSON() ([]byte, error) {
	type plain LinkStatus // no MarshalJSON method: no recursion
	return json.Marshal(struct {
		plain
		Peer     string  `json:"peer"` // shadows plain.Peer
		Kind     string  `json:"kind"` // shadows plain.Kind
		RTTMs    float64 `json:"rtt_ms"`
		OffsetMs float64 `json:"offset_ms"`
		SetupMs  float64 `json:"setup_ms"`
	}{plain(s), s.Peer.String(), s.Kind.String(), durationMs(s.RTT), durationMs(s.Offset), durationMs(s.Setup)})
}

// durationMs converts d to float milliseconds.
func durationMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
