package node

import (
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// step drives the damper the way evaluate does, writing whatever it decides.
type dampRun struct {
	d      *damper
	status regions.Status
	writes int
}

func (x *dampRun) at(t *testing.T, now time.Time, up bool) {
	t.Helper()
	if want := x.d.decide(0x00b0, x.status, up, now); want != "" {
		x.status = want
		x.d.wrote(0x00b0, want, now)
		x.writes++
	}
}

func TestDamperRestartGraceOnlyForUnseen(t *testing.T) {
	t0 := time.Unix(1000, 0)
	x := &dampRun{d: newDamper(3*time.Second, t0), status: regions.StatusActive}
	x.at(t, t0.Add(time.Second), false) // not heard of yet: grace
	if x.status != regions.StatusActive {
		t.Fatal("marked down inside the restart grace before its first report")
	}
	x.at(t, t0.Add(1500*time.Millisecond), true) // reconnected and reported
	x.at(t, t0.Add(1750*time.Millisecond), false)
	if x.status != regions.StatusDown {
		t.Fatal("a region seen live since the restart and then lost waited for the restart grace")
	}
	y := &dampRun{d: newDamper(3*time.Second, t0), status: regions.StatusActive}
	y.at(t, t0.Add(3*time.Second), false)
	if y.status != regions.StatusDown {
		t.Fatal("never seen after the grace: not marked down")
	}
}

func TestDamperAdmittedGrace(t *testing.T) {
	t0 := time.Unix(1000, 0)
	x := &dampRun{d: newDamper(3*time.Second, t0.Add(-time.Hour)), status: regions.StatusActive}
	x.d.admitted(0x00b0, t0)
	x.at(t, t0.Add(time.Second), false)
	if x.status != regions.StatusActive {
		t.Fatal("down inside the grace after a join")
	}
	x.at(t, t0.Add(3*time.Second), false)
	if x.status != regions.StatusDown {
		t.Fatal("not down after the grace")
	}
}

// TestDamperFlapping: a link that flaps every 500 ms for 2 minutes causes a few dozen writes, not
// 480; a stable link afterwards ends active; a region with a quiet history comes back at once.
func TestDamperFlapping(t *testing.T) {
	t0 := time.Unix(1000, 0)
	x := &dampRun{d: newDamper(time.Second, t0.Add(-time.Hour)), status: regions.StatusActive}
	x.at(t, t0, true)
	now := t0
	for i := range 480 {
		now = t0.Add(time.Duration(i) * 250 * time.Millisecond)
		x.at(t, now, (i/2)%2 == 0)
	}
	if x.writes > 40 {
		t.Fatalf("%d status writes for 240 flaps", x.writes)
	}
	t.Logf("%d status writes for 240 flaps of 500 ms over 2 minutes", x.writes)
	for i := range 200 { // stable for 50 s
		x.at(t, now.Add(time.Duration(i)*250*time.Millisecond), true)
	}
	if x.status != regions.StatusActive {
		t.Fatal("stable link, region still down")
	}
	// Quiet for a while, then one loss and return: back at once.
	later := now.Add(10 * time.Minute)
	x.at(t, later, false)
	x.at(t, later.Add(250*time.Millisecond), true)
	if x.status != regions.StatusActive {
		t.Fatal("a single loss after a quiet period was damped")
	}
}
