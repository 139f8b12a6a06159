package costs_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/topo"
)

// TestVivaldiRealMatrices embeds the regions of two measured RTT matrices: every round, each region
// measures one random peer (the matrix RTT, as a min-filtered Estimator would report it) and
// updates its coordinate. It logs the relative error of the estimates over all pairs, as reported
// in the notes, and asserts only a loose bound.
func TestVivaldiRealMatrices(t *testing.T) {
	const warmup, rounds = 1000, 3000
	for _, file := range []string{"testdata/rtt-aws.csv", "testdata/rtt-ibm.csv"} {
		t.Run(file, func(t *testing.T) {
			m, err := topo.LoadRTT(file) // symmetric: the mean of the two directions
			if err != nil {
				t.Fatal(err)
			}
			names := m.Names()
			rtt := func(i, j int) time.Duration {
				ms, ok := m.RTT(names[i], names[j])
				if !ok {
					t.Fatalf("%s: no RTT %s-%s", file, names[i], names[j])
				}
				return time.Duration(ms * float64(time.Millisecond))
			}
			cfg := costs.DefaultConfig()
			nodes := make([]*costs.Vivaldi, len(names))
			for i := range nodes {
				nodes[i] = costs.NewVivaldi(&cfg, uint64(i+1))
			}
			// Coordinates keep moving once converged, so one snapshot's p90 swings by ±10 points:
			// after a warm-up, sample every 100 rounds and report means and ranges.
			rng := rand.New(rand.NewPCG(1, 2))
			var meds, p90s, abs []float64
			for r := 1; r <= rounds; r++ {
				for i, n := range nodes {
					j := rng.IntN(len(nodes) - 1)
					if j >= i {
						j++
					}
					if err := n.Update(nodes[j].Coord(), rtt(i, j)); err != nil {
						t.Fatal(err)
					}
				}
				if r > warmup && r%100 == 0 {
					st := relErrors(nodes, rtt)
					meds, p90s, abs = append(meds, st.med), append(p90s, st.p90), append(abs, st.absMed)
				}
			}
			t.Logf("%s, rounds %d..%d, %d snapshots: relative error median %.1f %% (%.1f..%.1f), "+
				"p90 %.1f %% (%.1f..%.1f); median absolute error %.1f ms", file, warmup, rounds, len(meds),
				100*mean(meds), 100*slices.Min(meds), 100*slices.Max(meds),
				100*mean(p90s), 100*slices.Min(p90s), 100*slices.Max(p90s), mean(abs))
			last := relErrors(nodes, rtt)
			t.Logf("%s, last snapshot: median %.1f %%, p90 %.1f %%, worst %.1f %% (%s)",
				file, 100*last.med, 100*last.p90, 100*last.worst, last.worstPair)
			if m := mean(meds); m > 0.25 {
				t.Errorf("mean median relative error %.1f %%, want < 25 %%", 100*m)
			}
			for i, n := range nodes {
				if n.Resets() != 0 || !n.Coord().Valid() {
					t.Errorf("%s: %d resets, coordinate %+v", names[i], n.Resets(), n.Coord())
				}
			}
		})
	}
}

// errStats summarises the estimates over all pairs.
type errStats struct {
	med, p90, worst float64 // |estimate − rtt| / rtt
	absMed          float64 // median |estimate − rtt| in ms
	worstPair       string
}

// relErrors compares every pair's estimate with its RTT.
func relErrors(nodes []*costs.Vivaldi, rtt func(i, j int) time.Duration) errStats {
	var st errStats
	var rel, abs []float64
	for i := range nodes {
		for j := i + 1; j < len(nodes); j++ {
			want, got := rtt(i, j), nodes[i].Estimate(nodes[j].Coord())
			d := math.Abs(float64(got - want))
			rel, abs = append(rel, d/float64(want)), append(abs, d/float64(time.Millisecond))
			if e := rel[len(rel)-1]; e > st.worst {
				st.worst, st.worstPair = e, fmt.Sprintf("%v estimated for %v", got.Round(100*time.Microsecond), want)
			}
		}
	}
	slices.Sort(rel)
	slices.Sort(abs)
	st.med, st.p90, st.absMed = rel[len(rel)/2], rel[len(rel)*9/10], abs[len(abs)/2]
	return st
}

func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
