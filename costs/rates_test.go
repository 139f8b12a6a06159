package costs

import (
	"math"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

func TestUpdateRates(t *testing.T) {
	const d = regions.RegionID(0x00b0)
	rates := map[regions.RegionID]float64{}
	// A steady 10 msgs/s converges to 10 whatever the half-life.
	for range 200 {
		UpdateRates(rates, map[regions.RegionID]uint64{d: 10}, time.Second, 10*time.Second)
	}
	if math.Abs(rates[d]-10) > 0.01 {
		t.Fatalf("steady 10 msgs/s: rate %v", rates[d])
	}
	// Silence for one half-life halves it.
	UpdateRates(rates, nil, 10*time.Second, 10*time.Second)
	if math.Abs(rates[d]-5) > 0.01 {
		t.Fatalf("after one silent half-life: %v, want 5", rates[d])
	}
	// A one-second burst of 100 msgs moves an empty rate by 1 − 0.5^(1/10) of 100.
	burst := map[regions.RegionID]float64{}
	UpdateRates(burst, map[regions.RegionID]uint64{d: 100}, time.Second, 10*time.Second)
	if want := 100 * (1 - math.Pow(0.5, 0.1)); math.Abs(burst[d]-want) > 1e-9 {
		t.Fatalf("burst: %v, want %v", burst[d], want)
	}
	// Half-life 1 s is the engine's old rule: rate = rate/2 + count/2.
	old := map[regions.RegionID]float64{d: 4}
	UpdateRates(old, map[regions.RegionID]uint64{d: 8}, time.Second, time.Second)
	if old[d] != 6 {
		t.Fatalf("half-life 1 s: %v, want 6", old[d])
	}
	// Long silence drops the destination; a zero elapsed changes nothing.
	UpdateRates(rates, nil, 10*time.Minute, 10*time.Second)
	if _, ok := rates[d]; ok {
		t.Fatalf("rate kept after 10 min of silence: %v", rates)
	}
	UpdateRates(burst, map[regions.RegionID]uint64{d: 1000}, 0, time.Second)
	if want := 100 * (1 - math.Pow(0.5, 0.1)); burst[d] != want {
		t.Fatalf("zero elapsed changed the rate to %v", burst[d])
	}
}
