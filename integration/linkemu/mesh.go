package linkemu

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

var (
	// ErrNoLink is returned when no link exists between two names, in either direction.
	ErrNoLink = errors.New("no link between these names")
	// ErrLinkExists is returned by Add for a directed pair that already has a link.
	ErrLinkExists = errors.New("link already exists")
)

// Mesh keeps one Link per directed pair of names, e.g. regions. The link (a, b) carries the
// connections a opens to b; replies to them flow back over the same link. The zero Mesh is ready
// to use. Cut, Heal and SetRTT act on both directions of a pair.
type Mesh struct {
	mu     sync.Mutex // guards links, closed
	links  map[pair]*Link
	closed bool
}

type pair struct{ from, to string }

// Add starts the link from -> to, forwarding to target, and returns it.
func (m *Mesh) Add(from, to, target string, cfg Config) (*Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := pair{from, to}
	switch {
	case m.closed:
		return nil, fmt.Errorf("linkemu: add %s->%s: %w", from, to, ErrClosed)
	case m.links[p] != nil:
		return nil, fmt.Errorf("linkemu: add %s->%s: %w", from, to, ErrLinkExists)
	}
	l, err := New(target, cfg)
	if err != nil {
		return nil, fmt.Errorf("linkemu: add %s->%s: %w", from, to, err)
	}
	if m.links == nil {
		m.links = make(map[pair]*Link)
	}
	m.links[p] = l
	return l, nil
}

// Get returns the link from -> to, or nil if there is none.
func (m *Mesh) Get(from, to string) *Link {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.links[pair{from, to}]
}

// Cut cuts a -> b and b -> a.
func (m *Mesh) Cut(a, b string) error {
	return m.each(a, b, "cut", func(l *Link) error { l.Cut(); return nil })
}

// Heal heals a -> b and b -> a.
func (m *Mesh) Heal(a, b string) error {
	return m.each(a, b, "heal", func(l *Link) error { l.Heal(); return nil })
}

// SetRTT sets Delay to rtt/2 on a -> b and b -> a, so a round trip over a connection opened either
// way takes rtt.
func (m *Mesh) SetRTT(a, b string, rtt time.Duration) error {
	return m.each(a, b, "set RTT", func(l *Link) error { return l.SetRTT(rtt) })
}

// SetConfig sets cfg on a -> b and b -> a.
func (m *Mesh) SetConfig(a, b string, cfg Config) error {
	return m.each(a, b, "set config", func(l *Link) error { return l.SetConfig(cfg) })
}

// each applies f to the links a -> b and b -> a that exist, and fails with ErrNoLink if neither does.
func (m *Mesh) each(a, b, op string, f func(*Link) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var links []*Link
	for _, p := range []pair{{a, b}, {b, a}} {
		if l := m.links[p]; l != nil {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		return fmt.Errorf("linkemu: %s %s<->%s: %w", op, a, b, ErrNoLink)
	}
	var errs []error
	for _, l := range links {
		errs = append(errs, f(l))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("linkemu: %s %s<->%s: %w", op, a, b, err)
	}
	return nil
}

// Close closes every link and waits for their goroutines. Later calls return nil; Add fails after.
func (m *Mesh) Close() error {
	m.mu.Lock()
	links := m.links
	m.links, m.closed = nil, true
	m.mu.Unlock()
	var errs []error
	for _, l := range links {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
