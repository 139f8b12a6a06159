package costs

import (
	"math"
	"time"

	"github.com/fedist/fedist/regions"
)

// UpdateRates folds counts, the messages sent to each destination over the last elapsed, into
// rates (msgs/s), an exponentially weighted average whose weight halves every halfLife: a
// steady rate r converges to r, a burst of one second moves it by a fraction of
// 1 − 0.5^(1 s / halfLife). Rates below 0.01 msgs/s are dropped. Shortcuts are chosen by these
// rates, so halfLife is how long a change of the traffic's mix must last before it moves them.
func UpdateRates(rates map[regions.RegionID]float64, counts map[regions.RegionID]uint64, elapsed, halfLife time.Duration) {
	if elapsed <= 0 {
		return
	}
	keep := 0.0
	if halfLife > 0 {
		keep = math.Pow(0.5, elapsed.Seconds()/halfLife.Seconds())
	}
	for d := range rates {
		rates[d] *= keep
	}
	for d, n := range counts {
		rates[d] += float64(n) / elapsed.Seconds() * (1 - keep)
	}
	for d, r := range rates {
		if r < 0.01 {
			delete(rates, d)
		}
	}
}
