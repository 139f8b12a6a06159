package lab

import (
	"math"
	"slices"
	"time"
)

// Summary describes a set of durations in milliseconds.
type Summary struct {
	N             int
	Min, P50, P99 float64
	Max           float64
}

// Summarize returns the nearest-rank percentiles of ds. It sorts ds.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	return Summary{N: len(ds), Min: ms(ds[0]), P50: ms(rank(ds, 0.50)), P99: ms(rank(ds, 0.99)), Max: ms(ds[len(ds)-1])}
}

// rank returns the nearest-rank q-quantile of sorted ds: the smallest value with at least q of
// the samples at or below it.
func rank(ds []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// median returns the median of xs (the mean of the middle two for an even count), or NaN.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
