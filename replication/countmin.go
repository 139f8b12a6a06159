package replication

import "math"

// countMin is a count-min sketch of float64 counters: depth rows of width counters, each key
// counted in one counter per row. An estimate is the least of the key's counters, so it is never
// below the key's true count; it is above it by what colliding keys added. Updates are
// conservative: only the counters at the minimum grow, which keeps estimates tighter and still
// never low.
type countMin struct {
	width, depth int
	cells        []float64 // row i is cells[i*width : (i+1)*width]
}

func newCountMin(width, depth int) countMin {
	return countMin{width: width, depth: depth, cells: make([]float64, width*depth)}
}

// add counts w more for the key hashed to h and returns the key's new estimate.
func (c *countMin) add(h uint64, w float64) float64 {
	var at [maxDepth]int
	est := math.Inf(1)
	for i := range c.depth {
		at[i] = i*c.width + rowIndex(h, i, c.width)
		est = math.Min(est, c.cells[at[i]])
	}
	est += w
	for _, j := range at[:c.depth] {
		c.cells[j] = math.Max(c.cells[j], est)
	}
	return est
}

// estimate returns the key's count: never below the truth.
func (c *countMin) estimate(h uint64) float64 {
	est := math.Inf(1)
	for i := range c.depth {
		est = math.Min(est, c.cells[i*c.width+rowIndex(h, i, c.width)])
	}
	return est
}

// scale multiplies every counter by f.
func (c *countMin) scale(f float64) {
	for i := range c.cells {
		c.cells[i] *= f
	}
}
