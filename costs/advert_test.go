package costs

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/vmihailenco/msgpack/v5"
)

func testAdvert() Advert {
	return Advert{Region: 0x00a1, Node: "n1", Coord: NewCoord(8), Shortcuts: 1,
		Links: AdvertLinks{{To: 0x00a0, Kind: Tree, RTT: 2000, Up: true}, {To: 0x00b0, Kind: Shortcut, RTT: 3000, Up: true}}}
}

func TestAdvertRoundTrip(t *testing.T) {
	a := testAdvert()
	b, err := a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseAdvert(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Region != a.Region || got.Node != a.Node || len(got.Links) != 2 || got.Links[1] != a.Links[1] {
		t.Fatalf("round trip: %+v, want %+v", got, a)
	}
	t.Logf("advert with 2 links and an 8-dimension coordinate: %d bytes", len(b))
}

func TestAdvertRefused(t *testing.T) {
	for name, edit := range map[string]func(*Advert){
		"reserved region":       func(a *Advert) { a.Region = 0 },
		"no node":               func(a *Advert) { a.Node = "" },
		"self link":             func(a *Advert) { a.Links[0].To = a.Region },
		"link to 0000":          func(a *Advert) { a.Links[0].To = 0 },
		"unknown kind":          func(a *Advert) { a.Links[0].Kind = 9 },
		"negative load":         func(a *Advert) { a.Load.RelayQueue = -1 },
		"bad coordinate":        func(a *Advert) { a.Coord.Height = -5 },
		"negative service time": func(a *Advert) { a.Load.Service = -1 },
		"service time of hours": func(a *Advert) { a.Load.Service = int64(time.Hour / time.Microsecond) },
		// Demand and measured RTTs steer every node's plan: a region may advertise only its own,
		// and only sane figures.
		"demand to itself":      func(a *Advert) { a.Demand = AdvertDemand{{To: a.Region, Rate: 1}} },
		"demand to 0000":        func(a *Advert) { a.Demand = AdvertDemand{{To: 0, Rate: 1}} },
		"negative demand":       func(a *Advert) { a.Demand = AdvertDemand{{To: 2, Rate: -1}} },
		"NaN demand":            func(a *Advert) { a.Demand = AdvertDemand{{To: 2, Rate: float32(math.NaN())}} },
		"huge demand":           func(a *Advert) { a.Demand = AdvertDemand{{To: 2, Rate: 1e12}} },
		"too many destinations": func(a *Advert) { a.Demand = make(AdvertDemand, MaxAdvertDemand+1) },
		"measured with no RTT":  func(a *Advert) { a.Measured = AdvertLinks{{To: 2, Kind: Shortcut}} },
		"measured to itself":    func(a *Advert) { a.Measured = AdvertLinks{{To: a.Region, Kind: Shortcut, RTT: 9}} },
	} {
		a := testAdvert()
		edit(&a)
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseAdvert(b); !errors.Is(err, ErrAdvert) {
			t.Errorf("%s: %v, want ErrAdvert", name, err)
		}
	}
}

// TestAdvertListsBoundedBeforeAllocation: a tiny advert claiming 2^32-1 links, or demand
// entries, is refused without allocating them (msgpack v5.4 would, vmihailenco/msgpack#401).
func TestAdvertListsBoundedBeforeAllocation(t *testing.T) {
	for _, field := range []byte{'e', 'd'} { // links, demand
		evil := []byte{0x81, 0xa1, field, 0xdd, 0xff, 0xff, 0xff, 0xff} // {field: array32 of 2^32-1}
		if _, err := ParseAdvert(evil); err == nil {
			t.Fatalf("advert claiming 2^32-1 %q entries accepted", field)
		}
		if a := testing.AllocsPerRun(10, func() { _, _ = ParseAdvert(evil) }); a > 50 {
			t.Fatalf("%q: %v allocations to refuse it", field, a)
		}
	}
}

func TestAdvertiser(t *testing.T) {
	cfg := DefaultConfig()
	ad := NewAdvertiser(&cfg, 100)
	now := time.Unix(1000, 0)
	a := testAdvert()
	first := ad.Next(a, now)
	if first == nil || first.Seq != 101 {
		t.Fatalf("first advert: %+v", first)
	}
	if ad.Next(a, now.Add(time.Second)) != nil {
		t.Fatal("an unchanged advert was sent again before the refresh")
	}
	changed := testAdvert()
	changed.Links[1].Up = false
	if ad.Next(changed, now.Add(100*time.Millisecond)) != nil {
		t.Fatal("a change was sent inside the rate limit")
	}
	if got := ad.Next(changed, now.Add(2*time.Second)); got == nil || got.Seq != 102 {
		t.Fatalf("significant change not sent: %+v", got)
	}
	small := changed
	small.Links = append(AdvertLinks(nil), changed.Links...)
	small.Links[0].RTT = 2100 // 5 %: below ChangeRel
	if ad.Next(small, now.Add(4*time.Second)) != nil {
		t.Fatal("a 5% RTT change was sent before the refresh")
	}
	if ad.Next(small, now.Add(2*time.Second+cfg.AdvertEvery)) == nil {
		t.Fatal("no refresh after AdvertEvery")
	}
}

func TestLinkStateKeepsNewest(t *testing.T) {
	cfg := DefaultConfig()
	s := NewLinkState(&cfg)
	now := time.Unix(1000, 0)
	a := testAdvert()
	a.Seq = 5
	if !s.Apply(&a, now) {
		t.Fatal("first advert not applied")
	}
	old := testAdvert()
	old.Seq, old.Links = 4, nil
	if s.Apply(&old, now) {
		t.Fatal("an older advert replaced a newer one")
	}
	g := s.Graph(0x0001, nil)
	if e, ok := g.Edge(0x00a1, 0x00b0, Shortcut); !ok || e.Cost < 3 {
		t.Fatalf("edge a1→b: %+v %v", e, ok)
	}
	if s.Expire(now.Add(cfg.AdvertTTL+time.Second)) != 1 || s.Nodes() != 0 {
		t.Fatal("a silent node's advert was not expired")
	}
	_ = regions.RegionID(0)
}

func FuzzParseAdvert(f *testing.F) {
	a := testAdvert()
	b, _ := a.Marshal()
	f.Add(b)
	f.Add([]byte{0x81, 0xa1, 'e', 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseAdvert(data)
		if err != nil {
			return
		}
		if err := a.Check(); err != nil {
			t.Fatalf("parsed advert fails its own check: %v", err)
		}
		if _, err := msgpack.Marshal(a); err != nil {
			t.Fatal(err)
		}
	})
}

// TestTreeLinkDownEitherEnd: a child cut off from its only tree link cannot advertise the cut;
// its parent's advert alone takes the link out of everyone's graph, both ways.
func TestTreeLinkDownEitherEnd(t *testing.T) {
	cfg := DefaultConfig()
	s := NewLinkState(&cfg)
	now := time.Unix(1000, 0)
	child := Advert{Region: 0x00a1, Node: "n1", Seq: 1, Links: AdvertLinks{{To: 0x00a0, Kind: Tree, RTT: 2000, Up: true}}}
	parent := Advert{Region: 0x00a0, Node: "n1", Seq: 1, Links: AdvertLinks{{To: 0x00a1, Kind: Tree, RTT: 2000, Up: false}}}
	s.Apply(&child, now)
	s.Apply(&parent, now)
	g := s.Graph(0x00b0, nil)
	if e, ok := g.Edge(0x00a1, 0x00a0, Tree); !ok || e.Up {
		t.Fatalf("child's stale tree edge: %+v %v, want it down", e, ok)
	}
}

// TestDemandMoved: a demand is news when a destination enters or leaves it, or a rate doubles or
// halves by at least 1 msg/s; noise waits for the refresh.
func TestDemandMoved(t *testing.T) {
	base := AdvertDemand{{To: 2, Rate: 10}, {To: 3, Rate: 1}}
	for _, tc := range []struct {
		name string
		cur  AdvertDemand
		want bool
	}{
		{"same", AdvertDemand{{To: 2, Rate: 10}, {To: 3, Rate: 1}}, false},
		{"noise", AdvertDemand{{To: 2, Rate: 14}, {To: 3, Rate: 1.6}}, false},
		{"doubled", AdvertDemand{{To: 2, Rate: 20}, {To: 3, Rate: 1}}, true},
		{"halved", AdvertDemand{{To: 2, Rate: 5}, {To: 3, Rate: 1}}, true},
		{"doubled by less than 1 msg/s", AdvertDemand{{To: 2, Rate: 10}, {To: 3, Rate: 1.9}}, false},
		{"another destination", AdvertDemand{{To: 2, Rate: 10}, {To: 4, Rate: 1}}, true},
		{"one gone", AdvertDemand{{To: 2, Rate: 10}}, true},
	} {
		if got := demandMoved(base, tc.cur); got != tc.want {
			t.Errorf("%s: demandMoved = %v, want %v", tc.name, got, tc.want)
		}
	}
}
