package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// engine is the cost engine's runtime in one node: it owns the sockets and the clock that package
// costs must not touch. It times the node's links (piggy-backed on relayed requests, probes only
// where a link is idle), spreads and receives link-state adverts, computes routes, hands the
// relay its next hops (overlay.Engine), tells the region's clients which destinations take the
// relay (overlay.RoutesSubject), and opens and closes shortcut connections within K.
type engine struct {
	n     *Node
	cfg   costs.Config
	clock func() time.Time
	log   zerolog.Logger

	hops         atomic.Pointer[map[regions.RegionID]overlay.Hop] // read on every relayed message
	routeChanges atomic.Uint64                                    // destinations whose route changed, summed over recomputations
	linkDowns    atomic.Uint64                                    // links of this node that went down
	bytes        atomic.Uint64                                    // control bytes sent and received (adverts, probes)

	sentMu sync.Mutex                  // guards sent
	sent   map[regions.RegionID]uint64 // messages routed to each destination since the last second

	mu       sync.Mutex // guards everything below
	links    map[regions.RegionID]*costs.Link
	viv      *costs.Vivaldi
	state    *costs.LinkState
	router   *costs.Router
	adv      *costs.Advertiser
	mine     *costs.Advert                  // my current link state, as last built
	dirty    bool                           // the graph changed since routes were last computed
	urgent   bool                           // one of this node's links went down: recompute at the next tick
	routedAt time.Time                      // when routes were last computed
	slowAt   time.Time                      // when the link set and the advert were last refreshed
	rates    map[regions.RegionID]float64   // what this region originates, by destination (its demand)
	lastSent map[regions.RegionID]time.Time // when this region last sent to a destination
	// want are the peers the last plan links this node to (nil before the first plan). A
	// shortcut to any other is draining: no longer advertised, so no route takes it, until its
	// opener closes it.
	want map[regions.RegionID]bool
	// plan is the last plan computed (runPlan), at planAt, in planTook; planning while one runs.
	plan      []costs.Pair
	planAt    time.Time
	planTook  time.Duration
	planning  bool
	shortcuts map[regions.RegionID]*shortcutConn
	dialing   map[regions.RegionID]bool
	failed    map[regions.RegionID]dialFailure // regions whose last dial failed, and when to try again
	measured  map[regions.RegionID]measuredRTT // the RTT shortcuts to a region last measured
	inbound   map[string]time.Time             // shortcut users connected to this node, or admitted and not seen yet
	// inboundPeers are the regions whose nodes hold a shortcut to this node that this node did not
	// open itself, with the opener's node name: the relay uses them the other way.
	inboundPeers map[regions.RegionID]string
	inboundLive  map[regions.RegionID]bool // inbound shortcuts whose namespace was seen subscribed
	probing      map[regions.RegionID]bool
	leaves       map[regions.RegionID]bool // regions this node had a leafnode connection with at the last tick
	hints        []regions.RegionID
	hintsAt      time.Time // when the hints were last published
	load         costs.Load
	slowSeen     int64
	cpu          cpuMeter
}

// measuredRTT is what a shortcut to a region measured, kept for measuredKeep after it closed and
// advertised: every node's plan costs the pair by it rather than by network coordinates, which cannot represent
// a pair whose direct RTT is longer than some detour (a triangle the real Internet often breaks)
// and so overrate it. Without it a node reopened such a shortcut, measured it, replaced it by the
// next overrated candidate, and so on (the lab's open-and-close waves, DESIGN.md).
type measuredRTT struct {
	rtt time.Duration
	at  time.Time
}

// measuredKeep is how long a measured RTT stands in for the coordinates' estimate.
const measuredKeep = 10 * time.Minute

// dialFailure backs off dials to a region that failed: the pause doubles from DialRetry up to
// DialRetryMax, and a success forgets it. A shortcut cut for a while is therefore redialed within
// DialRetryMax of the heal.
type dialFailure struct {
	retryAt time.Time
	pause   time.Duration
}

// shortcutConn is one shortcut this node opened.
type shortcutConn struct {
	nc     *nats.Conn
	opened time.Time
	// unplanned is when the plan last stopped listing it (zero while it does): it is closed
	// PlanGrace later, or at once when a planned shortcut needs its slot.
	unplanned time.Time
}

func newEngine(n *Node) *engine {
	clock := n.cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	e := &engine{n: n, cfg: n.cfg.Costs, clock: clock,
		links: map[regions.RegionID]*costs.Link{}, rates: map[regions.RegionID]float64{}, lastSent: map[regions.RegionID]time.Time{},
		shortcuts: map[regions.RegionID]*shortcutConn{}, dialing: map[regions.RegionID]bool{},
		inbound: map[string]time.Time{}, probing: map[regions.RegionID]bool{},
		inboundPeers: map[regions.RegionID]string{}, inboundLive: map[regions.RegionID]bool{}, failed: map[regions.RegionID]dialFailure{},
		measured: map[regions.RegionID]measuredRTT{},
		sent:     map[regions.RegionID]uint64{}}
	// Every part reads the engine's one copy of the config.
	e.viv = costs.NewVivaldi(&e.cfg, uint64(n.cfg.Broker.Region))
	e.state = costs.NewLinkState(&e.cfg)
	e.adv = costs.NewAdvertiser(&e.cfg, uint64(time.Now().UnixNano())) // a restarted node's adverts sort after its old ones
	// A message may cross MaxHops relays: the origin's, those the route lists, and the
	// destination's when a shortcut delivers there.
	e.router = costs.NewRouter(n.cfg.Broker.Region, &e.cfg, max(n.cfg.Overlay.MaxHops-2, 0))
	empty := map[regions.RegionID]overlay.Hop{}
	e.hops.Store(&empty)
	return e
}

// Next implements overlay.Engine. The region's demand counts what it originates: a message
// relayed on behalf of another region is that region's demand, which it advertises itself.
func (e *engine) Next(d regions.RegionID, origin bool) overlay.Hop {
	if origin {
		e.sentMu.Lock()
		e.sent[d]++
		e.sentMu.Unlock()
	}
	return (*e.hops.Load())[d] // the zero Hop is the tree
}

// Now implements overlay.Engine.
func (e *engine) Now() time.Time { return e.clock() }

// Timed implements overlay.Engine: exchanges with a region one link away are timed.
func (e *engine) Timed(peer regions.RegionID) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.links[peer]
	if l == nil {
		return false
	}
	l.Sent(e.clock(), false)
	return true
}

// Answered implements overlay.Engine.
func (e *engine) Answered(peer regions.RegionID, t1, t2, t3, t4 time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answeredLocked(peer, costs.Stamps{T1: t1, T2: t2, T3: t3, T4: t4}, false)
}

// Carried implements overlay.Engine.
func (e *engine) Carried(peer regions.RegionID) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l := e.links[peer]; l != nil {
		l.Carried(e.clock())
	}
}

func (e *engine) answeredLocked(peer regions.RegionID, s costs.Stamps, probe bool) {
	l := e.links[peer]
	if l == nil {
		return
	}
	wasUp := l.Up()
	if err := l.Answered(s, probe, e.clock()); err != nil {
		e.log.Debug().Err(err).Stringer("peer", peer).Msg("timing sample rejected")
		return
	}
	if !wasUp {
		e.dirty = true
	}
	if c, ok := e.state.Coord(peer); ok {
		_ = e.viv.Update(c, s.Delay()) // an invalid coordinate was refused when its advert arrived
	}
}
