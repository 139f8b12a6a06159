package costs

import (
	"fmt"
	"math"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/vmihailenco/msgpack/v5"
	"golang.org/x/time/rate"
)

// MaxAdvertLinks bounds the links one advert may list: a node's tree links (its parent and its
// children) and at most K shortcuts. A region with more children than this is split by the
// operator long before; the bound keeps a forged advert from costing memory.
const MaxAdvertLinks = 4096

// Advert is one node's link state, spread to every region over the tree (msgpack, signed by the
// node's identity). Costs are computed by the receiver from RTT and the far node's load, so every
// region applies the same formula with its own Config.
type Advert struct {
	Region    regions.RegionID `msgpack:"r"`
	Node      string           `msgpack:"n"`
	Seq       uint64           `msgpack:"s"` // grows with every advert of the node, and across restarts
	Time      int64            `msgpack:"t"` // sender's clock, unix ns; informational only
	Coord     Coord            `msgpack:"c"`
	Load      Load             `msgpack:"l"`
	Shortcuts int              `msgpack:"k"` // shortcut connections held, opened and accepted
	Links     AdvertLinks      `msgpack:"e"`
	// Demand is the traffic this node's region originates, busiest destinations first (at most
	// MaxAdvertDemand): every node plans shortcuts from everyone's (Plan).
	Demand AdvertDemand `msgpack:"d"`
	// Measured are the RTTs this node's shortcuts measured, open or closed within the last
	// minutes, RTT in µs: every node's plan costs those pairs by them instead of by coordinates.
	Measured AdvertLinks `msgpack:"m"`
}

// AdvertDemand is an advert's demand, its length checked before anything is allocated (see
// AdvertLinks).
type AdvertDemand []DemandEntry

// DemandEntry is the rate, in msgs/s, at which a region sends to To.
type DemandEntry struct {
	To   regions.RegionID `msgpack:"t"`
	Rate float32          `msgpack:"r"`
}

// DecodeMsgpack implements msgpack.CustomDecoder.
func (l *AdvertDemand) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeBounded(d, (*[]DemandEntry)(l), MaxAdvertDemand, "demand entries")
}

// maxService bounds an advertised relay service time: a minute per message is a dead relay.
const maxService = int64(time.Minute / time.Microsecond)

// maxDemandRate bounds an advertised rate: no region sends a billion messages a second to one
// other, and a bound keeps sums finite.
const maxDemandRate = 1e9

// AdvertLinks are an advert's links. They decode with their length checked before anything is
// allocated: msgpack v5.4's reflection decoder ignores its own allocation limit for slices
// (vmihailenco/msgpack#401), so an 8-byte advert could otherwise claim 2^32 links and exhaust the
// node's memory.
type AdvertLinks []AdvertLink

// DecodeMsgpack implements msgpack.CustomDecoder.
func (l *AdvertLinks) DecodeMsgpack(d *msgpack.Decoder) error {
	return decodeBounded(d, (*[]AdvertLink)(l), MaxAdvertLinks, "links")
}

// decodeBounded decodes a msgpack array of at most limit elements into *out, refusing a longer
// one before allocating anything.
func decodeBounded[T any](d *msgpack.Decoder, out *[]T, limit int, what string) error {
	n, err := d.DecodeArrayLen()
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("%w: %d %s (at most %d)", ErrAdvert, n, what, limit)
	}
	if n <= 0 {
		*out = nil
		return nil
	}
	v := make([]T, n)
	for i := range v {
		if err := d.Decode(&v[i]); err != nil {
			return err
		}
	}
	*out = v
	return nil
}

// AdvertLink is one link of an advert, from the advertising region to To.
type AdvertLink struct {
	To   regions.RegionID `msgpack:"t"`
	Kind Kind             `msgpack:"k"`
	RTT  uint32           `msgpack:"r"` // microseconds; 0 = not measured yet (not routable)
	Up   bool             `msgpack:"u"`
}

// Marshal encodes the advert.
func (a *Advert) Marshal() ([]byte, error) { return msgpack.Marshal(a) }

// ParseAdvert decodes and checks an advert received from the network.
func ParseAdvert(b []byte) (*Advert, error) {
	var a Advert
	if err := msgpack.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAdvert, err)
	}
	if err := a.Check(); err != nil {
		return nil, err
	}
	return &a, nil
}

// Check validates an advert's fields.
func (a *Advert) Check() error {
	switch {
	case !a.Region.Valid():
		return fmt.Errorf("%w: region 0000 is reserved", ErrAdvert)
	case a.Node == "" || len(a.Node) > 64:
		return fmt.Errorf("%w: node name must be 1..64 bytes", ErrAdvert)
	case len(a.Links) > MaxAdvertLinks:
		return fmt.Errorf("%w: %d links (at most %d)", ErrAdvert, len(a.Links), MaxAdvertLinks)
	case a.Shortcuts < 0 || a.Shortcuts > MaxAdvertLinks:
		return fmt.Errorf("%w: %d shortcuts", ErrAdvert, a.Shortcuts)
	case len(a.Coord.Vec) > 0 && !a.Coord.Valid():
		return fmt.Errorf("%w: invalid coordinate", ErrAdvert)
	case a.Load.RelayQueue < 0 || a.Load.PendingBytes < 0 || a.Load.SlowConsumers < 0 || a.Load.Service < 0 || a.Load.Service > maxService ||
		math.IsNaN(a.Load.CPU) || a.Load.CPU < 0 || a.Load.CPU > 1024:
		return fmt.Errorf("%w: impossible load figures %+v", ErrAdvert, a.Load)
	}
	if len(a.Demand) > MaxAdvertDemand || len(a.Measured) > MaxAdvertLinks {
		return fmt.Errorf("%w: %d demand entries, %d measured links", ErrAdvert, len(a.Demand), len(a.Measured))
	}
	for _, d := range a.Demand {
		r := float64(d.Rate)
		if !d.To.Valid() || d.To == a.Region || math.IsNaN(r) || r < 0 || r > maxDemandRate {
			return fmt.Errorf("%w: demand %s→%s at %v msgs/s", ErrAdvert, a.Region, d.To, d.Rate)
		}
	}
	for _, l := range a.Measured {
		if !l.To.Valid() || l.To == a.Region || l.RTT == 0 {
			return fmt.Errorf("%w: measured %s-%s at %d µs", ErrAdvert, a.Region, l.To, l.RTT)
		}
	}
	for _, l := range a.Links {
		switch {
		case !l.To.Valid() || l.To == a.Region:
			return fmt.Errorf("%w: link from %s to %s", ErrAdvert, a.Region, l.To)
		case l.Kind != Tree && l.Kind != Shortcut:
			return fmt.Errorf("%w: link %s-%s has kind %d", ErrAdvert, a.Region, l.To, l.Kind)
		}
	}
	return nil
}

// significant reports whether cur differs from prev enough to advertise before the refresh: a
// link appeared, vanished, went up or down, or its RTT moved by ChangeRel and ChangeAbs; the shortcut count
// changed; or the load moved the cost of the links into this node by LoadChange.
// An RTT change must also reach ChangeAbs, so jitter on short links does not flood the federation.
func significant(cfg *Config, prev, cur *Advert) bool {
	if prev == nil || len(prev.Links) != len(cur.Links) || prev.Shortcuts != cur.Shortcuts ||
		demandMoved(prev.Demand, cur.Demand) || len(prev.Measured) != len(cur.Measured) {
		return true
	}
	old := make(map[[2]uint32]AdvertLink, len(prev.Links))
	for _, l := range prev.Links {
		old[[2]uint32{uint32(l.To), uint32(l.Kind)}] = l
	}
	for _, l := range cur.Links {
		p, ok := old[[2]uint32{uint32(l.To), uint32(l.Kind)}]
		if !ok || p.Up != l.Up || (p.RTT == 0) != (l.RTT == 0) {
			return true
		}
		moved := math.Abs(float64(l.RTT) - float64(p.RTT)) // µs
		if moved > cfg.ChangeRel*float64(p.RTT) && moved >= float64(cfg.ChangeAbs.Microseconds()) {
			return true
		}
	}
	loadMs := func(l Load) float64 { return Cost(cfg, 0, l) }
	return math.Abs(loadMs(cur.Load)-loadMs(prev.Load)) > cfg.LoadChange
}

// demandMoved reports whether a region's demand changed enough to advertise at once: a
// destination entered or left it, or a rate doubled or halved and moved by at least 1 msg/s.
// Smaller moves wait for the refresh, so plans do not follow noise.
func demandMoved(prev, cur AdvertDemand) bool {
	if len(prev) != len(cur) {
		return true
	}
	old := make(map[regions.RegionID]float64, len(prev))
	for _, d := range prev {
		old[d.To] = float64(d.Rate)
	}
	for _, d := range cur {
		p, ok := old[d.To]
		r := float64(d.Rate)
		if !ok || (math.Abs(r-p) >= 1 && (r >= 2*p || 2*r <= p)) {
			return true
		}
	}
	return false
}

// Advertiser decides when a node sends its advert: at once on a significant change, at most once
// per AdvertMinGap (a token bucket from golang.org/x/time/rate, driven by the caller's clock), and
// every AdvertEvery regardless. It is not safe for concurrent use.
type Advertiser struct {
	cfg      *Config
	limit    *rate.Limiter
	last     *Advert
	lastSent time.Time
	seq      uint64
}

// NewAdvertiser returns an advertiser whose sequence starts at start (use the node's start time in
// unix ns, so a restarted node's adverts replace its old ones).
func NewAdvertiser(cfg *Config, start uint64) *Advertiser {
	return &Advertiser{cfg: cfg, limit: rate.NewLimiter(rate.Every(cfg.AdvertMinGap), 1), seq: start}
}

// Next returns the advert to send now with its sequence number set, or nil when nothing is due.
func (a *Advertiser) Next(cur Advert, now time.Time) *Advert {
	due := a.last == nil || now.Sub(a.lastSent) >= a.cfg.AdvertEvery || significant(a.cfg, a.last, &cur)
	if !due || !a.limit.AllowN(now, 1) {
		return nil
	}
	a.seq++
	cur.Seq, cur.Time = a.seq, now.UnixNano()
	a.last, a.lastSent = &cur, now
	return &cur
}

// MaxAdvertDemand bounds the flows one advert may list: a node advertises its busiest
// destinations only, as Select weighs only its busiest.
const MaxAdvertDemand = maxCandidates
