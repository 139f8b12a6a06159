package node

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/fedist/fedist/replication"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// replicas is the reading side of demand-driven replication in one node, the relay's
// overlay.Replicas. Every lookup this region's clients send into the relay is counted by the
// detector; a candidate record is held: the node asks the record's home region (holdMsg) to push
// its changes here, and once that is acknowledged the next answer that passes is admitted into
// the store, within the budgets. From then on the relay answers lookups of it from the store while
// the home region is heard from (pushes and heartbeats, StaleAfter), and the owner's pushes update
// or drop it. A missed push (a gap in the stream's numbers) or a restarted owner node drops every
// replica of that region: they are fetched again as demand asks.
type replicas struct {
	n     *Node
	cfg   ReplicationConfig
	log   zerolog.Logger
	det   *replication.Detector
	store *replication.Store
	in    *rate.Limiter // Bandwidth
	owner *ownerSide

	mu     sync.Mutex // guards holds and owners
	holds  map[replication.Key]*hold
	owners map[regions.RegionID]*ownerView

	count readerCounts
}

// readerCounts are the reading side's counters (ReplicationStats); atomic, so that a lookup
// served from a replica takes r.mu only to read its hold.
type readerCounts struct {
	lookups, fresh, hits, stale, gaps, overBudget, admitted, expired, refreshed atomic.Uint64
}

// hold is the state of one record this node holds, or asked to.
type hold struct {
	asked time.Time // when the hold was sent
	acked time.Time // when the owner acknowledged it; zero until then
	// pushed is when the owner last pushed a change of it: an answer to a lookup asked before that
	// may be older than the change, and is not admitted.
	pushed time.Time
	// refreshing is when a refresh of the replica (half its MaxAge gone) was sent; zero when none
	// is under way.
	refreshing time.Time
}

// ownerView is what this node knows of one home region's streams.
type ownerView struct {
	heard   time.Time                // last push or heartbeat from any of its nodes
	streams map[string]*ownerStream  // by owner node
	keys    map[replication.Key]bool // held or asked for
}

type ownerStream struct {
	epoch string
	seq   uint64
	heard time.Time
}

func newReplicas(n *Node, cfg ReplicationConfig, log zerolog.Logger) (*replicas, error) {
	det, err := replication.NewDetector(cfg.Detector)
	if err != nil {
		return nil, err
	}
	store, err := replication.NewStore(cfg.Store)
	if err != nil {
		return nil, err
	}
	return &replicas{n: n, cfg: cfg, log: log, det: det, store: store,
		in:    rate.NewLimiter(rate.Limit(cfg.Bandwidth), max(cfg.Bandwidth, 1<<20)),
		holds: map[replication.Key]*hold{}, owners: map[regions.RegionID]*ownerView{}}, nil
}

// Lookup implements overlay.Replicas.
func (r *replicas) Lookup(kind string, id regions.ID, fresh bool, now time.Time) ([]byte, bool) {
	k := replication.Key{Kind: kind, ID: id}
	r.count.lookups.Add(1)
	if fresh {
		r.count.fresh.Add(1)
		return nil, false // neither answered nor counted as demand: the caller wants the owner
	}
	_, candidate := r.det.Observe(k, now)
	r.mu.Lock()
	h := r.holds[k]
	if h == nil && candidate {
		r.holds[k] = &hold{asked: now}
		r.viewLocked(id.Region()).keys[k] = true
		r.mu.Unlock()
		r.sendHold(id.Region(), []replication.Key{k}, nil)
		return nil, false
	}
	held := h != nil && !h.acked.IsZero()
	usable := held && r.freshLocked(id.Region(), now)
	r.mu.Unlock()
	if held && !usable {
		r.count.stale.Add(1)
	}
	if !usable {
		return nil, false
	}
	e, ok := r.store.Get(k, now)
	if !ok {
		return nil, false
	}
	age := now.Sub(e.Updated)
	if age > r.cfg.MaxAge {
		// Neither pushed nor refreshed for MaxAge: ask the home region; its answer is admitted
		// again (Answered).
		r.store.Delete(k)
		r.count.expired.Add(1)
		return nil, false
	}
	r.count.hits.Add(1)
	if age > r.cfg.MaxAge/2 && r.startRefresh(h, now) {
		r.fetch(k) // a record still read is refreshed before MaxAge, in the background
	}
	return e.Value, true
}

// startRefresh marks a refresh of h under way, unless one is (and is younger than a fetch's
// timeout), and reports whether the caller should send it.
func (r *replicas) startRefresh(h *hold, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !h.refreshing.IsZero() && now.Sub(h.refreshing) <= fetchTimeout {
		return false
	}
	h.refreshing = now
	r.count.refreshed.Add(1)
	return true
}

// Answered implements overlay.Replicas: an answer to a lookup of a held record, asked after the
// hold was acknowledged and after the record's last push, is admitted (so it is no older than the
// push stream that follows it). The check and the admission happen under r.mu, as do pushes'
// updates (takePush), so a push cannot slip between them.
func (r *replicas) Answered(kind string, id regions.ID, asked time.Time, m *nats.Msg) {
	k := replication.Key{Kind: kind, ID: id}
	status := overlay.ReplyStatus(m)
	now := r.n.eng.clock()
	var evicted []replication.Key
	r.mu.Lock()
	h := r.holds[k]
	if h != nil && !asked.Before(h.refreshing) {
		h.refreshing = time.Time{}
	}
	switch {
	case h == nil || h.acked.IsZero() || asked.Before(h.acked) || !asked.After(h.pushed):
	case status == overlay.StatusNotFound || m.Header.Get(overlay.HeaderMoved) != "":
		evicted = []replication.Key{k} // nothing to replicate; a forward is followed by the client
	case status != overlay.StatusOK:
	case !r.in.AllowN(now, len(m.Data)):
		r.count.overBudget.Add(1)
	case r.store.Has(k):
		// Asked after the last push, so at least as new as the replica: a refresh.
		_, evicted = r.store.Update(k, m.Data, now)
	default:
		var admitted bool
		if admitted, evicted = r.store.Admit(k, m.Data, now); admitted {
			r.count.admitted.Add(1)
		} else {
			evicted = append(evicted, k) // larger than the whole budget: release the hold
		}
	}
	r.mu.Unlock()
	r.drop(evicted)
}

// freshLocked reports whether owner was heard from within StaleAfter.
func (r *replicas) freshLocked(owner regions.RegionID, now time.Time) bool {
	v := r.owners[owner]
	return v != nil && now.Sub(v.heard) <= r.cfg.StaleAfter
}

func (r *replicas) viewLocked(owner regions.RegionID) *ownerView {
	v := r.owners[owner]
	if v == nil {
		v = &ownerView{streams: map[string]*ownerStream{}, keys: map[replication.Key]bool{}}
		r.owners[owner] = v
	}
	return v
}

// drop forgets keys: out of the store, out of the holds, and the owners told.
func (r *replicas) drop(keys []replication.Key) {
	if len(keys) == 0 {
		return
	}
	byOwner := map[regions.RegionID][]replication.Key{}
	r.mu.Lock()
	for _, k := range keys {
		if r.holds[k] == nil {
			continue
		}
		delete(r.holds, k)
		if v := r.owners[k.ID.Region()]; v != nil {
			delete(v.keys, k)
		}
		byOwner[k.ID.Region()] = append(byOwner[k.ID.Region()], k)
	}
	r.mu.Unlock()
	for _, k := range keys {
		r.store.Delete(k)
	}
	for owner, ks := range byOwner {
		r.sendHold(owner, nil, ks)
	}
}

// dropOwnerLocked forgets every replica of owner (a gap in its stream, a restarted node). The
// caller deletes the returned keys from the store once it released the lock.
func (r *replicas) dropOwnerLocked(owner regions.RegionID) []replication.Key {
	v := r.owners[owner]
	if v == nil {
		return nil
	}
	keys := make([]replication.Key, 0, len(v.keys))
	for k := range v.keys {
		delete(r.holds, k)
		keys = append(keys, k)
	}
	v.keys = map[replication.Key]bool{}
	return keys
}

// sendHold asks owner's nodes to add or drop holds of this node, in messages of at most
// maxHoldKeys keys; with neither, it renews every hold.
func (r *replicas) sendHold(owner regions.RegionID, add, drop []replication.Key) {
	for first := true; first || len(add)+len(drop) > 0; first = false {
		h := holdMsg{Region: r.n.Region(), Node: r.n.cfg.Broker.Node}
		for len(add) > 0 && len(h.Add)+len(h.Drop) < maxHoldKeys {
			h.Add, add = append(h.Add, toWire(add[0])), add[1:]
		}
		for len(drop) > 0 && len(h.Add)+len(h.Drop) < maxHoldKeys {
			h.Drop, drop = append(h.Drop, toWire(drop[0])), drop[1:]
		}
		subject := SubjectHold + owner.String()
		data, err := r.n.sec.seal(subject, h)
		if err == nil {
			err = r.n.nc.Publish(subject, data)
		}
		if err != nil {
			r.log.Debug().Err(err).Stringer("owner", owner).Msg("hold")
			return
		}
	}
}
