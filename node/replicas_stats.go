package node

import (
	"time"

	"github.com/fedist/fedist/replication"
)

// ReplicationStats is what a node's replication did, as a reader of other regions' records and as
// an owner of its own. GET /replication on the node's HTTP address serves it as JSON.
type ReplicationStats struct {
	Enabled bool `json:"enabled"`
	// Reader side: lookups of other regions' records this node's relay saw.
	Lookups    uint64  `json:"lookups"`
	Fresh      uint64  `json:"fresh"` // of them, asked to bypass replicas
	Hits       uint64  `json:"hits"`  // answered from a replica
	HitRatio   float64 `json:"hit_ratio"`
	Stale      uint64  `json:"stale"`       // held replicas not served: home region not heard for StaleAfter
	Admitted   uint64  `json:"admitted"`    // values taken into the store
	OverBudget uint64  `json:"over_budget"` // admissions and updates refused by the bandwidth budget
	Gaps       uint64  `json:"gaps"`        // owner streams found broken (every replica of it dropped)
	Expired    uint64  `json:"expired"`     // replicas dropped after MaxAge without a push or refresh
	Refreshed  uint64  `json:"refreshed"`   // background refreshes of replicas half their MaxAge old
	Candidates int     `json:"candidates"`
	Holding    int     `json:"holding"` // holds acknowledged by their owners
	Asked      int     `json:"asked"`   // holds not acknowledged yet
	Bandwidth  int     `json:"bandwidth_bytes_per_s"`

	Store replication.StoreStats `json:"store"`
	Top   []DemandStat           `json:"top"`

	// Owner side: this region's records held elsewhere.
	Holds         int     `json:"holds"`
	Readers       int     `json:"readers"`
	Pushes        uint64  `json:"pushes"`
	Invalidations uint64  `json:"invalidations"`
	RefusedHolds  uint64  `json:"refused_holds"`
	LagP50Ms      float64 `json:"lag_p50_ms"`
	LagP99Ms      float64 `json:"lag_p99_ms"`
	LagSamples    uint64  `json:"lag_samples"`
	PushBandwidth int     `json:"push_bandwidth_bytes_per_s"`
}

// DemandStat is one record's demand: its decayed lookup count (the unit of Detector.Threshold)
// and the lookup rate per second that count stands for.
type DemandStat struct {
	Kind  string  `json:"kind"`
	ID    string  `json:"id"`
	Count float64 `json:"count"`
	Rate  float64 `json:"rate_per_s"`
	Held  bool    `json:"held"`
}

// ReplicationStats returns the node's replication figures; top is how many records of highest
// demand to list.
func (n *Node) ReplicationStats(top int) ReplicationStats {
	r, o := n.reps, n.owner
	if r == nil {
		return ReplicationStats{}
	}
	now := n.eng.clock()
	s := ReplicationStats{Enabled: true, Bandwidth: r.cfg.Bandwidth, PushBandwidth: r.cfg.PushBandwidth,
		Candidates: r.det.Candidates(now), Store: r.store.Stats()}
	for _, d := range r.det.Top(top, now) {
		s.Top = append(s.Top, DemandStat{Kind: d.Key.Kind, ID: d.Key.ID.String(), Count: d.Count, Rate: d.Rate, Held: r.store.Has(d.Key)})
	}
	c := &r.count
	s.Lookups, s.Fresh, s.Hits, s.Stale = c.lookups.Load(), c.fresh.Load(), c.hits.Load(), c.stale.Load()
	s.Admitted, s.OverBudget, s.Gaps = c.admitted.Load(), c.overBudget.Load(), c.gaps.Load()
	s.Expired, s.Refreshed = c.expired.Load(), c.refreshed.Load()
	r.mu.Lock()
	for _, h := range r.holds {
		if h.acked.IsZero() {
			s.Asked++
		} else {
			s.Holding++
		}
	}
	r.mu.Unlock()
	if asked := s.Lookups - s.Fresh; asked > 0 {
		s.HitRatio = float64(s.Hits) / float64(asked)
	}
	o.mu.Lock()
	s.Holds, s.Readers, s.Pushes, s.Invalidations, s.RefusedHolds = o.holds, len(o.readers), o.pushes, o.invalidations, o.refused
	o.mu.Unlock()
	s.LagSamples = o.lag.Count()
	s.LagP50Ms = ms(o.lag.Quantile(0.5))
	s.LagP99Ms = ms(o.lag.Quantile(0.99))
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
