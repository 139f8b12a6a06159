package node

import (
	"testing"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
)

// TestEstimatePrefersMeasured: the plan costs a pair by what a shortcut between its regions
// measured, as either end advertised it, not by the network coordinates' estimate (which cannot
// see a detour-shaped pair); with neither it is unknown.
func TestEstimatePrefersMeasured(t *testing.T) {
	cfg := costs.DefaultConfig()
	const me, b, c = regions.RegionID(0x00a1), regions.RegionID(0x00b0), regions.RegionID(0x00c0)
	state := costs.NewLinkState(&cfg)
	mine := &costs.Advert{Region: me, Node: "n1"}
	if _, ok := est(&cfg, state, mine)(me, b); ok {
		t.Fatal("an estimate for a region with no coordinate and nothing measured")
	}
	mine.Measured = costs.AdvertLinks{{To: b, Kind: costs.Shortcut, RTT: 180_000, Up: true}}
	if got, ok := est(&cfg, state, mine)(b, me); !ok || got != 180 {
		t.Fatalf("estimate %v (%v), want my measured 180 ms", got, ok)
	}
	state.Apply(&costs.Advert{Region: c, Node: "n1", Seq: 1,
		Measured: costs.AdvertLinks{{To: b, Kind: costs.Shortcut, RTT: 42_000, Up: true}}}, time.Now())
	if got, ok := est(&cfg, state, mine)(b, c); !ok || got != 42 {
		t.Fatalf("estimate %v (%v), want the 42 ms region c advertised", got, ok)
	}
}

func est(cfg *costs.Config, state *costs.LinkState, mine *costs.Advert) func(a, b regions.RegionID) (float64, bool) {
	return planEstimate(cfg, state.Measured(mine), state.Coords(mine))
}
