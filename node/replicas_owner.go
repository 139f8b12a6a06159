package node

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/fedist/fedist/replication"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// ownerSide is the home region's side of replication in one node: which reader nodes hold which
// of this region's records (holdMsg, renewed by the readers, forgotten after HoldTTL), and the push
// of every change the region's applications report (overlay.ChangesSubject) to exactly those
// readers, each on its own numbered stream. The readers' acknowledgements give the lag.
type ownerSide struct {
	n     *Node
	cfg   ReplicationConfig
	log   zerolog.Logger
	epoch string
	out   *rate.Limiter // PushBandwidth
	lag   *replication.Lag
	inbox string // prefix of the acknowledgements' subjects

	mu      sync.Mutex // guards everything below
	readers map[readerID]*readerState
	byKey   map[replication.Key]map[readerID]bool
	holds   int
	pending map[string]pendingPush // acknowledgement token → push

	pushes, invalidations, refused uint64
}

type readerID struct {
	region regions.RegionID
	node   string
}

type readerState struct {
	seq     uint64
	renewed time.Time
	keys    map[replication.Key]bool
}

type pendingPush struct{ commit, sent time.Time }

func newOwnerSide(n *Node, cfg ReplicationConfig, log zerolog.Logger) *ownerSide {
	return &ownerSide{n: n, cfg: cfg, log: log, epoch: nuid.Next(),
		out: rate.NewLimiter(rate.Limit(cfg.PushBandwidth), max(cfg.PushBandwidth, 1<<20)),
		lag: replication.NewLag(4096), inbox: nats.NewInbox(),
		readers: map[readerID]*readerState{}, byKey: map[replication.Key]map[readerID]bool{},
		pending: map[string]pendingPush{}}
}

// subscribe takes holds (every node of the region), changes (one node per change) and the
// readers' acknowledgements.
func (o *ownerSide) subscribe() error {
	if _, err := o.n.nc.Subscribe(SubjectHold+o.n.Region().String(), o.takeHold); err != nil {
		return err
	}
	if _, err := o.n.nc.Subscribe(o.inbox+".*", o.takeAck); err != nil {
		return err
	}
	_, err := o.n.anc.QueueSubscribe(overlay.ChangesSubject(o.n.Region()), "fedist-changes", o.takeChange)
	return err
}

// takeHold registers or drops a reader node's holds, and acknowledges the new ones.
func (o *ownerSide) takeHold(m *nats.Msg) {
	var h holdMsg
	signer, err := o.n.sec.open(m.Subject, m.Data, &h)
	if err == nil {
		err = checkHold(o.n.Region(), m.Subject, &h, signer)
	}
	if err == nil && !nodeToken(h.Node) {
		err = fmt.Errorf("%w: node name %q", ErrReplication, h.Node)
	}
	if err != nil {
		o.log.Warn().Err(err).Str("subject", m.Subject).Msg("hold refused")
		return
	}
	id := readerID{h.Region, h.Node}
	o.mu.Lock()
	rs := o.readers[id]
	if rs == nil {
		rs = &readerState{keys: map[replication.Key]bool{}}
		o.readers[id] = rs
		// A reader this node never heard: it may hold keys whose holds this node missed (it was
		// added to the region, or restarted). Ask for them, or its changes would miss that reader.
		o.sendLocked(id, pushMsg{Op: pushResync, Seq: rs.seq}, time.Time{})
	}
	rs.renewed = time.Now()
	var acked, refused []wireKey
	for _, wk := range h.Add {
		k := wk.key()
		if !rs.keys[k] {
			if o.holds >= o.cfg.MaxHolds {
				o.refused++
				refused = append(refused, wk)
				continue
			}
			rs.keys[k] = true
			o.holds++
			if o.byKey[k] == nil {
				o.byKey[k] = map[readerID]bool{}
			}
			o.byKey[k][id] = true
		}
		acked = append(acked, wk)
	}
	for _, wk := range h.Drop {
		o.unholdLocked(id, rs, wk.key())
	}
	if len(acked) > 0 {
		o.sendLocked(id, pushMsg{Op: pushAck, Seq: rs.seq, Keys: acked}, time.Time{})
	}
	if len(refused) > 0 {
		o.sendLocked(id, pushMsg{Op: pushRefuse, Seq: rs.seq, Keys: refused}, time.Time{})
	}
	o.mu.Unlock()
}

func (o *ownerSide) unholdLocked(id readerID, rs *readerState, k replication.Key) {
	if !rs.keys[k] {
		return
	}
	delete(rs.keys, k)
	o.holds--
	delete(o.byKey[k], id)
	if len(o.byKey[k]) == 0 {
		delete(o.byKey, k)
	}
}

// takeChange pushes one change of an application of this region to every reader holding it, then
// answers the application.
func (o *ownerSide) takeChange(m *nats.Msg) {
	kind, op := m.Header.Get(overlay.HeaderChangeKind), m.Header.Get(overlay.HeaderChangeOp)
	id, err := regions.ParseID(m.Header.Get(overlay.HeaderChangeID))
	if err == nil {
		err = overlay.CheckKind(kind)
	}
	switch {
	case err != nil:
	case id.Region() != o.n.Region():
		err = fmt.Errorf("record %s is region %s's, not %s's", id, id.Region(), o.n.Region())
	case op != overlay.ChangePut && op != overlay.ChangeDelete:
		err = fmt.Errorf("change operation %q: want %q or %q", op, overlay.ChangePut, overlay.ChangeDelete)
	}
	if err != nil {
		_ = o.n.anc.PublishMsg(overlay.StatusReply(m.Reply, overlay.StatusError, "change refused: "+err.Error()))
		return
	}
	commit := time.Now()
	if ns, err := strconv.ParseInt(m.Header.Get(overlay.HeaderCommit), 10, 64); err == nil && ns > 0 {
		commit = time.Unix(0, ns)
	}
	k := replication.Key{Kind: kind, ID: id}
	o.mu.Lock()
	defer o.mu.Unlock() // pushes leave in their streams' order: under the lock
	for rid := range o.byKey[k] {
		rs := o.readers[rid]
		rs.seq++
		p := pushMsg{Op: pushDelete, Seq: rs.seq, Keys: []wireKey{toWire(k)}}
		if op == overlay.ChangePut {
			p.Op, p.Value = pushPut, m.Data
			if len(m.Data) > maxPushValue || !o.out.AllowN(time.Now(), len(m.Data)) {
				p.Op, p.Value = pushInvalidate, nil
				o.invalidations++
			}
		}
		if p.Op != pushPut {
			o.unholdLocked(rid, rs, k) // the reader drops it; demand will ask again
		}
		o.sendLocked(rid, p, commit)
	}
	_ = m.Respond(nil)
}

// sendLocked signs and publishes one push to a reader node; a change asks for an
// acknowledgement. Pushes are sent under o.mu, so each stream's numbers leave in order.
func (o *ownerSide) sendLocked(to readerID, p pushMsg, commit time.Time) {
	p.Owner, p.Node, p.Epoch = o.n.Region(), o.n.cfg.Broker.Node, o.epoch
	now := time.Now()
	p.Sent = now.UnixNano()
	if !commit.IsZero() {
		p.Commit = commit.UnixNano()
	}
	subject := pushSubject(to.region, to.node)
	data, err := o.n.sec.seal(subject, p)
	if err != nil {
		o.log.Warn().Err(err).Msg("push")
		return
	}
	msg := &nats.Msg{Subject: subject, Data: data}
	if !commit.IsZero() {
		token := nuid.Next()
		msg.Reply = o.inbox + "." + token
		o.pending[token] = pendingPush{commit: commit, sent: now}
		o.pushes++
	}
	if err := o.n.nc.PublishMsg(msg); err != nil {
		o.log.Debug().Err(err).Msg("push")
	}
}

// takeAck turns a reader's acknowledgement into a lag sample: from the commit to the push, plus
// half the push's round trip (the reader applies it on arrival).
func (o *ownerSide) takeAck(m *nats.Msg) {
	token := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	now := time.Now()
	o.mu.Lock()
	p, ok := o.pending[token]
	delete(o.pending, token)
	o.mu.Unlock()
	if ok {
		o.lag.Add(max(p.sent.Sub(p.commit), 0) + now.Sub(p.sent)/2)
	}
}

// maintain runs every Heartbeat: a heartbeat to every reader node holding something, the holds of
// readers silent for HoldTTL forgotten, acknowledgements never received given up.
func (o *ownerSide) maintain(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for id, rs := range o.readers {
		if now.Sub(rs.renewed) > o.cfg.HoldTTL {
			for k := range rs.keys {
				o.unholdLocked(id, rs, k)
			}
			delete(o.readers, id)
			continue
		}
		// Every known reader, holding keys or not: a reader takes a stream that falls silent for
		// a lost owner node.
		o.sendLocked(id, pushMsg{Op: pushBeat, Seq: rs.seq}, time.Time{})
	}
	for token, p := range o.pending {
		if now.Sub(p.sent) > o.cfg.HoldTTL {
			delete(o.pending, token)
		}
	}
}
