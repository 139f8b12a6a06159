package costs

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// ErrCoord reports a network coordinate that cannot be used: wrong dimension, a number that is not
// finite or out of range.
var ErrCoord = errors.New("bad network coordinate")

// NoEstimate is what DistanceTo and Estimate return when the coordinates cannot be compared (one is
// invalid or their dimensions differ). It is negative, so no caller can mistake it for an RTT.
const NoEstimate time.Duration = -1

// Vivaldi tuning, as in hashicorp/serf's coordinate.DefaultConfig. Coordinates are in seconds.
const (
	vivaldiErrorMax  = 1.5   // error of a new coordinate, and the cap of any
	vivaldiCE        = 0.25  // how fast the error estimate follows new observations
	vivaldiCC        = 0.25  // how far one observation moves the coordinate
	vivaldiHeightMin = 10e-6 // 10 µs: the least access-link height
	vivaldiWindow    = 20    // observations averaged into Adjustment
	vivaldiRho       = 150.0 // gravity pulling towards the origin, against drift (seconds)
	vivaldiZero      = 1e-6  // distances below this count as coincident points

	// coordMax bounds every number a coordinate may hold (seconds). Real ones stay below a second;
	// the bound keeps any distance between valid coordinates inside a time.Duration.
	coordMax    = 1e3
	coordMinDim = 2  // as Config.Validate allows
	coordMaxDim = 16 // as Config.Validate allows
)

// Coord is a node's position in the Vivaldi network coordinate space, as serf keeps it: a vector
// (Vec) for the core network, a Height for the node's access link and an Adjustment for what the
// Euclidean model misses; Error is the node's confidence in it (0 exact … 1.5 unknown). Numbers are
// in seconds. Coordinates arrive from other regions in adverts: check Valid before use.
type Coord struct {
	Vec        []float64 `msgpack:"v"`
	Height     float64   `msgpack:"h"`
	Error      float64   `msgpack:"e"`
	Adjustment float64   `msgpack:"a"`
}

// NewCoord returns a coordinate at the origin with the least height and the greatest error.
func NewCoord(dim int) Coord {
	return Coord{Vec: make([]float64, dim), Height: vivaldiHeightMin, Error: vivaldiErrorMax}
}

// Valid says whether c has 2..16 dimensions and finite numbers in range: every component,
// Adjustment and Height within ±1000 s (Height not negative) and Error in [0, 1.5].
func (c Coord) Valid() bool {
	if len(c.Vec) < coordMinDim || len(c.Vec) > coordMaxDim {
		return false
	}
	for _, x := range c.Vec {
		if !within(x, -coordMax, coordMax) {
			return false
		}
	}
	return within(c.Height, 0, coordMax) && within(c.Adjustment, -coordMax, coordMax) &&
		within(c.Error, 0, vivaldiErrorMax)
}

// within is false for NaN.
func within(x, lo, hi float64) bool { return x >= lo && x <= hi }

// DistanceTo estimates the RTT between c and o: the Euclidean distance plus both heights, plus both
// adjustments unless that would make it negative. It is NoEstimate when either is invalid or their
// dimensions differ.
func (c Coord) DistanceTo(o Coord) time.Duration {
	if len(c.Vec) != len(o.Vec) || !c.Valid() || !o.Valid() {
		return NoEstimate
	}
	d := c.rawDistance(o)
	if adj := d + c.Adjustment + o.Adjustment; adj > 0 {
		d = adj
	}
	return time.Duration(d * float64(time.Second))
}

// rawDistance is the distance in seconds without the adjustments; dimensions must match.
func (c Coord) rawDistance(o Coord) float64 {
	var sum float64
	for i := range c.Vec {
		d := c.Vec[i] - o.Vec[i]
		sum += d * d
	}
	return math.Sqrt(sum) + c.Height + o.Height
}

// clone returns a copy that shares nothing with c.
func (c Coord) clone() Coord {
	c.Vec = append([]float64(nil), c.Vec...)
	return c
}

// Vivaldi holds one node's own coordinate and refines it with every RTT it measures to a peer
// whose coordinate it knows (Dabek et al., "Vivaldi: A Decentralized Network Coordinate System",
// 2004, with serf's height, adjustment and gravity). Unlike serf it has no per-peer latency filter:
// the RTTs it is given come from an Estimator, which filters already.
//
// It is not safe for concurrent use.
type Vivaldi struct {
	coord  Coord
	maxRTT time.Duration
	rng    *rand.Rand // picks a direction when two coordinates coincide

	adj    [vivaldiWindow]float64 // rtt − raw distance of the latest observations
	adjIdx int
	resets int
}

// NewVivaldi returns a node at the origin with cfg.Dimensions dimensions. seed drives the random
// direction chosen when two coordinates coincide; give each node a different one (its region ID),
// or nodes that start together at the origin all move along the same line.
func NewVivaldi(cfg *Config, seed uint64) *Vivaldi {
	return &Vivaldi{
		coord:  NewCoord(cfg.Dimensions),
		maxRTT: cfg.MaxRTT,
		rng:    rand.New(rand.NewPCG(seed, 0x5eed_f0ed)),
	}
}

// Coord returns a copy of the node's coordinate.
func (v *Vivaldi) Coord() Coord { return v.coord.clone() }

// Estimate returns the estimated RTT to a peer at coordinate peer, or NoEstimate if peer is invalid
// or of another dimension.
func (v *Vivaldi) Estimate(peer Coord) time.Duration { return v.coord.DistanceTo(peer) }

// Resets counts the times the coordinate became invalid and was put back at the origin.
func (v *Vivaldi) Resets() int { return v.resets }

// Update moves the node's coordinate after measuring rtt to a peer at coordinate peer. It rejects a
// peer coordinate that is invalid or of another dimension (ErrCoord) and an rtt that is not
// positive or above Config.MaxRTT (ErrImpossible).
func (v *Vivaldi) Update(peer Coord, rtt time.Duration) error {
	switch {
	case !peer.Valid():
		return fmt.Errorf("%w: peer coordinate %v is out of range", ErrCoord, peer)
	case len(peer.Vec) != len(v.coord.Vec):
		return fmt.Errorf("%w: peer has %d dimensions, we have %d", ErrCoord, len(peer.Vec), len(v.coord.Vec))
	case rtt <= 0 || rtt > v.maxRTT:
		return fmt.Errorf("%w: RTT %v is not in (0, MaxRTT %v]", ErrImpossible, rtt, v.maxRTT)
	}
	r := rtt.Seconds()
	v.vivaldi(peer, r)
	v.adjustment(peer, r)
	v.gravity()
	if !v.coord.Valid() {
		v.resets++
		v.coord = NewCoord(len(v.coord.Vec))
	}
	return nil
}

// vivaldi moves the coordinate along the line to peer by a share of the error, weighted by how
// confident each side is, and updates the node's own error.
func (v *Vivaldi) vivaldi(peer Coord, rtt float64) {
	c := &v.coord
	dist := c.DistanceTo(peer).Seconds()
	wrongness := math.Abs(dist-rtt) / rtt
	weight := c.Error / max(c.Error+peer.Error, vivaldiZero)
	c.Error = min(vivaldiCE*weight*wrongness+c.Error*(1-vivaldiCE*weight), vivaldiErrorMax)
	v.applyForce(vivaldiCC*weight*(rtt-dist), peer)
}

// adjustment sets Adjustment to half the mean error of the raw distance over the window.
func (v *Vivaldi) adjustment(peer Coord, rtt float64) {
	v.adj[v.adjIdx] = rtt - v.coord.rawDistance(peer)
	v.adjIdx = (v.adjIdx + 1) % vivaldiWindow
	var sum float64
	for _, s := range v.adj {
		sum += s
	}
	v.coord.Adjustment = sum / (2 * vivaldiWindow)
}

// gravity pulls the coordinate towards the origin, harder the farther it is.
func (v *Vivaldi) gravity() {
	origin := NewCoord(len(v.coord.Vec))
	dist := origin.DistanceTo(v.coord).Seconds()
	v.applyForce(-math.Pow(dist/vivaldiRho, 2), origin)
}

// applyForce moves the coordinate by force seconds away from other (towards it if negative) and
// changes the height in proportion.
func (v *Vivaldi) applyForce(force float64, other Coord) {
	c := &v.coord
	unit, mag := v.unitFrom(other)
	for i := range c.Vec {
		c.Vec[i] += unit[i] * force
	}
	if mag > vivaldiZero {
		c.Height = max((c.Height+other.Height)*force/mag+c.Height, vivaldiHeightMin)
	}
}

// unitFrom returns the unit vector from other to the node and their distance; a random direction
// (and distance 0) when they coincide.
func (v *Vivaldi) unitFrom(other Coord) ([]float64, float64) {
	u := make([]float64, len(v.coord.Vec))
	for i := range u {
		u[i] = v.coord.Vec[i] - other.Vec[i]
	}
	if mag := vecNorm(u); mag > vivaldiZero {
		return vecScale(u, 1/mag), mag
	}
	for i := range u {
		u[i] = v.rng.Float64() - 0.5
	}
	if mag := vecNorm(u); mag > vivaldiZero {
		return vecScale(u, 1/mag), 0
	}
	clear(u)
	u[0] = 1
	return u, 0
}

// vecNorm is the Euclidean length of u.
func vecNorm(u []float64) float64 {
	var sum float64
	for _, x := range u {
		sum += x * x
	}
	return math.Sqrt(sum)
}

// vecScale multiplies u by f in place and returns it.
func vecScale(u []float64, f float64) []float64 {
	for i := range u {
		u[i] *= f
	}
	return u
}
