package overlay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Shortcut namespaces.
const (
	// ShortcutPrefix starts the namespace of one shortcut connection on the server it connects to:
	// fdq.<owner>.<node>.<peer>.…, where node of region owner opened the connection to a node of
	// region peer. Only that connection may subscribe to it (its user's permissions), and it never
	// crosses a leafnode link (it is in no link's export list), so nothing published there reaches
	// anyone else, and nobody else's traffic is pulled through the shortcut.
	ShortcutPrefix = "fdq."
	// ProbePrefix is where a region's relays answer link probes: fdp.<r>, with T2 and T3 headers.
	ProbePrefix = "fdp."
	// RoutesPrefix is where a region's nodes tell their clients which destinations take the
	// engine's path through the relay: fdo.<r>.routes (see RouteHints). Clients may only read it.
	RoutesPrefix = "fdo."
)

// ShortcutNamespace returns fdq.<owner>.<node>.<peer>.
func ShortcutNamespace(owner regions.RegionID, node string, peer regions.RegionID) string {
	return ShortcutPrefix + owner.String() + "." + node + "." + peer.String()
}

// ShortcutInbox returns the inbox prefix of a shortcut connection (nats.CustomInboxPrefix).
func ShortcutInbox(owner regions.RegionID, node string, peer regions.RegionID) string {
	return ShortcutNamespace(owner, node, peer) + ".i"
}

// ProbeSubject returns fdp.<r>.
func ProbeSubject(r regions.RegionID) string { return ProbePrefix + r.String() }

// RoutesSubject returns fdo.<r>.routes.
func RoutesSubject(r regions.RegionID) string { return RoutesPrefix + r.String() + ".routes" }

// TrafficSubject returns fdo.<r>.traffic, where region r's Go clients report, every second, how
// many messages they sent to each other region straight over the tree (msgpack map of region ID to
// count). The cost engine chooses shortcuts from this and from what its relay carries itself.
func TrafficSubject(r regions.RegionID) string { return RoutesPrefix + r.String() + ".traffic" }

// ValidShortcutReply reports whether reply is a wrapped reply of a shortcut opened to region me:
// fdq.<r>.<node>.<me>.r.<token>, nothing else in that namespace.
func ValidShortcutReply(reply string, me regions.RegionID) bool {
	parts := strings.Split(reply, ".")
	if len(parts) != 6 || parts[0]+"." != ShortcutPrefix || parts[3] != me.String() || parts[4] != "r" {
		return false
	}
	if _, err := regions.ParseRegion(parts[1]); err != nil {
		return false
	}
	return plainSubject(reply) && parts[2] != "" && parts[5] != ""
}

// shortcut is one open shortcut connection of this node.
type shortcut struct {
	nc       *nats.Conn
	subs     []*nats.Subscription
	replyPre string // fdq.<me>.<node>.<peer>.r.
}

func (sc *shortcut) unsubscribe() {
	for _, s := range sc.subs {
		_ = s.Unsubscribe() // the connection may be closed already; then nothing is left to undo
	}
}

// ErrShortcut wraps shortcut setup errors.
var ErrShortcut = errors.New("shortcut")

// AddShortcut makes nc, a connection of this node to a server of region peer, a shortcut, used
// both ways. This node's relay sends traffic routed over it there, and takes the answers back on
// it (fdq.<me>.<node>.<peer>.r.…). The peer's relay sends its own traffic for this side into the
// connection's namespace on its server (….h.<d>.…), probes it there (….p), and gets the answers
// back over the connection. It replaces an earlier connection to the same region, whose answers
// still in flight are lost (as for a request whose connection closes in plain NATS).
func (o *Overlay) AddShortcut(peer regions.RegionID, nc *nats.Conn) error {
	r := o.relay
	if peer == r.me || !peer.Valid() {
		return fmt.Errorf("%w: no shortcut to region %s from %s", ErrShortcut, peer, r.me)
	}
	ns := ShortcutNamespace(r.me, r.node, peer)
	sc := &shortcut{nc: nc, replyPre: ns + ".r."}
	handlers := map[string]nats.MsgHandler{
		ns + ".r.>": func(m *nats.Msg) { r.handleReply(sc.replyPre, m) },
		ns + ".h.>": func(m *nats.Msg) { r.relay(m, m.Subject[len(ns)+3:], nc, false) },
		ns + ".p":   func(m *nats.Msg) { r.answerProbeOn(nc, m) },
	}
	var err error
	for subject, h := range handlers {
		var sub *nats.Subscription
		if sub, err = nc.Subscribe(subject, h); err == nil {
			sc.subs = append(sc.subs, sub)
			err = sub.SetPendingLimits(-1, 256<<20)
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = nc.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		sc.unsubscribe()
		return fmt.Errorf("%w to %s: %v", ErrShortcut, peer, err)
	}
	r.mu.Lock()
	old := r.shortcuts[peer]
	r.shortcuts[peer] = sc
	r.mu.Unlock()
	if old != nil {
		old.unsubscribe()
	}
	return nil
}

// AddInbound lets the relay use, the other way, a shortcut that node of region peer opened to
// this node's server: traffic for peer is published into that connection's namespace here.
func (o *Overlay) AddInbound(peer regions.RegionID, node string) {
	r := o.relay
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inbound[peer] = ShortcutNamespace(peer, node, r.me)
}

// RemoveInbound stops using the shortcut peer opened to this node.
func (o *Overlay) RemoveInbound(peer regions.RegionID) {
	r := o.relay
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inbound, peer)
}

// ProbeInbound times one exchange over the shortcut node of region peer opened to this node: the
// opener's relay answers on its connection (….p in the connection's namespace).
func (o *Overlay) ProbeInbound(ctx context.Context, peer regions.RegionID, node string, now func() time.Time) (t1, t2, t3, t4 time.Time, err error) {
	return probe(ctx, o.relay.nc, ShortcutNamespace(peer, node, o.relay.me)+".p", peer, now)
}

// RemoveShortcut stops using the shortcut to peer; the caller closes the connection. Traffic
// routed to it afterwards takes the tree.
func (o *Overlay) RemoveShortcut(peer regions.RegionID) {
	r := o.relay
	r.mu.Lock()
	sc := r.shortcuts[peer]
	delete(r.shortcuts, peer)
	r.mu.Unlock()
	if sc != nil {
		sc.unsubscribe()
	}
}

// shortcut returns this node's own shortcut to peer, or the namespace of one peer opened here.
func (r *Relay) shortcut(peer regions.RegionID) (*shortcut, string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.shortcuts[peer], r.inbound[peer]
}

// Probe times one exchange with region peer's relay over nc: T1 and T4 on clock now, T2 and T3
// from the answer. Over the tree nc is the node's own connection; over a shortcut, the shortcut.
func Probe(ctx context.Context, nc *nats.Conn, peer regions.RegionID, now func() time.Time) (t1, t2, t3, t4 time.Time, err error) {
	return probe(ctx, nc, ProbeSubject(peer), peer, now)
}

func probe(ctx context.Context, nc *nats.Conn, subject string, peer regions.RegionID, now func() time.Time) (t1, t2, t3, t4 time.Time, err error) {
	t1 = now()
	m, err := nc.RequestWithContext(ctx, subject, nil)
	t4 = now()
	if err != nil {
		return t1, t2, t3, t4, err
	}
	var ok2, ok3 bool
	t2, ok2 = readStamp(m.Header, HeaderT2)
	t3, ok3 = readStamp(m.Header, HeaderT3)
	if !ok2 || !ok3 {
		return t1, t2, t3, t4, fmt.Errorf("probe %s: answer without timestamps", peer)
	}
	return t1, t2, t3, t4, nil
}
