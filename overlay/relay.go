package overlay

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// relayQueue groups the relays of all nodes of one region, so a relayed message is sent on once.
const relayQueue = "fedist-relay"

// Relay is a region's relay endpoint. It takes fdh.<me>.<d>.<rest>, checks and raises the hop
// count, and sends it on toward d by its own route table (Engine.Next): over the tree as
// fd.<d>.<rest>, over the tree to another region's relay, or over a shortcut connection. A
// request's reply is replaced by a token of this relay (fdr.<region>.<node>.<token> on the tree,
// fdq.<region>.<node>.<peer>.r.<token> over a shortcut) and restored on the way back (see
// replyTable), so that a destination with no responder is answered at once with a 503 status
// instead of a timeout, and answers come back over the link the request took.
type Relay struct {
	nc       *nats.Conn
	me       regions.RegionID
	node     string
	maxHops  int
	eng      Engine
	reps     Replicas // nil: no replication
	log      zerolog.Logger
	prefix   string // fdh.<me>.
	replyPre string // fdr.<region>.<node>.
	local    string // fdl.<me>.: what only this region's clients publish into (LocalSubject)
	replies  *replyTable
	subs     []*nats.Subscription

	mu        sync.RWMutex // guards shortcuts, inbound, and subs once started
	shortcuts map[regions.RegionID]*shortcut
	inbound   map[regions.RegionID]string // shortcuts other nodes opened here: peer → its namespace

	relayed     atomic.Uint64
	noResponder atomic.Uint64
	hopDrops    atomic.Uint64
	malformed   atomic.Uint64
	badReply    atomic.Uint64
	viaShortcut atomic.Uint64
	probes      atomic.Uint64
	fromReplica atomic.Uint64
	lookups     lookupOutcomes // answers to this region's clients' lookups, by status
	slowdown    atomic.Int64   // nanoseconds each relayed message waits (SetSlowdown); 0 in production
	service     serviceMeter   // how long the relay takes per message
}

func startRelay(nc *nats.Conn, me regions.RegionID, node string, cfg Config, log zerolog.Logger) (*Relay, error) {
	eng := cfg.Engine
	if eng == nil {
		eng = treeOnly{}
	}
	r := &Relay{nc: nc, me: me, node: node, maxHops: cfg.MaxHops, eng: eng, reps: cfg.Replicas, log: log,
		prefix: RelayPrefix + me.String() + ".", local: LocalPrefix + me.String() + ".", replyPre: ReplyPrefix + me.String() + "." + node + ".",
		replies:   newReplyTable(2 * time.Minute), // longer than any sensible request timeout
		shortcuts: map[regions.RegionID]*shortcut{}, inbound: map[regions.RegionID]string{}}
	sub, err := nc.QueueSubscribe(r.prefix+">", relayQueue, r.handle)
	if err == nil {
		r.subs = append(r.subs, sub)
		sub, err = nc.QueueSubscribe(r.local+">", relayQueue, r.handleLocal)
	}
	if err == nil {
		r.subs = append(r.subs, sub)
		sub, err = nc.Subscribe(r.replyPre+">", func(m *nats.Msg) { r.handleReply(r.replyPre, m) })
	}
	if err == nil {
		r.subs = append(r.subs, sub)
		sub, err = nc.QueueSubscribe(ProbeSubject(me), relayQueue, r.answerProbe)
	}
	if err == nil {
		r.subs = append(r.subs, sub)
	}
	for _, s := range r.subs {
		if err == nil {
			err = s.SetPendingLimits(-1, 256<<20)
		}
	}
	if err == nil {
		err = nc.Flush()
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("relay: %w", err), r.stop())
	}
	return r, nil
}

// Hops returns the hop count a message carries (0 when absent or unreadable).
func Hops(m *nats.Msg) int {
	if m.Header == nil {
		return 0
	}
	n, err := strconv.Atoi(m.Header.Get(HeaderHops))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// handle takes what arrives on the tree (and from shortcuts opened to this node): fdh.<me>.<d>.…
func (r *Relay) handle(m *nats.Msg) { r.relay(m, m.Subject[len(r.prefix):], nil, false) }

// handleLocal takes what this region's own clients send: fdl.<me>.<d>.…, which no other region's
// client may publish and no leafnode link carries.
func (r *Relay) handleLocal(m *nats.Msg) { r.relay(m, m.Subject[len(r.local):], nil, true) }

// relay sends m on toward the region subject fd.<rest>. back is the shortcut connection m came in
// on when another region's node sent it over a shortcut this node opened (reverse use), so that
// its answers go back the same way; nil otherwise. local says m came from a client of this region
// (fdl.…): only then may a replica answer it or count it as demand.
func (r *Relay) relay(m *nats.Msg, rest string, back *nats.Conn, local bool) {
	if start, timed := r.service.begin(); timed {
		defer r.service.end(start)
	}
	if d := r.slowdown.Load(); d > 0 {
		time.Sleep(time.Duration(d)) // fault injection only (SetSlowdown)
	}
	now := r.eng.Now()
	public := PublicPrefix + rest
	d, _, err := ParseSubject(public)
	if err != nil {
		r.malformed.Add(1)
		r.status(m.Reply, StatusError, "relay: "+err.Error())
		return
	}
	if m.Reply != "" && !r.validReply(m.Reply) {
		r.badReply.Add(1)
		r.log.Warn().Str("subject", m.Subject).Str("reply", m.Reply).Msg("relay: refusing a request whose reply is not an inbox")
		return
	}
	hops := Hops(m)
	kind, id, isLookup, served := r.serveReplica(m, rest, local, now)
	if served {
		return
	}
	if hops >= r.maxHops {
		r.hopDrops.Add(1)
		r.log.Warn().Str("subject", m.Subject).Int("hops", hops).Msg("hop limit reached; message dropped")
		r.status(m.Reply, StatusHopLimit, fmt.Sprintf("dropped after %d hops (limit %d)", hops, r.maxHops))
		return
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	_, timedIn := readStamp(m.Header, HeaderT1)
	m.Header.Del(HeaderT1)
	m.Header.Set(HeaderHops, strconv.Itoa(hops+1))

	hop := Hop{Kind: HopTree}
	if d != r.me {
		hop = r.eng.Next(d, hops == 0)
	}
	out := &nats.Msg{Subject: public, Header: m.Header, Data: m.Data}
	conn, replyPre := r.nc, r.replyPre
	switch hop.Kind {
	case HopWaypoint:
		out.Subject = RelayPrefix + hop.Via.String() + "." + rest
	case HopShortcut:
		sc, in := r.shortcut(hop.Via)
		switch {
		case sc != nil:
			out.Subject, conn, replyPre = RelayPrefix+hop.Via.String()+"."+rest, sc.nc, sc.replyPre
			r.viaShortcut.Add(1)
		case in != "":
			// A shortcut the peer opened to this node: publish here into its namespace, which only
			// that connection reads.
			out.Subject = in + ".h." + rest
			r.viaShortcut.Add(1)
		default:
			hop.Kind = HopTree // closed meanwhile: the tree is always there
		}
	}
	if hops > 0 || hop.Kind != HopTree {
		appendPath(m.Header, r.me, hop.Kind) // a client's message put straight on the tree crossed no relay
	}
	if m.Reply != "" {
		e := replyEntry{subject: m.Reply, back: back}
		if isLookup {
			e.kind, e.id, e.asked = kind, id, now
		}
		if timedIn {
			e.arrived = now
		}
		if hop.Kind != HopTree && r.eng.Timed(hop.Via) {
			e.peer, e.t1 = hop.Via, now
			out.Header.Set(HeaderT1, stamp(now))
		}
		out.Reply = replyPre + r.replies.add(e, now)
	} else if hop.Kind != HopTree {
		r.eng.Carried(hop.Via)
	}
	err = conn.PublishMsg(out)
	if err != nil && conn != r.nc {
		// The shortcut closed under us: the tree is always there. Its wrapped reply cannot come
		// back on a closed connection, so wrap it again for the tree.
		r.log.Info().Err(err).Stringer("via", hop.Via).Msg("shortcut gone; relaying over the tree")
		out.Subject = public
		if m.Reply != "" {
			out.Reply = r.replyPre + r.replies.add(replyEntry{subject: m.Reply}, now)
		}
		out.Header.Del(HeaderT1)
		err = r.nc.PublishMsg(out)
	}
	if err != nil {
		r.log.Warn().Err(err).Str("subject", out.Subject).Msg("relay publish")
		return
	}
	r.relayed.Add(1)
}

// appendPath records in HeaderPath that the message crossed region me's relay and left it by kind
// (t: tree to the destination, w: tree to another relay, s: shortcut): "00a0:s,00b0:t".
func appendPath(h nats.Header, me regions.RegionID, kind HopKind) {
	step := me.String() + ":" + string("tws"[kind])
	if p := h.Get(HeaderPath); p != "" {
		step = p + "," + step
	}
	h.Set(HeaderPath, step)
}

// handleReply unwraps an answer, or turns the server's own "no responders" into a status reply.
func (r *Relay) handleReply(prefix string, m *nats.Msg) {
	now := r.eng.Now()
	e, ok := r.replies.get(strings.TrimPrefix(m.Subject, prefix), now)
	if !ok {
		r.malformed.Add(1) // not a reply this relay wrapped, or one too late to matter
		return
	}
	if !e.t1.IsZero() {
		t2, ok2 := readStamp(m.Header, HeaderT2)
		t3, ok3 := readStamp(m.Header, HeaderT3)
		if ok2 && ok3 {
			r.eng.Answered(e.peer, e.t1, t2, t3, now)
		}
	}
	if m.Header != nil {
		m.Header.Del(HeaderT2)
		m.Header.Del(HeaderT3)
	}
	if e.kind != "" {
		r.lookups.count(ReplyStatus(m))
		r.reps.Answered(e.kind, e.id, e.asked, m)
	}
	if m.Header != nil && m.Header.Get(natsStatus) == "503" && len(m.Data) == 0 && m.Header.Get(HeaderStatus) == "" {
		r.noResponder.Add(1)
		r.status(e.subject, StatusNoResponder, "no responder for "+m.Header.Get("Nats-Subject"))
		return
	}
	out := &nats.Msg{Subject: e.subject, Header: m.Header, Data: m.Data}
	if !e.arrived.IsZero() {
		if out.Header == nil {
			out.Header = nats.Header{}
		}
		out.Header.Set(HeaderT2, stamp(e.arrived))
		out.Header.Set(HeaderT3, stamp(r.eng.Now()))
	}
	conn := r.nc
	if e.back != nil {
		conn = e.back // the request came over a shortcut this node opened: answer over it
	}
	if err := conn.PublishMsg(out); err != nil {
		r.log.Warn().Err(err).Msg("relay reply")
	}
}

// answerProbe answers a link probe (fdp.<me>) with the time it arrived and left, on this node's
// clock.
func (r *Relay) answerProbe(m *nats.Msg) { r.answerProbeOn(r.nc, m) }

// answerProbeOn answers a probe on conn: the node's own connection, or the shortcut a reverse
// probe came in on.
func (r *Relay) answerProbeOn(conn *nats.Conn, m *nats.Msg) {
	if m.Reply == "" {
		return
	}
	arrived := r.eng.Now()
	r.probes.Add(1)
	out := nats.NewMsg(m.Reply)
	out.Header.Set(HeaderT2, stamp(arrived))
	out.Header.Set(HeaderT3, stamp(r.eng.Now()))
	if err := conn.PublishMsg(out); err != nil {
		r.log.Debug().Err(err).Msg("probe answer")
	}
}

func (r *Relay) status(to, status, reason string) {
	if to == "" {
		return
	}
	if err := r.nc.PublishMsg(StatusReply(to, status, reason)); err != nil {
		r.log.Warn().Err(err).Msg("relay status reply")
	}
}

func (r *Relay) stop() error {
	var errs []error
	r.mu.Lock()
	for _, s := range r.subs {
		if err := s.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	r.subs = nil
	for peer, sc := range r.shortcuts {
		sc.unsubscribe() // its connection may be closed already
		delete(r.shortcuts, peer)
	}
	r.mu.Unlock()
	return errors.Join(errs...)
}

// validReply reports whether the relay may answer to reply: an inbox, another relay's wrapped
// reply, or a wrapped reply of a shortcut opened to this region (fdq.<r>.<node>.<me>.r.<token>).
func (r *Relay) validReply(reply string) bool {
	if strings.HasPrefix(reply, ShortcutPrefix) {
		return ValidShortcutReply(reply, r.me)
	}
	return ValidReply(reply)
}

// ValidReply reports whether a relay may answer to reply: only an application inbox (_INBOX.…) or
// another relay's wrapped reply (fdr.…), with no wildcard. Anything else would let a client borrow
// the relay's permissions to publish where it may not, such as a JetStream API subject.
func ValidReply(reply string) bool {
	if !strings.HasPrefix(reply, InboxRoot) && !strings.HasPrefix(reply, ReplyPrefix) {
		return false
	}
	return plainSubject(reply)
}

// plainSubject reports whether s has no wildcard, empty token or whitespace. Every request a relay
// forwards passes here, so it checks the tokens without splitting.
func plainSubject(s string) bool {
	wildcard := strings.Contains(s, ".*.") || strings.HasSuffix(s, ".*") ||
		strings.Contains(s, ".>.") || strings.HasSuffix(s, ".>")
	return !wildcard && !strings.HasSuffix(s, ".") && !strings.Contains(s, "..") &&
		!strings.ContainsAny(s, " \t\r\n")
}
