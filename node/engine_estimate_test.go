package node

import (
	"testing"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// TestEstimatePrefersMeasured: a candidate's cost is what a shortcut to it measured while that
// is fresh, not the network coordinates' estimate (which cannot see a detour-shaped pair); with
// neither it is unknown.
func TestEstimatePrefersMeasured(t *testing.T) {
	cfg := costs.DefaultConfig()
	e := &engine{cfg: cfg, measured: map[regions.RegionID]measuredRTT{}}
	e.viv = costs.NewVivaldi(&e.cfg, 1)
	e.state = costs.NewLinkState(&e.cfg)
	const peer = regions.RegionID(0x00b0)
	if _, ok := e.estimateLocked(peer); ok {
		t.Fatal("an estimate for a region with no coordinate and nothing measured")
	}
	e.measured[peer] = measuredRTT{rtt: 180 * time.Millisecond, at: time.Now()}
	if c, ok := e.estimateLocked(peer); !ok || c != 180 {
		t.Fatalf("estimate %v (%v), want the measured 180 ms", c, ok)
	}
}
