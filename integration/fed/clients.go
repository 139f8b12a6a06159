package fed

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Connect opens a client connection in region r, to its servers' client URLs, as an application
// running in r would: on loopback, with no emulated link. opts come after the defaults (a name,
// endless reconnects) and so override them. Close closes the connection if the caller has not.
func (f *Federation) Connect(r regions.RegionID, opts ...nats.Option) (*nats.Conn, error) {
	return f.connect(r, fmt.Sprintf("fed %s in %s", f.cfg.Mode, f.top.Name(r)), opts)
}

// ConnectFrom opens a client connection from region from to region to's servers, through the
// emulated link between the two: the way a relay, a shortcut or a probe would reach another region.
// It fails with ErrNotAllowed when the topology allows no direct link between them.
func (f *Federation) ConnectFrom(from, to regions.RegionID, opts ...nats.Option) (*nats.Conn, error) {
	if !f.top.Allowed(from, to) {
		return nil, fmt.Errorf("connect %s to %s: %w", f.top.Name(from), f.top.Name(to), ErrNotAllowed)
	}
	name := fmt.Sprintf("fed %s from %s to %s", f.cfg.Mode, f.top.Name(from), f.top.Name(to))
	return f.connect(to, name, append([]nats.Option{nats.SetCustomDialer(f.net.Dialer(from, to))}, opts...))
}

func (f *Federation) connect(r regions.RegionID, name string, opts []nats.Option) (*nats.Conn, error) {
	urls := f.ClientURLs(r)
	if len(urls) == 0 {
		return nil, fmt.Errorf("connect to %s: %w", r, regions.ErrUnknownRegion)
	}
	// FeDist lets a client receive replies only on its region's inboxes; plain NATS does not care.
	all := append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100 * time.Millisecond),
		nats.CustomInboxPrefix(overlay.InboxPrefix(r))}, opts...)
	nc, err := nats.Connect(strings.Join(urls, ","), all...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", f.top.Name(r), err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		nc.Close()
		return nil, ErrClosed
	}
	f.conns = append(f.conns, nc)
	return nc, nil
}
