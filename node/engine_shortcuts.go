package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ErrShortcutsFull refuses a shortcut connection beyond K.
var ErrShortcutsFull = errors.New("node holds its K shortcut connections")

// shortcutPermissions is what a shortcut opened by node of region peer may do on this server:
// publish into this region's relay, probe it, and answer what this relay sent it (to the relay's
// wrapped replies, and once to each probe's inbox); subscribe only to its own namespace
// (overlay.ShortcutNamespace), where this relay sends answers and traffic for the peer's side.
func shortcutPermissions(me regions.RegionID) func(regions.RegionID, string) *server.Permissions {
	return func(peer regions.RegionID, node string) *server.Permissions {
		return &server.Permissions{
			Publish: &server.SubjectPermission{Allow: []string{overlay.RelayPrefix + me.String() + ".>",
				overlay.ProbeSubject(me), overlay.ReplyPrefix + me.String() + ".>"}},
			Subscribe: &server.SubjectPermission{Allow: []string{overlay.ShortcutPrefix + peer.String() + "." + node + ".>"}},
			Response:  &server.ResponsePermission{MaxMsgs: 1, Expires: time.Minute},
		}
	}
}

// admit is broker.Config.ShortcutAdmit: a node holds at most K shortcuts, opened and accepted.
func (e *engine) admit(peer regions.RegionID, node string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	user := broker.ShortcutUser(peer, node)
	if _, ok := e.inbound[user]; !ok && len(e.shortcuts)+len(e.dialing)+len(e.inbound) >= e.cfg.K {
		return fmt.Errorf("%w (%d)", ErrShortcutsFull, e.cfg.K)
	}
	e.inbound[user] = e.clock() // counted until the next poll shows whether it stayed
	return nil
}

// serviceLocked is the relay's time per message in µs for the advert: what the overlay measured,
// while it measured something in the last serviceFresh; after that the last figure halves every
// second, so a relay that traffic avoids because it was slow is tried again (and avoided again
// while it stays slow).
func (e *engine) serviceLocked() int64 {
	d, at := e.n.ov.ServiceTime()
	if !at.IsZero() && time.Since(at) <= serviceFresh { // the overlay's wall clock, not the engine's
		return d.Microseconds()
	}
	return e.load.Service / 2
}

// serviceFresh is how long a relay service time stands without a new sample (the overlay times
// one message in 16).
const serviceFresh = 5 * time.Second

// readLoad reads the node's load and its accepted shortcuts from the server once a second.
func (e *engine) readLoad() {
	srv := e.n.b.Server()
	cz, err := srv.Connz(&server.ConnzOptions{Account: broker.AppAccount, Username: true, Limit: 1 << 20})
	if err != nil {
		return
	}
	now := e.clock()
	seen := map[string]bool{}
	var pending int64
	for _, c := range cz.Conns {
		pending += int64(c.Pending)
		if _, _, ok := broker.ParseShortcutUser(c.AuthorizedUser); ok {
			seen[c.AuthorizedUser] = true
		}
	}
	slow := srv.NumSlowConsumers()
	e.mu.Lock()
	defer e.mu.Unlock()
	for user, at := range e.inbound {
		if !seen[user] && now.Sub(at) > 2*time.Second {
			delete(e.inbound, user)
		}
	}
	for user := range seen {
		if _, ok := e.inbound[user]; !ok {
			e.inbound[user] = now
		}
	}
	e.syncInboundLocked(seen)
	excess := e.excessLocked()
	defer func() {
		for _, nc := range excess {
			nc.Close()
		}
	}()
	e.load = costs.Load{RelayQueue: e.n.ov.Pending(), PendingBytes: pending,
		SlowConsumers: max(slow-e.slowSeen, 0), CPU: e.cpu.smoothed(now, runtime.GOMAXPROCS(0)),
		Service: e.serviceLocked()}
	e.slowSeen = slow
}

// dial opens a shortcut to a node of region peer in the background, and measures its setup cost.
func (e *engine) dial(peer regions.RegionID) {
	e.n.wg.Add(1)
	go func() {
		defer e.n.wg.Done()
		nc, setup, err := e.connect(peer)
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.dialing, peer)
		if err != nil {
			f := e.failed[peer]
			f.pause = min(max(2*f.pause, e.n.cfg.DialRetry), e.n.cfg.DialRetryMax)
			f.retryAt = e.clock().Add(f.pause)
			e.failed[peer] = f
			e.log.Warn().Err(err).Stringer("peer", peer).Dur("retry_after", f.pause).Msg("shortcut not opened")
			return
		}
		if e.n.ctx.Err() != nil {
			nc.Close()
			return
		}
		if err := e.n.ov.AddShortcut(peer, nc); err != nil {
			nc.Close()
			e.log.Warn().Err(err).Msg("shortcut")
			return
		}
		delete(e.failed, peer)
		now := e.clock()
		l := costs.NewLink(peer, costs.Shortcut, &e.cfg)
		l.SetSetup(setup)
		e.links[peer] = l
		e.shortcuts[peer] = &shortcutConn{nc: nc, opened: now}
		e.dirty = true
		e.log.Info().Stringer("peer", peer).Dur("setup", setup).Msg("shortcut opened")
	}()
}

// connect dials a client URL of region peer as this node's shortcut user.
func (e *engine) connect(peer regions.RegionID) (*nats.Conn, time.Duration, error) {
	ent, _ := e.n.view.Get(peer)
	if ent == nil || len(ent.ClientURLs) == 0 {
		return nil, 0, fmt.Errorf("region %s has no client URL in the registry", peer)
	}
	me, node := e.n.Region(), e.n.cfg.Broker.Node
	opts := []nats.Option{
		nats.Name("fedist-shortcut " + e.n.b.Name()),
		nats.UserInfo(broker.ShortcutUser(me, node), e.n.cfg.Broker.LeafToken),
		nats.CustomInboxPrefix(overlay.ShortcutInbox(me, node, peer)),
		nats.NoReconnect(), // a broken shortcut is dropped; the tree carries on and the plan may reopen it
		nats.ClosedHandler(func(nc *nats.Conn) { e.shortcutClosed(peer, nc) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			e.log.Info().Err(err).Stringer("peer", peer).Msg("shortcut connection error")
		}),
		nats.Timeout(e.cfg.MaxRTT),
	}
	if f := e.n.cfg.Broker.TLS; f.CA != "" {
		tc, err := f.ClientConfig("")
		if err != nil {
			return nil, 0, err
		}
		nodeOnly := tc.VerifyConnection
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := nodeOnly(cs); err != nil {
				return err
			}
			if id, err := pki.IdentityOf(cs.PeerCertificates[0]); err != nil || id.Region != peer {
				return fmt.Errorf("shortcut to %s reached a server that is not one of its nodes", peer)
			}
			return nil
		}
		opts = append(opts, nats.Secure(tc))
	}
	if e.n.cfg.ShortcutDialer != nil {
		opts = append(opts, nats.SetCustomDialer(e.n.cfg.ShortcutDialer(peer)))
	}
	start := time.Now()
	nc, err := nats.Connect(strings.Join(ent.ClientURLs, ","), opts...)
	return nc, time.Since(start), err
}

func (e *engine) closeShortcuts() {
	e.mu.Lock()
	scs := e.shortcuts
	e.shortcuts = map[regions.RegionID]*shortcutConn{}
	e.mu.Unlock()
	for peer, sc := range scs {
		e.n.ov.RemoveShortcut(peer)
		sc.nc.Close()
	}
}

// shortcutClosed drops a shortcut whose connection closed (its link was cut, or the peer went).
func (e *engine) shortcutClosed(peer regions.RegionID, nc *nats.Conn) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sc := e.shortcuts[peer]
	if sc == nil || sc.nc != nc {
		return // closed by us, or replaced
	}
	delete(e.shortcuts, peer)
	delete(e.links, peer)
	e.n.ov.RemoveShortcut(peer)
	e.dirty, e.urgent = true, true // routes over it change at the next tick
	e.log.Info().Stringer("peer", peer).Msg("shortcut connection closed")
}

// syncInboundLocked keeps a link for every shortcut another node opened to this one (seen holds
// their users), so the relay uses them the other way too and the engine measures them.
func (e *engine) syncInboundLocked(seen map[string]bool) {
	now := map[regions.RegionID]string{}
	for user := range seen {
		if peer, node, ok := broker.ParseShortcutUser(user); ok && e.shortcuts[peer] == nil {
			now[peer] = node
		}
	}
	for peer := range e.inboundPeers {
		if _, ok := now[peer]; !ok {
			delete(e.inboundPeers, peer)
			delete(e.inboundLive, peer)
			e.n.ov.RemoveInbound(peer)
			if e.shortcuts[peer] == nil {
				delete(e.links, peer)
			}
			e.dirty, e.urgent = true, true
		}
	}
	for peer, node := range now {
		if e.inboundPeers[peer] != node {
			e.inboundPeers[peer] = node
			e.n.ov.AddInbound(peer, node)
			if e.links[peer] == nil {
				e.links[peer] = costs.NewLink(peer, costs.Shortcut, &e.cfg)
			}
			e.dirty = true
		}
	}
}

// checkInboundLocked drops, at once, a shortcut another node opened to this one whose connection
// is gone: its namespace lost the subscription it had (the server removes it with the
// connection). The Connz poll would notice within a second; meanwhile traffic routed over it
// would be lost.
func (e *engine) checkInboundLocked(now time.Time) {
	me := e.n.Region()
	for peer, node := range e.inboundPeers {
		live := e.n.b.AppInterest(overlay.ShortcutNamespace(peer, node, me) + ".h.x")
		switch {
		case live:
			e.inboundLive[peer] = true
		case e.inboundLive[peer]:
			delete(e.inboundPeers, peer)
			delete(e.inboundLive, peer)
			e.n.ov.RemoveInbound(peer)
			if l := e.links[peer]; l != nil && e.shortcuts[peer] == nil {
				delete(e.links, peer)
			}
			e.dirty, e.urgent = true, true
			e.log.Info().Stringer("peer", peer).Msg("inbound shortcut gone")
		}
	}
}

// excessLocked enforces K after the fact: admission and dials are checked against K, but a peer
// admitted while this node's own dial was completing can leave it one over. Then the shortcuts
// this node opened most recently are dropped until it holds K; the caller closes them.
func (e *engine) excessLocked() []*nats.Conn {
	var out []*nats.Conn
	for len(e.shortcuts)+len(e.inbound) > e.cfg.K && len(e.shortcuts) > 0 {
		var newest regions.RegionID
		for peer, sc := range e.shortcuts {
			if newest == 0 || sc.opened.After(e.shortcuts[newest].opened) {
				newest = peer
			}
		}
		out = append(out, e.shortcuts[newest].nc)
		delete(e.shortcuts, newest)
		delete(e.links, newest)
		e.n.ov.RemoveShortcut(newest)
		e.dirty = true
		e.log.Info().Stringer("peer", newest).Int("k", e.cfg.K).Msg("shortcut closed: over K")
	}
	return out
}
