package fed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/fedist/fedist/integration/linkemu"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// ErrNotAllowed is returned for a region pair that the topology gives no direct link.
var ErrNotAllowed = errors.New("no direct link allowed between these regions")

// Net is the emulated WAN between the regions of a topology. It keeps one linkemu.Link per
// (from region, to region, target address): every connection region `from` opens to an address of
// region `to` goes through that link. Links are created on first use. The state of a region pair
// (its RTT, whether it is cut) applies to every link between the two regions, in both directions,
// including links created later.
type Net struct {
	top  *topo.Topology
	base linkemu.Config // Jitter and Bandwidth of every link; Delay comes from the pair's RTT

	mu     sync.Mutex // guards pairs, closed
	pairs  map[[2]regions.RegionID]*pairState
	closed bool
}

// pairState is the state of one unordered region pair and the links between the two.
type pairState struct {
	rtt   time.Duration
	cut   bool
	links map[linkKey]*linkemu.Link
}

type linkKey struct {
	from   regions.RegionID
	target string
}

// NewNet returns an emulated WAN over top with no links yet. base gives every link's Jitter and
// Bandwidth; its Delay is ignored.
func NewNet(top *topo.Topology, base linkemu.Config) (*Net, error) {
	base.Delay = 0
	if err := base.Validate(); err != nil {
		return nil, err
	}
	return &Net{top: top, base: base, pairs: make(map[[2]regions.RegionID]*pairState)}, nil
}

func pairOf(a, b regions.RegionID) [2]regions.RegionID {
	if a > b {
		a, b = b, a
	}
	return [2]regions.RegionID{a, b}
}

// pairLocked returns the state of a and b, creating it with the topology's RTT.
func (n *Net) pairLocked(a, b regions.RegionID) (*pairState, error) {
	k := pairOf(a, b)
	if p := n.pairs[k]; p != nil {
		return p, nil
	}
	ms, ok := n.top.LinkRTT(a, b)
	if !ok {
		return nil, fmt.Errorf("link %s-%s: %w", n.top.Name(a), n.top.Name(b), ErrNotAllowed)
	}
	p := &pairState{rtt: topo.Ms(ms), links: make(map[linkKey]*linkemu.Link)}
	n.pairs[k] = p
	return p, nil
}

func (n *Net) linkConfig(rtt time.Duration) linkemu.Config {
	c := n.base
	c.Delay = rtt / 2
	c.Jitter = min(c.Jitter, c.Delay)
	return c
}

// Link returns the link that carries connections from region from to target, an address of region
// to, creating it on first use.
func (n *Net) Link(from, to regions.RegionID, target string) (*linkemu.Link, error) {
	if from == to {
		return nil, fmt.Errorf("link %s to itself: %w", n.top.Name(from), ErrNotAllowed)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, linkemu.ErrClosed
	}
	p, err := n.pairLocked(from, to)
	if err != nil {
		return nil, err
	}
	k := linkKey{from, target}
	if l := p.links[k]; l != nil {
		return l, nil
	}
	l, err := linkemu.New(target, n.linkConfig(p.rtt))
	if err != nil {
		return nil, fmt.Errorf("link %s->%s: %w", n.top.Name(from), n.top.Name(to), err)
	}
	if p.cut {
		l.Cut()
	}
	p.links[k] = l
	return l, nil
}

// Addr returns the address region from dials instead of target, an address of region to. It is the
// substitute for dialers that cannot be replaced, such as nats-server's leafnode remotes.
func (n *Net) Addr(from, to regions.RegionID, target string) (string, error) {
	l, err := n.Link(from, to, target)
	if err != nil {
		return "", err
	}
	return l.Addr(), nil
}

// Dial opens a TCP connection from region from to addr, an address of region to, through the link
// between them.
func (n *Net) Dial(ctx context.Context, from, to regions.RegionID, network, addr string) (net.Conn, error) {
	l, err := n.Link(from, to, addr)
	if err != nil {
		return nil, err
	}
	return l.DialContext(ctx, network, addr)
}

// Dialer returns the dialer for connections from region from to region to. It satisfies nats.go's
// CustomDialer (nats.SetCustomDialer), so a nats.Conn given to's real client URLs goes through
// the emulated link, whichever of to's servers it picks.
func (n *Net) Dialer(from, to regions.RegionID) *Dialer { return &Dialer{n: n, from: from, to: to} }

// Dialer dials from one region to another through the Net.
type Dialer struct {
	n        *Net
	from, to regions.RegionID
}

// DialContext dials addr, an address of the dialer's destination region, through the link.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.n.Dial(ctx, d.from, d.to, network, addr)
}

// Dial is DialContext without a context.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// Cut drops every connection between a and b and refuses new ones until Heal.
func (n *Net) Cut(a, b regions.RegionID) error {
	return n.update(a, b, func(p *pairState) error {
		p.cut = true
		for _, l := range p.links {
			l.Cut()
		}
		return nil
	})
}

// Heal lets connections between a and b through again.
func (n *Net) Heal(a, b regions.RegionID) error {
	return n.update(a, b, func(p *pairState) error {
		p.cut = false
		for _, l := range p.links {
			l.Heal()
		}
		return nil
	})
}

// SetRTT sets the round-trip time between a and b, for open connections from their next chunk on.
func (n *Net) SetRTT(a, b regions.RegionID, rtt time.Duration) error {
	if rtt < 0 {
		return fmt.Errorf("set RTT %s-%s: %v is negative", n.top.Name(a), n.top.Name(b), rtt)
	}
	return n.update(a, b, func(p *pairState) error {
		p.rtt = rtt
		var errs []error
		for _, l := range p.links {
			errs = append(errs, l.SetConfig(n.linkConfig(rtt)))
		}
		return errors.Join(errs...)
	})
}

// RTT returns the RTT in force between a and b, and false when the pair may not have a link.
func (n *Net) RTT(a, b regions.RegionID) (time.Duration, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, err := n.pairLocked(a, b)
	if err != nil {
		return 0, false
	}
	return p.rtt, true
}

// IsCut reports whether the pair a, b is cut.
func (n *Net) IsCut(a, b regions.RegionID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.pairs[pairOf(a, b)]
	return p != nil && p.cut
}

func (n *Net) update(a, b regions.RegionID, f func(*pairState) error) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return linkemu.ErrClosed
	}
	p, err := n.pairLocked(a, b)
	if err != nil {
		return err
	}
	return f(p)
}

// LinkAddrs returns the listening addresses of the links from region from to region to.
func (n *Net) LinkAddrs(from, to regions.RegionID) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.pairs[pairOf(from, to)]
	if p == nil {
		return nil
	}
	var out []string
	for k, l := range p.links {
		if k.from == from {
			out = append(out, l.Addr())
		}
	}
	slices.Sort(out)
	return out
}

// Stats returns the summed counters of the links from region from to region to.
func (n *Net) Stats(from, to regions.RegionID) linkemu.Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s linkemu.Stats
	p := n.pairs[pairOf(from, to)]
	if p == nil {
		return s
	}
	for k, l := range p.links {
		if k.from != from {
			continue
		}
		ls := l.Stats()
		s.BytesUp += ls.BytesUp
		s.BytesDown += ls.BytesDown
		s.Conns += ls.Conns
		s.Active += ls.Active
		s.Refused += ls.Refused
		s.DialErrors += ls.DialErrors
	}
	return s
}

// Close closes every link and waits for their goroutines. Later calls return nil.
func (n *Net) Close() error {
	n.mu.Lock()
	pairs := n.pairs
	n.pairs, n.closed = nil, true
	n.mu.Unlock()
	var errs []error
	for _, p := range pairs {
		for _, l := range p.links {
			errs = append(errs, l.Close())
		}
	}
	return errors.Join(errs...)
}
