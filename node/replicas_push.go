package node

import (
	"context"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/fedist/fedist/replication"
	"github.com/nats-io/nats.go"
)

// takePush handles one message of an owner node's stream to this node (fdc.rp.<me>.<node>).
func (r *replicas) takePush(m *nats.Msg) {
	var p pushMsg
	signer, err := r.n.sec.open(m.Subject, m.Data, &p)
	if err == nil {
		err = checkPush(r.n.Region(), r.n.cfg.Broker.Node, m.Subject, &p, signer)
	}
	if err != nil {
		r.log.Warn().Err(err).Str("subject", m.Subject).Msg("push refused")
		return
	}
	now := r.n.eng.clock()
	var gone []replication.Key
	r.mu.Lock()
	v := r.viewLocked(p.Owner)
	v.heard = now
	st := v.streams[p.Node]
	change := p.Op == pushPut || p.Op == pushDelete || p.Op == pushInvalidate
	first := uint64(0) // a stream's numbers start at 0; its first change is 1
	if change {
		first = 1
	}
	switch {
	case st == nil && p.Seq == first:
		v.streams[p.Node] = &ownerStream{epoch: p.Epoch, seq: p.Seq, heard: now}
	case st == nil || st.epoch != p.Epoch:
		// A stream we join late (we missed its start, perhaps a change), or a restarted owner
		// node: it lost its holds, and we may have missed its last pushes. Start again from
		// demand.
		gone = r.dropOwnerLocked(p.Owner)
		r.count.gaps.Add(1)
		v.streams[p.Node] = &ownerStream{epoch: p.Epoch, seq: p.Seq, heard: now}
		change = false
	case change && p.Seq != st.seq+1, !change && p.Seq != st.seq:
		gone = r.dropOwnerLocked(p.Owner) // missed a change: nothing of this owner can be trusted
		r.count.gaps.Add(1)
		st.seq = p.Seq
		change = false
	default:
		st.seq = p.Seq
	}
	if st := v.streams[p.Node]; st != nil {
		st.heard = now
	}
	var fetch, resend []replication.Key
	if p.Op == pushResync {
		for k := range v.keys {
			if h := r.holds[k]; h != nil && !h.acked.IsZero() {
				resend = append(resend, k)
			}
		}
	}
	if p.Op == pushRefuse {
		gone = append(gone, wireKeys(p.Keys)...) // this owner node keeps no more holds: release them
	}
	if p.Op == pushAck {
		for _, wk := range p.Keys {
			if h := r.holds[wk.key()]; h != nil && h.acked.IsZero() {
				h.acked = now
				fetch = append(fetch, wk.key())
			}
		}
	}
	var drop []replication.Key
	if change {
		// Under r.mu, like Answered's admission: an answer older than this push cannot be
		// admitted after it.
		k := p.Keys[0].key()
		if h := r.holds[k]; h != nil {
			h.pushed = now
		}
		switch {
		case p.Op != pushPut:
			drop = append(drop, k)
		case !r.store.Has(k):
		case !r.in.AllowN(now, len(p.Value)):
			r.count.overBudget.Add(1)
			drop = append(drop, k)
		default:
			_, evicted := r.store.Update(k, p.Value, now)
			drop = append(drop, evicted...)
		}
	}
	r.mu.Unlock()
	r.release(p.Owner, gone)
	r.drop(drop)
	for _, k := range fetch {
		r.fetch(k)
	}
	if len(resend) > 0 {
		r.sendHold(p.Owner, resend, nil)
	}
	if !change {
		return
	}
	if m.Reply != "" {
		_ = m.Respond(nil) // the owner measures the lag from this
	}
}

// maintain runs every Heartbeat: it renews the holds with each owner this node holds records of,
// asks again for holds not acknowledged, and gives up on those never acknowledged.
func (r *replicas) maintain(now time.Time) {
	renew := map[regions.RegionID][]replication.Key{}
	silent := map[regions.RegionID][]replication.Key{}
	var expired []replication.Key
	r.mu.Lock()
	for owner, v := range r.owners {
		// A stream silent past StaleAfter (an owner node gone, or cut off while the others are
		// heard) may have missed changes routed through it: none of this owner's replicas can be
		// trusted. They are fetched again as demand asks.
		for node, st := range v.streams {
			if now.Sub(st.heard) > r.cfg.StaleAfter {
				delete(v.streams, node)
				if keys := r.dropOwnerLocked(owner); len(keys) > 0 {
					silent[owner] = append(silent[owner], keys...)
					r.count.gaps.Add(1)
				}
			}
		}
		if len(v.keys) == 0 && len(v.streams) == 0 {
			delete(r.owners, owner)
		}
	}
	for k, h := range r.holds {
		switch {
		case !h.acked.IsZero() && now.Sub(h.acked) > r.cfg.HoldTTL && !r.store.Has(k):
			expired = append(expired, k) // acknowledged but never admitted (fetch failed, refused by budget)
		case !h.acked.IsZero():
			if _, ok := renew[k.ID.Region()]; !ok {
				renew[k.ID.Region()] = nil
			}
		case now.Sub(h.asked) > r.cfg.HoldTTL:
			expired = append(expired, k)
		case now.Sub(h.asked) > 2*r.cfg.Heartbeat:
			renew[k.ID.Region()] = append(renew[k.ID.Region()], k)
		}
	}
	r.mu.Unlock()
	for owner, keys := range silent {
		r.release(owner, keys)
	}
	r.drop(expired)
	for owner, again := range renew {
		r.sendHold(owner, again, nil) // no keys: renew everything held there
	}
}

// subscribe takes this node's push stream.
func (r *replicas) subscribe() error {
	_, err := r.n.nc.Subscribe(pushSubject(r.n.Region(), r.n.cfg.Broker.Node), r.takePush)
	return err
}

// fetch looks a newly held record up at its home region, through this node's relay (the cost
// engine's path), and admits the answer as Answered does: the replica is there before the
// region's clients read the record again.
func (r *replicas) fetch(k replication.Key) {
	subject, err := overlay.RelaySubject(r.n.Region(), overlay.LookupSubject(k.Kind, k.ID))
	if err != nil {
		return
	}
	asked := r.n.eng.clock()
	r.n.wg.Add(1)
	go func() {
		defer r.n.wg.Done()
		ctx, cancel := context.WithTimeout(r.n.ctx, fetchTimeout)
		defer cancel()
		m, err := r.n.anc.RequestWithContext(ctx, subject, nil)
		if err != nil {
			return // the next lookup of a client is admitted instead
		}
		r.Answered(k.Kind, k.ID, asked, m)
	}()
}

// fetchTimeout bounds a fetch; it is above any path's round trip.
const fetchTimeout = 5 * time.Second

// release deletes keys the caller already removed from the holds (dropOwnerLocked, a refusal)
// from the store, and tells owner's nodes to forget them.
func (r *replicas) release(owner regions.RegionID, keys []replication.Key) {
	if len(keys) == 0 {
		return
	}
	for _, k := range keys {
		r.store.Delete(k)
	}
	r.sendHold(owner, nil, keys)
}

func wireKeys(ws []wireKey) []replication.Key {
	out := make([]replication.Key, len(ws))
	for i, w := range ws {
		out[i] = w.key()
	}
	return out
}
