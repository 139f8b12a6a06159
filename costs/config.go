package costs

import (
	"fmt"
	"math"
	"time"
)

// Config tunes measurement, cost and routing. All durations are wall-clock; all costs are in
// milliseconds of equivalent round-trip delay.
type Config struct {
	// Window is how many recent samples the estimator keeps per link; RTT and offset come from the
	// sample of least delay among them (NTP's clock filter), which drops queueing outliers.
	Window int
	// MaxRTT rejects samples whose delay is above it (a sample from a stalled peer or a reply that
	// waited behind a reconnect); MinRTT rejects negative and zero delays.
	MaxRTT time.Duration
	// SampleTTL drops samples older than this from the window, so an RTT that rose is followed.
	SampleTTL time.Duration

	// ProbeIdle: a link that carried no timed traffic for this long gets one probe. A link that
	// carries at least one timed message per ProbeIdle gets none.
	ProbeIdle time.Duration
	// DownRTTs and DownMin: a link whose oldest unanswered exchange is older than
	// max(DownMin, DownRTTs × RTT) is marked down. It comes back up with the next answer.
	DownRTTs float64
	DownMin  time.Duration

	// Cost weights (see Cost): the link's RTT plus these penalties at the far node.
	RelayHop    float64 // ms added for every relay a path crosses (one per shortcut and per waypoint)
	QueueWeight float64 // ms per message waiting in the far node's relay (service time at most ServiceKnee)
	// ServiceKnee, in ms: a far relay whose time per message (Load.Service) is above it costs that
	// time for the message and for each one queued ahead of it. Below it the time is noise: on the
	// lab's 2 shared cores every relay's figure moved with the scheduling, and charging it cost
	// world.json 5 % of its pairs (95 % in four runs, 100 % with the figure at 0).
	ServiceKnee   float64
	PendingWeight float64 // ms per MiB pending at the far node's server
	SlowWeight    float64 // ms per slow consumer reported at the far node since its last advert
	CPUWeight     float64 // ms at 100 % CPU of the far node (scaled linearly above CPUKnee)
	CPUKnee       float64 // CPU share below which CPU costs nothing

	// Adverts.
	AdvertEvery  time.Duration // refresh period when nothing changed
	AdvertMinGap time.Duration // rate limit: at most one advert per gap, however much changes
	ChangeRel    float64       // a link RTT that moved by this fraction…
	ChangeAbs    time.Duration // …and by at least this much is a significant change
	LoadChange   float64       // ms: a load whose cost (see Cost) moved by this much is a significant change
	AdvertTTL    time.Duration // a region silent this long is dropped from the graph

	// Routing.
	SwitchRel float64 // a new path must be cheaper by this fraction…
	SwitchAbs float64 // …and by this many ms to replace a working one (hysteresis)

	// Shortcuts.
	K int // at most K shortcut connections per node, opened and accepted
	// OpensPerCall is the most shortcuts one Select call opens (0: as many as slots allow); Select
	// is the per-node policy the simulator keeps as the plan's baseline, the node follows Plan.
	// Nodes deciding at the same moments on the same adverts: opening one at a time let each next
	// choice see the others' (integration/shortcutsim: 88-95 % of pairs within 1.10 × oracle + 2 ms
	// with no limit, 92-98 % with 1, on world.json and ibm.json over four orders).
	OpensPerCall int
	MinGain      float64 // ms × msg/s of gain below which no shortcut is opened
	// PlanKeep weighs the gain of a shortcut that is open now in Plan: a replacement must gain
	// this many times as much, so noise in the adverts does not move shortcuts.
	PlanKeep float64
	// PlanScale, in ms, weighs what a shortcut saves a flow in Plan: s ms saved on a path of d ms
	// count s × PlanScale / (d + PlanScale), about the fraction saved on paths much longer than
	// PlanScale and the ms themselves on much shorter ones; 0 counts the ms alone, and long pairs
	// then take every slot while a 10 ms pair stays at 35 ms over the tree. Lab, -mode fedist:
	// ibm.json 99 % with 50 against 94-98 % with 0; world.json 98 % either way. DESIGN.md, "What a
	// saving is worth".
	PlanScale float64
	// PlanGrace is how long a node keeps a shortcut it opened after the plan stopped listing it
	// (unless a planned one needs the slot): adverts reach nodes at different moments, and a
	// plan that flickers for a second must not close a working shortcut.
	PlanGrace time.Duration
	// IdleClose: a destination the region sent nothing to for this long leaves its advertised
	// demand, so the shortcuts planned for it are closed about PlanGrace later.
	IdleClose time.Duration
	// RateHalfLife smooths the traffic rates shortcuts are chosen by (UpdateRates): a change of
	// the traffic's mix moves them only once it has lasted about this long.
	RateHalfLife time.Duration
	Dimensions   int // Vivaldi coordinate dimensions
}

// DefaultConfig returns settings for WAN federations.
func DefaultConfig() Config {
	return Config{
		Window:        8,                // NTP keeps 8; enough to hold one unqueued sample at 1 msg/s
		MaxRTT:        5 * time.Second,  // beyond any real WAN path; such a sample waited somewhere
		SampleTTL:     30 * time.Second, // an RTT that rose is followed within half a minute
		ProbeIdle:     time.Second,      // busy links (≥ 1 timed msg/s) never see a probe
		DownRTTs:      4,                // four round trips without an answer is not jitter
		DownMin:       300 * time.Millisecond,
		RelayHop:      0.3, // measured relay republish cost on loopback, rounded up (BENCHMARKS.md)
		QueueWeight:   0.05,
		ServiceKnee:   1, // a healthy relay handles a message in tens of µs
		PendingWeight: 2,
		SlowWeight:    5,
		CPUWeight:     50,
		CPUKnee:       0.7,
		AdvertEvery:   10 * time.Second, // refresh; lost adverts are replaced within this
		AdvertMinGap:  500 * time.Millisecond,
		ChangeRel:     0.10,
		ChangeAbs:     time.Millisecond, // jitter on a 2 ms link is not news worth a broadcast
		LoadChange:    5,                // CPU swinging between 70 and 80 % is not either
		AdvertTTL:     45 * time.Second, // four refreshes plus slack
		SwitchRel:     0.05,             // 5 % and…
		SwitchAbs:     1,                // …1 ms: jitter on a 40 ms link does not flap routes
		K:             4,                // 95-100 % of pairs within 1.10× the oracle on the dev matrices
		MinGain:       1,
		PlanKeep:      2,
		PlanGrace:     3 * time.Second,
		PlanScale:     50,
		OpensPerCall:  1,
		IdleClose:     30 * time.Second,
		RateHalfLife:  10 * time.Second, // a region's advertised demand, and so the plan, does not follow a burst
		Dimensions:    8,                // as in serf
	}
}

// Validate checks the config.
func (c *Config) Validate() error {
	switch {
	case c.Window < 1:
		return fmt.Errorf("%w: Window %d must be at least 1", ErrConfig, c.Window)
	case c.MaxRTT <= 0 || c.SampleTTL <= 0 || c.ProbeIdle <= 0 || c.DownMin <= 0:
		return fmt.Errorf("%w: MaxRTT, SampleTTL, ProbeIdle and DownMin must be positive", ErrConfig)
	case c.DownRTTs < 1:
		return fmt.Errorf("%w: DownRTTs %v must be at least 1", ErrConfig, c.DownRTTs)
	case c.RelayHop < 0 || c.QueueWeight < 0 || c.PendingWeight < 0 || c.SlowWeight < 0 || c.CPUWeight < 0:
		return fmt.Errorf("%w: cost weights must not be negative", ErrConfig)
	case c.CPUKnee < 0 || c.CPUKnee >= 1:
		return fmt.Errorf("%w: CPUKnee %v must be in [0, 1)", ErrConfig, c.CPUKnee)
	case c.AdvertEvery <= 0 || c.AdvertMinGap <= 0 || c.AdvertMinGap > c.AdvertEvery:
		return fmt.Errorf("%w: AdvertMinGap %v must be positive and at most AdvertEvery %v", ErrConfig, c.AdvertMinGap, c.AdvertEvery)
	case c.AdvertTTL <= c.AdvertEvery:
		return fmt.Errorf("%w: AdvertTTL %v must exceed AdvertEvery %v", ErrConfig, c.AdvertTTL, c.AdvertEvery)
	case c.ChangeRel <= 0 || c.ChangeAbs < 0 || c.LoadChange < 0 || c.SwitchRel < 0 || c.SwitchAbs < 0:
		return fmt.Errorf("%w: ChangeRel must be positive, ChangeAbs, SwitchRel and SwitchAbs not negative", ErrConfig)
	case c.K < 0 || c.K > 64:
		return fmt.Errorf("%w: K %d must be 0..64 (-shortcuts)", ErrConfig, c.K)
	case c.OpensPerCall < 0:
		return fmt.Errorf("%w: OpensPerCall %d must not be negative", ErrConfig, c.OpensPerCall)
	case c.PlanScale < 0 || math.IsNaN(c.PlanScale) || math.IsInf(c.PlanScale, 0):
		return fmt.Errorf("%w: PlanScale %v must be a non-negative number of ms", ErrConfig, c.PlanScale)
	case c.ServiceKnee < 0 || math.IsNaN(c.ServiceKnee):
		return fmt.Errorf("%w: ServiceKnee %v must not be negative", ErrConfig, c.ServiceKnee)
	case c.PlanGrace < 0:
		return fmt.Errorf("%w: PlanGrace must not be negative", ErrConfig)
	case c.PlanKeep < 1:
		return fmt.Errorf("%w: PlanKeep %v must be at least 1", ErrConfig, c.PlanKeep)
	case c.MinGain < 0 || c.IdleClose <= 0:
		return fmt.Errorf("%w: MinGain must not be negative and IdleClose must be positive", ErrConfig)
	case c.RateHalfLife < 0:
		return fmt.Errorf("%w: RateHalfLife %v must not be negative", ErrConfig, c.RateHalfLife)
	case c.Dimensions < 2 || c.Dimensions > 16:
		return fmt.Errorf("%w: Dimensions %d must be 2..16", ErrConfig, c.Dimensions)
	}
	return nil
}
