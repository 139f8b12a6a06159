package overlay

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// egressQueue groups the Egress components of all nodes of one region, so each lookup is handled once.
const egressQueue = "fedist-egress"

// Egress takes lookups in transit for its region (fdt.<me>.get.>) and republishes them on the public
// subject with the reply wrapped as fdr.<node>.<reply>. Answers are unwrapped by a mapping on the
// responder's node and travel straight back; when nothing in the region serves the lookup, the
// server sends its "no responders" status to Egress, which answers the requester with it at once.
//
// Asking the server is the only reliable test: a spoke keeps its hub's mapping sources (fd.*.>) as
// deny-filtered leafnode subscriptions, so Account.Interest says "yes" everywhere but at the root.
type Egress struct {
	nc        *nats.Conn
	me        regions.RegionID
	maxHops   int
	log       zerolog.Logger
	replyPre  string // fdr.<node>.
	sub, rsub *nats.Subscription

	forwarded   atomic.Uint64
	noResponder atomic.Uint64
	hopDrops    atomic.Uint64
}

func startEgress(nc *nats.Conn, me regions.RegionID, node string, maxHops int, log zerolog.Logger) (*Egress, error) {
	e := &Egress{nc: nc, me: me, maxHops: maxHops, log: log, replyPre: ReplyPrefix + node + "."}
	subj := TransitPrefix + me.String() + "." + LookupToken + ".>"
	sub, err := nc.QueueSubscribe(subj, egressQueue, e.handle)
	if err != nil {
		return nil, fmt.Errorf("egress subscribe %s: %w", subj, err)
	}
	e.sub = sub
	if e.rsub, err = nc.Subscribe(e.replyPre+">", e.handleReply); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("egress subscribe %s>: %w", e.replyPre, err)
	}
	for _, s := range []*nats.Subscription{e.sub, e.rsub} {
		if err := s.SetPendingLimits(-1, 256<<20); err != nil {
			return nil, err
		}
	}
	return e, nc.Flush()
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

func (e *Egress) handle(m *nats.Msg) {
	hops := Hops(m)
	if hops >= e.maxHops {
		e.hopDrops.Add(1)
		e.log.Warn().Str("subject", m.Subject).Int("hops", hops).Msg("hop limit reached; message dropped")
		e.reply(m.Reply, StatusHopLimit, fmt.Sprintf("dropped after %d hops (limit %d)", hops, e.maxHops))
		return
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	m.Header.Set(HeaderHops, strconv.Itoa(hops+1))
	out := &nats.Msg{Subject: PublicPrefix + m.Subject[len(TransitPrefix):], Header: m.Header, Data: m.Data}
	if m.Reply != "" {
		out.Reply = e.replyPre + m.Reply
	}
	if err := e.nc.PublishMsg(out); err != nil {
		e.log.Warn().Err(err).Str("subject", out.Subject).Msg("egress republish")
		return
	}
	e.forwarded.Add(1)
}

// handleReply gets the server's "no responders" status for a republished lookup, and answers that
// reached this node over a cluster route (routes skip mappings, so they arrive still wrapped).
func (e *Egress) handleReply(m *nats.Msg) {
	reply := strings.TrimPrefix(m.Subject, e.replyPre)
	if m.Header != nil && m.Header.Get(natsStatus) == "503" && len(m.Data) == 0 && m.Header.Get(HeaderStatus) == "" {
		e.noResponder.Add(1)
		e.reply(reply, StatusNoResponder, "nothing in region "+e.me.String()+" serves "+m.Header.Get("Nats-Subject"))
		return
	}
	out := &nats.Msg{Subject: reply, Header: m.Header, Data: m.Data}
	if err := e.nc.PublishMsg(out); err != nil {
		e.log.Warn().Err(err).Msg("egress relay reply")
	}
}

func (e *Egress) reply(to, status, reason string) {
	if to == "" {
		return
	}
	if err := e.nc.PublishMsg(StatusReply(to, status, reason)); err != nil {
		e.log.Warn().Err(err).Msg("egress status reply")
	}
}

func (e *Egress) stop() error {
	return errorsJoin(e.sub.Unsubscribe(), e.rsub.Unsubscribe())
}
