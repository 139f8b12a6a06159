package overlay

import (
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// egressQueue groups the Egress components of all nodes of one region, so each lookup is handled once.
const egressQueue = "fedist-egress"

// Egress takes lookups in transit for its region (fdt.<me>.get.>) and republishes them as public
// subjects with the reply subject unchanged, or answers "no responder" when nothing here serves them.
type Egress struct {
	nc      *nats.Conn
	acc     *server.Account
	me      regions.RegionID
	maxHops int
	log     zerolog.Logger
	sub     *nats.Subscription

	forwarded   atomic.Uint64
	noResponder atomic.Uint64
	hopDrops    atomic.Uint64
}

func startEgress(nc *nats.Conn, acc *server.Account, me regions.RegionID, maxHops int, log zerolog.Logger) (*Egress, error) {
	e := &Egress{nc: nc, acc: acc, me: me, maxHops: maxHops, log: log}
	subj := TransitPrefix + me.String() + "." + LookupToken + ".>"
	sub, err := nc.QueueSubscribe(subj, egressQueue, e.handle)
	if err != nil {
		return nil, fmt.Errorf("egress subscribe %s: %w", subj, err)
	}
	if err := sub.SetPendingLimits(-1, 256<<20); err != nil {
		return nil, err
	}
	e.sub = sub
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
		e.reply(m, StatusHopLimit, fmt.Sprintf("dropped after %d hops (limit %d)", hops, e.maxHops))
		return
	}
	local := PublicPrefix + m.Subject[len(TransitPrefix):]
	if e.acc.Interest(local) == 0 {
		e.noResponder.Add(1)
		e.reply(m, StatusNoResponder, "nothing in region "+e.me.String()+" serves "+local)
		return
	}
	if m.Header == nil {
		m.Header = nats.Header{}
	}
	m.Header.Set(HeaderHops, strconv.Itoa(hops+1))
	out := &nats.Msg{Subject: local, Reply: m.Reply, Header: m.Header, Data: m.Data}
	if err := e.nc.PublishMsg(out); err != nil {
		e.log.Warn().Err(err).Str("subject", local).Msg("egress republish")
		return
	}
	e.forwarded.Add(1)
}

func (e *Egress) reply(m *nats.Msg, status, reason string) {
	if m.Reply == "" {
		return
	}
	if err := e.nc.PublishMsg(StatusReply(m.Reply, status, reason)); err != nil {
		e.log.Warn().Err(err).Msg("egress status reply")
	}
}

func (e *Egress) stop() error { return e.sub.Unsubscribe() }
