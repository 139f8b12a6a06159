package costs

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// linkSim drives a Link the way the node does: a tick every 10 ms delivers due answers, probes when
// NeedProbe says so and calls CheckDown. The peer answers after rtt unless the link is cut.
type linkSim struct {
	t       *testing.T
	l       *Link
	now     time.Time
	rtt     time.Duration
	cut     bool
	pending []simAnswer
	changes []bool // Up after each change CheckDown reported
}

type simAnswer struct {
	at    time.Time
	s     Stamps
	probe bool
}

const simTick = 10 * time.Millisecond

func newLinkSim(t *testing.T, rtt time.Duration) *linkSim {
	return &linkSim{t: t, l: NewLink(7, Shortcut, measureConfig(t)), now: measureEpoch, rtt: rtt}
}

// send sends a timed exchange now.
func (s *linkSim) send(probe bool) {
	s.l.Sent(s.now, probe)
	if !s.cut {
		st := stampsFor(s.now, 0, s.rtt/2, s.rtt-s.rtt/2, 0)
		s.pending = append(s.pending, simAnswer{at: st.T4, s: st, probe: probe})
	}
}

// run ticks for d, calling each (if not nil) at every tick before the link is looked at.
func (s *linkSim) run(d time.Duration, each func()) {
	for end := s.now.Add(d); s.now.Before(end); s.now = s.now.Add(simTick) {
		if each != nil {
			each()
		}
		kept := s.pending[:0]
		for _, a := range s.pending {
			if a.at.After(s.now) {
				kept = append(kept, a)
				continue
			}
			if err := s.l.Answered(a.s, a.probe, s.now); err != nil {
				s.t.Fatal(err)
			}
		}
		s.pending = kept
		if s.l.NeedProbe(s.now) {
			s.send(true)
		}
		if s.l.CheckDown(s.now) {
			s.changes = append(s.changes, s.l.Up())
		}
	}
}

func (s *linkSim) probes() uint64 {
	st := s.l.Status(s.now)
	return st.ProbesBusy + st.ProbesIdle + st.ProbesStall
}

func TestLinkBusyNoProbes(t *testing.T) {
	sim := newLinkSim(t, 50*time.Millisecond)
	sim.run(100*time.Millisecond, nil) // a new link has no RTT: one probe learns it
	if p := sim.probes(); p != 1 {
		t.Fatalf("new link sent %d probes, want 1", p)
	}
	var n int
	sim.run(10*time.Second, func() {
		if n++; n%20 == 0 { // one timed request every 200 ms
			sim.send(false)
		}
	})
	st := sim.l.Status(sim.now)
	if p := sim.probes(); p != 1 {
		t.Errorf("busy link sent %d probes in 10 s, want none after the first", p-1)
	}
	if st.Samples != 49 || st.Msgs != 50 || !st.Up || st.RTT != 50*time.Millisecond {
		t.Errorf("status %+v; want 50 messages, 49 answered, up, RTT 50ms", st)
	}
}

func TestLinkIdleProbes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		untimed   bool
		busy, idl uint64
	}{
		{"idle", false, 0, 10},
		// Untimed traffic keeps the link busy but gives no sample: still one probe per ProbeIdle.
		// The first probe, at 0, goes out before any traffic.
		{"untimed traffic", true, 9, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := newLinkSim(t, 50*time.Millisecond)
			var n int
			sim.run(10*time.Second, func() {
				if n++; tc.untimed && n%20 == 0 {
					sim.l.Carried(sim.now)
				}
			})
			// One probe per ProbeIdle after the last answer: every 1.06 s (1 s + RTT + a tick).
			st := sim.l.Status(sim.now)
			if st.ProbesBusy != tc.busy || st.ProbesIdle != tc.idl {
				t.Errorf("probes busy %d idle %d, want %d and %d", st.ProbesBusy, st.ProbesIdle, tc.busy, tc.idl)
			}
			if st.Samples != 0 {
				t.Errorf("probe answers counted as %d piggy-backed samples", st.Samples)
			}
		})
	}
}

func TestLinkOutage(t *testing.T) {
	for _, tc := range []struct {
		rtt, bound time.Duration
	}{
		{100 * time.Millisecond, 400 * time.Millisecond}, // DownRTTs × RTT
		{10 * time.Millisecond, 300 * time.Millisecond},  // DownMin
	} {
		sim := newLinkSim(t, tc.rtt)
		sim.run(2*time.Second, nil)
		if len(sim.changes) != 1 || !sim.changes[0] {
			t.Fatalf("RTT %v: changes %v, want one: up", tc.rtt, sim.changes)
		}
		sim.cut = true
		for sim.l.probeOldest.IsZero() || len(sim.pending) > 0 { // the first probe after the cut
			sim.run(simTick, nil)
		}
		// run left now one tick past the probe's; the last tick of this run is at probe + bound.
		sim.run(tc.bound, nil)
		if !sim.l.Up() || len(sim.changes) != 1 {
			t.Fatalf("RTT %v: down at most %v after the probe, want after %v", tc.rtt, tc.bound, tc.bound)
		}
		sim.run(simTick, nil)
		if sim.l.Up() || len(sim.changes) != 2 || sim.changes[1] {
			t.Fatalf("RTT %v: still up %v after the probe, bound %v", tc.rtt, tc.bound+simTick, tc.bound)
		}
		sim.run(time.Second, nil)
		if n := sim.probes(); n < 4 {
			t.Errorf("RTT %v: %d probes; a down link is asked again once per bound", tc.rtt, n)
		}
		sim.cut = false
		sim.run(tc.bound+tc.rtt+simTick, nil)
		if !sim.l.Up() || len(sim.changes) != 3 || !sim.changes[2] {
			t.Errorf("RTT %v: not back up after the link healed; changes %v", tc.rtt, sim.changes)
		}
	}
}

// A link that never answered stays unknown: not up, and no down transition.
func TestLinkUnknown(t *testing.T) {
	sim := newLinkSim(t, 50*time.Millisecond)
	sim.cut = true
	sim.run(3*time.Second, nil)
	if sim.l.Up() || len(sim.changes) != 0 {
		t.Errorf("Up %v, changes %v; want unknown and no change", sim.l.Up(), sim.changes)
	}
	if n := sim.probes(); n < 9 || n > 10 {
		t.Errorf("%d probes in 3 s; want one per DownMin (300 ms)", n)
	}
}

// Requests that go unanswered trigger a probe after the down bound; they do not mark the link down.
func TestLinkStuckRequest(t *testing.T) {
	sim := newLinkSim(t, 100*time.Millisecond)
	sim.run(500*time.Millisecond, nil)
	sim.cut = true
	sim.send(false)
	sent := sim.now
	sim.run(200*time.Millisecond+2*simTick, func() {
		if sim.now.Sub(sent) <= 200*time.Millisecond && sim.l.NeedProbe(sim.now) {
			t.Fatalf("probe %v after the request, within the bound", sim.now.Sub(sent))
		}
	})
	if !sim.l.Up() || sim.l.probeOldest.IsZero() {
		t.Fatalf("after the bound: up %v, probe at %v; want up with a probe out", sim.l.Up(), sim.l.probeOldest)
	}
	if st := sim.l.Status(sim.now); st.ProbesStall != 1 || st.ProbesBusy != 0 {
		t.Errorf("probe after a stuck request counted stall %d busy %d idle %d, want one outage check", st.ProbesStall, st.ProbesBusy, st.ProbesIdle)
	}
}

func TestLinkRejected(t *testing.T) {
	cfg := measureConfig(t)
	l := NewLink(3, Tree, cfg)
	bad := stampsFor(measureEpoch, 0, 10*time.Millisecond, 10*time.Millisecond, 0)
	bad.T3 = bad.T2.Add(-time.Millisecond)
	l.Sent(measureEpoch, false)
	err := l.Answered(bad, false, bad.T4)
	if !errors.Is(err, ErrImpossible) {
		t.Fatalf("Answered = %v, want ErrImpossible", err)
	}
	st := l.Status(bad.T4)
	if st.Rejected != 1 || st.Samples != 0 || st.HasRTT || !st.Up {
		t.Errorf("status %+v; want one rejected, no sample, no RTT, up", st)
	}
	if !l.NeedProbe(bad.T4) {
		t.Error("no RTT and no probe answered: NeedProbe false")
	}
	l.Sent(bad.T4, true)
	_ = l.Answered(bad, true, bad.T4.Add(20*time.Millisecond))
	if l.NeedProbe(bad.T4.Add(500 * time.Millisecond)) {
		t.Error("rejected probe answer: probed again within ProbeIdle")
	}
}

func TestLinkSetup(t *testing.T) {
	for _, tc := range []struct {
		name      string
		dial, rtt time.Duration // rtt 0: no sample
		want      time.Duration
	}{
		{"no RTT yet", 250 * time.Millisecond, 0, 250 * time.Millisecond},
		{"minus RTT", 250 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond},
		{"dial below RTT", 80 * time.Millisecond, 100 * time.Millisecond, 0},
		{"negative dial", -time.Second, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewLink(3, Shortcut, measureConfig(t))
			l.SetSetup(tc.dial)
			now := measureEpoch
			if tc.rtt > 0 {
				s := stampsFor(now, 0, tc.rtt/2, tc.rtt/2, 0)
				now = s.T4
				if err := l.Answered(s, true, now); err != nil {
					t.Fatal(err)
				}
			}
			if got := l.Status(now).Setup; got != tc.want {
				t.Errorf("Setup = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLinkStatusJSON(t *testing.T) {
	sim := newLinkSim(t, 40*time.Millisecond)
	sim.l.SetSetup(100 * time.Millisecond)
	sim.run(200*time.Millisecond, nil)
	b, err := json.Marshal(sim.l.Status(sim.now))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"kind":"shortcut"`, `"rtt_ms":40`, `"setup_ms":60`, `"rtt":40000000`,
		`"has_rtt":true`, `"probes_idle":1`, `"peer":"0007"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

// A link whose connection closed is down at once, without waiting for the bound, and comes back
// with the next answer after the heal.
func TestLinkLost(t *testing.T) {
	sim := newLinkSim(t, 100*time.Millisecond)
	sim.run(2*time.Second, nil)
	if !sim.l.Up() {
		t.Fatal("link not up before the cut")
	}
	sim.cut = true
	sim.l.Lost(sim.now)
	sim.run(simTick, nil)
	if sim.l.Up() || len(sim.changes) != 2 || sim.changes[1] {
		t.Fatalf("lost link still up one tick later; changes %v", sim.changes)
	}
	sim.cut = false
	sim.run(time.Second, nil)
	if !sim.l.Up() || len(sim.changes) != 3 || !sim.changes[2] {
		t.Fatalf("not back up after the heal; changes %v", sim.changes)
	}
}
