package fed

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// spokeUpIn reports an error unless every running server of r has its link to the parent.
func spokeUpIn(f *Federation, r regions.RegionID, want bool) error {
	for _, srv := range f.Servers(r) {
		if got := spokeUp(srv); got != want {
			return fmt.Errorf("%s: parent link up = %v, want %v", srv.Name(), got, want)
		}
	}
	return nil
}

// skipOnBypass fails the test when a child reconnected to its parent around the emulator, which
// would make a cut meaningless (both builders set IgnoreDiscoveredServers to prevent it).
func skipOnBypass(t *testing.T, f *Federation) {
	t.Helper()
	if err := f.CheckLinks(); errors.Is(err, ErrBypass) {
		t.Fatalf("a child reached its parent around the WAN emulator: %v", err)
	}
}

func TestCutHeal(t *testing.T) {
	for _, mode := range []Mode{ModeFeDist, ModeNATS} {
		t.Run(string(mode), func(t *testing.T) {
			f := startFed(t, smallTopo(t), mode)
			if err := f.Cut(a1ID, aID); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
				skipOnBypass(t, f)
				if mode == ModeNATS {
					return spokeUpIn(f, a1ID, false)
				}
				return f.WaitStatus(ctxFor(t, time.Millisecond), a1ID, regions.StatusDown)
			})
			// The cut holds: the child keeps trying and keeps being refused.
			checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
				skipOnBypass(t, f)
				if s := f.Net().Stats(a1ID, aID); s.Refused < 2 {
					return fmt.Errorf("link A1→A refused %d connections, want a few", s.Refused)
				}
				return nil
			})
			if err := f.Heal(aID, a1ID); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
				if mode == ModeNATS {
					return spokeUpIn(f, a1ID, true)
				}
				return f.WaitStatus(ctxFor(t, time.Millisecond), a1ID, regions.StatusActive)
			})
			if err := f.CheckLinks(); err != nil {
				t.Fatal(err)
			}
			serve(t, f, a1ID)
			lookupWorks(t, f, bID, a1ID)
		})
	}
}

// TestKillRestart kills leaf region B and brings it back on the same store and ports.
func TestKillRestart(t *testing.T) {
	for _, mode := range []Mode{ModeFeDist, ModeNATS} {
		t.Run(string(mode), func(t *testing.T) {
			f := startFed(t, smallTopo(t), mode)
			serve(t, f, bID)
			lookupWorks(t, f, a1ID, bID)
			urls := f.ClientURLs(bID)
			if err := f.Kill(bID); err != nil {
				t.Fatal(err)
			}
			if f.Running(bID) {
				t.Fatal("B still running after Kill")
			}
			if err := f.WaitStatus(ctxFor(t, 10*time.Second), bID, regions.StatusDown); err != nil {
				t.Fatal(err)
			}
			nc, err := f.Connect(a1ID)
			if err != nil {
				t.Fatal(err)
			}
			checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
				if _, err := nc.Request(lookupSubject(bID), nil, time.Second); !errors.Is(err, nats.ErrNoResponders) {
					return fmt.Errorf("lookup in killed B: %v, want no responders", err)
				}
				return nil
			})
			if err := f.Restart(ctxFor(t, 30*time.Second), bID); err != nil {
				t.Fatal(err)
			}
			if got := f.ClientURLs(bID); got[0] != urls[0] {
				t.Fatalf("B restarted on %v, want %v", got, urls)
			}
			if err := f.Restart(ctxFor(t, time.Second), bID); !errors.Is(err, ErrRunning) {
				t.Fatalf("second Restart = %v, want ErrRunning", err)
			}
			if err := f.WaitConverged(ctxFor(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			// The responder's connection reconnects to the same URL and subscribes again.
			lookupWorks(t, f, a1ID, bID)
			if err := f.CheckLinks(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRestartParent kills region A, which A1 hangs under; A1 goes down with it and comes back.
func TestRestartParent(t *testing.T) {
	for _, mode := range []Mode{ModeFeDist, ModeNATS} {
		t.Run(string(mode), func(t *testing.T) {
			f := startFed(t, smallTopo(t), mode)
			if err := f.Kill(aID); err != nil {
				t.Fatal(err)
			}
			if err := f.WaitStatus(ctxFor(t, 10*time.Second), a1ID, regions.StatusDown); err != nil {
				t.Fatal(err)
			}
			if err := f.Restart(ctxFor(t, 30*time.Second), aID); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
				skipOnBypass(t, f)
				if mode == ModeNATS {
					return spokeUpIn(f, a1ID, true)
				}
				return f.WaitStatus(ctxFor(t, time.Millisecond), a1ID, regions.StatusActive)
			})
			serve(t, f, a1ID)
			lookupWorks(t, f, bID, a1ID)
			skipOnBypass(t, f)
		})
	}
}
