package linkemu

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// ErrNetwork is returned by DialContext for a network other than tcp or tcp4.
var ErrNetwork = errors.New("link emulator carries only tcp and tcp4")

// DialContext dials through the link, whatever addr says: the link, not the caller, knows the
// target. That lets a Link stand in for a client's dialer, so a client configured with the
// target's real URL still goes through the emulated WAN. While the link is cut it fails at once
// with ErrCut, as the listener would reset the connection anyway.
func (l *Link) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" {
		return nil, fmt.Errorf("linkemu: dial %s %s via %s: %w", network, addr, l.Addr(), ErrNetwork)
	}
	l.mu.Lock()
	cut, closed := l.cut, l.closed
	l.mu.Unlock()
	switch {
	case closed:
		return nil, fmt.Errorf("linkemu: dial %s via %s: %w", addr, l.Addr(), ErrClosed)
	case cut:
		l.refused.Add(1)
		return nil, fmt.Errorf("linkemu: dial %s via %s: %w", addr, l.Addr(), ErrCut)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", l.Addr())
}

// Dial is DialContext without a context. With it a *Link satisfies nats.go's CustomDialer
// (nats.SetCustomDialer(link)).
func (l *Link) Dial(network, addr string) (net.Conn, error) {
	return l.DialContext(context.Background(), network, addr)
}
