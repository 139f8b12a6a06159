package costs

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

func TestCoordDistance(t *testing.T) {
	at := func(h, adj float64, vec ...float64) Coord { return Coord{Vec: vec, Height: h, Adjustment: adj} }
	for _, tc := range []struct {
		name string
		a, b Coord
		want time.Duration
	}{
		{"origin to itself", NewCoord(8), NewCoord(8), 20 * time.Microsecond},
		{"3-4-5", at(0, 0, 0, 0), at(0, 0, 0.030, 0.040), 50 * time.Millisecond},
		{"heights add", at(0.002, 0, 0, 0), at(0.003, 0, 0.030, 0.040), 55 * time.Millisecond},
		{"adjustments add", at(0, 0.001, 0, 0), at(0, -0.004, 0.030, 0.040), 47 * time.Millisecond},
		{"adjustments never make it negative", at(0, -0.1, 0, 0), at(0, -0.1, 0.030, 0.040), 50 * time.Millisecond},
		{"dimensions differ", NewCoord(2), NewCoord(3), NoEstimate},
		{"one invalid", NewCoord(2), at(0, 0, math.NaN(), 0), NoEstimate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, back := tc.a.DistanceTo(tc.b), tc.b.DistanceTo(tc.a)
			if d := got - tc.want; d > time.Microsecond || d < -time.Microsecond || got != back {
				t.Errorf("DistanceTo = %v and back %v, want %v", got, back, tc.want)
			}
		})
	}
}

func TestCoordValid(t *testing.T) {
	edit := func(f func(*Coord)) Coord { c := NewCoord(8); f(&c); return c }
	for _, tc := range []struct {
		name string
		c    Coord
		want bool
	}{
		{"new", NewCoord(8), true},
		{"2 dimensions", NewCoord(2), true},
		{"16 dimensions", NewCoord(16), true},
		{"1 dimension", NewCoord(1), false},
		{"17 dimensions", NewCoord(17), false},
		{"no vector", Coord{}, false},
		{"NaN component", edit(func(c *Coord) { c.Vec[3] = math.NaN() }), false},
		{"infinite component", edit(func(c *Coord) { c.Vec[0] = math.Inf(-1) }), false},
		{"huge component", edit(func(c *Coord) { c.Vec[0] = 1e300 }), false},
		{"negative height", edit(func(c *Coord) { c.Height = -1e-6 }), false},
		{"NaN height", edit(func(c *Coord) { c.Height = math.NaN() }), false},
		{"infinite adjustment", edit(func(c *Coord) { c.Adjustment = math.Inf(1) }), false},
		{"error above max", edit(func(c *Coord) { c.Error = 1.6 }), false},
		{"negative error", edit(func(c *Coord) { c.Error = -0.1 }), false},
		{"zero error", edit(func(c *Coord) { c.Error = 0 }), true},
	} {
		if got := tc.c.Valid(); got != tc.want {
			t.Errorf("%s: Valid = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestVivaldiRejects(t *testing.T) {
	cfg := measureConfig(t)
	v := NewVivaldi(cfg, 1)
	bad := NewCoord(cfg.Dimensions)
	bad.Vec[0] = math.NaN()
	for _, tc := range []struct {
		name string
		peer Coord
		rtt  time.Duration
		want error
	}{
		{"invalid peer", bad, 10 * time.Millisecond, ErrCoord},
		{"other dimension", NewCoord(cfg.Dimensions - 1), 10 * time.Millisecond, ErrCoord},
		{"zero RTT", NewCoord(cfg.Dimensions), 0, ErrImpossible},
		{"negative RTT", NewCoord(cfg.Dimensions), -time.Millisecond, ErrImpossible},
		{"RTT above MaxRTT", NewCoord(cfg.Dimensions), cfg.MaxRTT + 1, ErrImpossible},
	} {
		if err := v.Update(tc.peer, tc.rtt); !errors.Is(err, tc.want) {
			t.Errorf("%s: Update = %v, want %v", tc.name, err, tc.want)
		}
	}
	if c := v.Coord(); !slices.Equal(c.Vec, NewCoord(cfg.Dimensions).Vec) || c.Error != vivaldiErrorMax {
		t.Errorf("rejected updates moved the coordinate to %+v", c)
	}
}

func TestVivaldiCoordIsCopy(t *testing.T) {
	v := NewVivaldi(measureConfig(t), 1)
	c := v.Coord()
	c.Vec[0] = 42
	if v.Coord().Vec[0] != 0 {
		t.Error("Coord shares its vector with the Vivaldi state")
	}
}

// Two nodes that measure each other converge on their RTT; the same seeds give the same
// coordinates, and nodes that start together at the origin part in different directions.
func TestVivaldiPair(t *testing.T) {
	const rtt = 50 * time.Millisecond
	run := func(seedA, seedB uint64, rounds int) (Coord, Coord) {
		cfg := measureConfig(t)
		a, b := NewVivaldi(cfg, seedA), NewVivaldi(cfg, seedB)
		for range rounds {
			if err := a.Update(b.Coord(), rtt); err != nil {
				t.Fatal(err)
			}
			if err := b.Update(a.Coord(), rtt); err != nil {
				t.Fatal(err)
			}
		}
		return a.Coord(), b.Coord()
	}
	a, b := run(1, 2, 200)
	if est := a.DistanceTo(b); est < rtt*99/100 || est > rtt*101/100 {
		t.Errorf("after 200 rounds the estimate is %v, want %v ± 1 %%", est, rtt)
	}
	if a.Error > 0.1 || b.Error > 0.1 {
		t.Errorf("errors %v and %v did not fall", a.Error, b.Error)
	}
	a2, b2 := run(1, 2, 200)
	if !slices.Equal(a.Vec, a2.Vec) || !slices.Equal(b.Vec, b2.Vec) {
		t.Error("same seeds, different coordinates")
	}
	a, b = run(1, 1, 1)
	c, _ := run(3, 3, 1)
	if slices.Equal(a.Vec, c.Vec) || slices.Equal(a.Vec, make([]float64, len(a.Vec))) {
		t.Errorf("coincident start: seeds 1 and 3 moved to %v and %v", a.Vec, c.Vec)
	}
}

// FuzzCoordValid decodes a coordinate as it arrives from the network: nothing may panic, DistanceTo
// is never negative except NoEstimate, and Update accepts only valid coordinates and stays valid.
func FuzzCoordValid(f *testing.F) {
	for _, c := range []Coord{NewCoord(8), {Vec: []float64{math.NaN(), 1}}, NewCoord(17),
		{Vec: []float64{1e308, -1e308}, Height: 1e308, Adjustment: -1e308}} {
		b, err := msgpack.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x81, 0xa1, 'v', 0xdd, 0xff, 0xff, 0xff, 0xff}) // {"v": array of 2³²−1}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Coord
		if msgpack.Unmarshal(b, &c) != nil {
			return
		}
		valid := c.Valid()
		for _, d := range []time.Duration{c.DistanceTo(c), c.DistanceTo(NewCoord(8)), NewCoord(8).DistanceTo(c)} {
			if d < 0 && d != NoEstimate || valid && len(c.Vec) == 8 && d < 0 {
				t.Fatalf("%+v: distance %v", c, d)
			}
		}
		v := NewVivaldi(measureConfig(t), 1)
		err := v.Update(c, 30*time.Millisecond)
		if err == nil && (!valid || len(c.Vec) != 8) {
			t.Fatalf("Update accepted %+v", c)
		}
		if !v.Coord().Valid() {
			t.Fatalf("after Update(%+v) own coordinate %+v is invalid", c, v.Coord())
		}
	})
}

func TestCoordMsgpack(t *testing.T) {
	c := NewCoord(8)
	c.Vec[2], c.Adjustment, c.Error = -0.012, 0.001, 0.3
	good, err := msgpack.Marshal(struct {
		C     Coord `msgpack:"c"`
		Extra int   `msgpack:"x"`
	}{c, 3})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		C Coord `msgpack:"c"` // the custom decoder runs for embedded fields too
	}
	if err := msgpack.Unmarshal(good, &in); err != nil || !slices.Equal(in.C.Vec, c.Vec) ||
		in.C.Height != c.Height || in.C.Error != c.Error || in.C.Adjustment != c.Adjustment {
		t.Errorf("round trip: %+v, %v; want %+v", in.C, err, c)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want Coord
		err  error // nil: any error will do when fail
		fail bool
	}{
		{"nil map", []byte{0xc0}, Coord{}, nil, false},
		{"unknown key skipped", []byte{0x82, 0xa1, 'z', 0x92, 0x01, 0x02, 0xa1, 'h', 0x01}, Coord{Height: 1}, nil, false},
		{"ints as floats", []byte{0x81, 0xa1, 'v', 0x92, 0x01, 0xff}, Coord{Vec: []float64{1, -1}}, nil, false},
		{"17 dimensions", append([]byte{0x81, 0xa1, 'v', 0xdc, 0x00, 0x11}, make([]byte, 17)...), Coord{}, ErrCoord, true},
		{"2³²−1 dimensions", []byte{0x81, 0xa1, 'v', 0xdd, 0xff, 0xff, 0xff, 0xff}, Coord{}, ErrCoord, true},
		{"truncated", []byte{0x81, 0xa1, 'v', 0x92, 0x01}, Coord{}, nil, true},
		{"not a map", []byte{0x92, 0x01, 0x02}, Coord{}, nil, true},
	} {
		var got Coord
		err := msgpack.Unmarshal(tc.b, &got)
		switch {
		case tc.fail && (err == nil || tc.err != nil && !errors.Is(err, tc.err)):
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
		case !tc.fail && (err != nil || !slices.Equal(got.Vec, tc.want.Vec) || got.Height != tc.want.Height):
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}
