package overlay

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// relayQueue groups the relays of all nodes of one region, so a relayed message is sent on once.
const relayQueue = "fedist-relay"

// Relay is a region's relay endpoint. It takes fdh.<me>.<d>.<rest>, checks and raises the hop count,
// and republishes fd.<d>.<rest> from here, so the message continues over this region's part of the
// tree. A request's reply is replaced by fdr.<region>.<node>.<token> and restored on the way back
// (see replyTable), so that a destination with no responder is answered at once with a 503 status
// instead of a timeout. It is
// the endpoint of a shortcut: a region that wants to skip part of the tree publishes into the relay
// namespace of a region nearer the destination.
type Relay struct {
	nc       *nats.Conn
	me       regions.RegionID
	maxHops  int
	log      zerolog.Logger
	prefix   string // fdh.<me>.
	replyPre string // fdr.<region>.<node>.
	replies  *replyTable
	subs     []*nats.Subscription

	relayed     atomic.Uint64
	noResponder atomic.Uint64
	hopDrops    atomic.Uint64
	malformed   atomic.Uint64
	badReply    atomic.Uint64
}

func startRelay(nc *nats.Conn, me regions.RegionID, node string, maxHops int, log zerolog.Logger) (*Relay, error) {
	r := &Relay{nc: nc, me: me, maxHops: maxHops, log: log,
		prefix: RelayPrefix + me.String() + ".", replyPre: ReplyPrefix + me.String() + "." + node + ".",
		replies: newReplyTable(2 * time.Minute)} // longer than any sensible request timeout
	sub, err := nc.QueueSubscribe(r.prefix+">", relayQueue, r.handle)
	if err == nil {
		r.subs = append(r.subs, sub)
		sub, err = nc.Subscribe(r.replyPre+">", r.handleReply)
		if err == nil {
			r.subs = append(r.subs, sub)
		}
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

func (r *Relay) handle(m *nats.Msg) {
	public := PublicPrefix + m.Subject[len(r.prefix):]
	if _, _, err := ParseSubject(public); err != nil {
		r.malformed.Add(1)
		r.status(m.Reply, StatusError, "relay: "+err.Error())
		return
	}
	if m.Reply != "" && !ValidReply(m.Reply) {
		r.badReply.Add(1)
		r.log.Warn().Str("subject", m.Subject).Str("reply", m.Reply).Msg("relay: refusing a request whose reply is not an inbox")
		return
	}
	hops := Hops(m)
	if hops >= r.maxHops {
		r.hopDrops.Add(1)
		r.log.Warn().Str("subject", m.Subject).Int("hops", hops).Msg("hop limit reached; message dropped")
		r.status(m.Reply, StatusHopLimit, fmt.Sprintf("dropped after %d hops (limit %d)", hops, r.maxHops))
		return
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	m.Header.Set(HeaderHops, strconv.Itoa(hops+1))
	out := &nats.Msg{Subject: public, Header: m.Header, Data: m.Data}
	if m.Reply != "" {
		out.Reply = r.replyPre + r.replies.add(m.Reply, time.Now())
	}
	if err := r.nc.PublishMsg(out); err != nil {
		r.log.Warn().Err(err).Str("subject", public).Msg("relay publish")
		return
	}
	r.relayed.Add(1)
}

// handleReply unwraps an answer, or turns the server's own "no responders" into a status reply.
func (r *Relay) handleReply(m *nats.Msg) {
	reply, ok := r.replies.get(strings.TrimPrefix(m.Subject, r.replyPre), time.Now())
	if !ok {
		r.malformed.Add(1) // not a reply this relay wrapped, or one too late to matter
		return
	}
	if m.Header != nil && m.Header.Get(natsStatus) == "503" && len(m.Data) == 0 && m.Header.Get(HeaderStatus) == "" {
		r.noResponder.Add(1)
		r.status(reply, StatusNoResponder, "no responder for "+m.Header.Get("Nats-Subject"))
		return
	}
	if err := r.nc.PublishMsg(&nats.Msg{Subject: reply, Header: m.Header, Data: m.Data}); err != nil {
		r.log.Warn().Err(err).Msg("relay reply")
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
	for _, s := range r.subs {
		errs = append(errs, s.Unsubscribe())
	}
	r.subs = nil
	return errors.Join(errs...)
}

// ValidReply reports whether a relay may answer to reply: only an application inbox (_INBOX.…) or
// another relay's wrapped reply (fdr.…), with no wildcard. Anything else would let a client borrow
// the relay's permissions to publish where it may not, such as a JetStream API subject.
func ValidReply(reply string) bool {
	if !strings.HasPrefix(reply, InboxRoot) && !strings.HasPrefix(reply, ReplyPrefix) {
		return false
	}
	// Every request a relay forwards passes here, so check the tokens without splitting.
	wildcard := strings.Contains(reply, ".*.") || strings.HasSuffix(reply, ".*") ||
		strings.Contains(reply, ".>.") || strings.HasSuffix(reply, ".>")
	return !wildcard && !strings.HasSuffix(reply, ".") && !strings.Contains(reply, "..") &&
		!strings.ContainsAny(reply, " \t\r\n")
}
