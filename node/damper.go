package node

import (
	"time"

	"github.com/fedist/fedist/regions"
)

// damper turns "is region r up right now" into status changes worth writing. It holds no lock and
// reads no clock: the caller passes time in.
//
//   - Down detection stays fast: a region is marked down at the first evaluation that finds it
//     without a live link, except in its grace (after it was admitted, or after the root started
//     while it has not been seen live since: its parent's first report may still be on the way).
//     A root that restarts thus gives grace only to regions it has not heard of yet; a region that
//     reconnected and is then lost is marked down at once.
//   - Coming back is damped, so a flapping link does not rewrite every mirror on each flap: a
//     region that went down within flapWindow of its previous change must stay up for a hold
//     before it is marked active; the hold starts at holdMin and doubles up to holdMax while it
//     keeps flapping. A region with a stable history comes back at once.
type damper struct {
	grace      time.Duration
	flapWindow time.Duration
	holdMin    time.Duration
	holdMax    time.Duration
	started    time.Time
	regions    map[regions.RegionID]*dampState
}

type dampState struct {
	seen      bool      // live at least once since the root started
	admitted  time.Time // last join admitted
	upSince   time.Time // zero while not live
	lastWrite time.Time // last status change written
	hold      time.Duration
}

func newDamper(grace time.Duration, started time.Time) *damper {
	return &damper{grace: grace, flapWindow: 30 * time.Second, holdMin: time.Second, holdMax: 30 * time.Second,
		started: started, regions: map[regions.RegionID]*dampState{}}
}

func (d *damper) state(r regions.RegionID) *dampState {
	st := d.regions[r]
	if st == nil {
		st = &dampState{}
		d.regions[r] = st
	}
	return st
}

// restart forgets which regions were seen live: from now, as after a root restart, a region gets
// the grace until it is seen.
func (d *damper) restart(now time.Time) {
	d.started = now
	for _, st := range d.regions {
		st.seen = false
	}
}

// admitted records a join of r at now: r gets its grace.
func (d *damper) admitted(r regions.RegionID, now time.Time) { d.state(r).admitted = now }

// decide returns the status r should be written with, or "" to leave it as it is.
func (d *damper) decide(r regions.RegionID, cur regions.Status, up bool, now time.Time) regions.Status {
	st := d.state(r)
	if up {
		st.seen = true
		if st.upSince.IsZero() {
			st.upSince = now
		}
	} else {
		st.upSince = time.Time{}
	}
	switch {
	case (cur == regions.StatusActive || cur == regions.StatusDraining) && !up:
		// A draining region whose node stopped before it finished leaving is down, not wedged.
		if (!st.seen && now.Sub(d.started) < d.grace) || now.Sub(st.admitted) < d.grace {
			return ""
		}
		return regions.StatusDown
	case cur == regions.StatusDown && up:
		if now.Sub(st.upSince) < st.hold {
			return ""
		}
		return regions.StatusActive
	}
	return ""
}

// wrote records that r's status was changed to status at now. Going down within flapWindow of
// the previous change doubles the hold before r may come back.
func (d *damper) wrote(r regions.RegionID, status regions.Status, now time.Time) {
	st := d.state(r)
	if status == regions.StatusDown {
		if !st.lastWrite.IsZero() && now.Sub(st.lastWrite) < d.flapWindow {
			st.hold = min(max(2*st.hold, d.holdMin), d.holdMax)
		} else {
			st.hold = 0
		}
	}
	st.lastWrite = now
}

// forget drops the state of regions no longer registered.
func (d *damper) forget(keep func(regions.RegionID) bool) {
	for r := range d.regions {
		if !keep(r) {
			delete(d.regions, r)
		}
	}
}
