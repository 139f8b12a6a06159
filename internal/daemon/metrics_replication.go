package daemon

import (
	"github.com/fedist/fedist/node"
	"github.com/prometheus/client_golang/prometheus"
)

// replicationCollector exports what GET /replication shows (node.ReplicationStats), without the
// per-record demand list. With replication off only fedist_replication_enabled is exported.
type replicationCollector struct {
	n *node.Node

	enabled                                            family
	lookups, fresh, hits, hitRatio, stale              family
	admitted, overBudget, gaps, expired, refreshed     family
	candidates, readerHolds, bandwidth                 family
	storeBytes, storeMaxBytes, storeEntries, storeMax  family
	evictions                                          family
	ownerHolds, readers, pushes, invalidations         family
	refusedHolds, lagP50, lagP99, lagSamples, pushBand family
}

func newReplicationCollector(n *node.Node) *replicationCollector {
	return &replicationCollector{n: n,
		enabled: gauge("fedist_replication_enabled", "1 when the node runs demand-driven replication."),

		lookups:     counter("fedist_replication_lookups_total", "Lookups of other regions' records this node's relay saw."),
		fresh:       counter("fedist_replication_fresh_lookups_total", "Of those lookups, the ones asked to bypass replicas."),
		hits:        counter("fedist_replication_hits_total", "Lookups answered from a replica."),
		hitRatio:    gauge("fedist_replication_hit_ratio", "Hits over lookups that did not bypass replicas, since start."),
		stale:       counter("fedist_replication_stale_total", "Held replicas not served because their home region was not heard from for StaleAfter."),
		admitted:    counter("fedist_replication_admitted_total", "Values taken into the replica store."),
		overBudget:  counter("fedist_replication_over_budget_total", "Admissions and updates refused by the bandwidth budget."),
		gaps:        counter("fedist_replication_gaps_total", "Owner change streams found broken (every replica of the owner dropped)."),
		expired:     counter("fedist_replication_expired_total", "Replicas dropped after MaxAge without a push or refresh."),
		refreshed:   counter("fedist_replication_refreshed_total", "Background refreshes of replicas half their MaxAge old."),
		candidates:  gauge("fedist_replication_candidates", "Records whose demand makes them candidates for a replica."),
		readerHolds: gauge("fedist_replication_reader_holds", "Holds this node asked owners for, by state: acked, pending.", "state"),
		bandwidth:   gauge("fedist_replication_bandwidth_budget_bytes_per_second", "Bandwidth budget for admissions and updates."),

		storeBytes:    gauge("fedist_replication_store_bytes", "Bytes held in the replica store, entry overhead included."),
		storeMaxBytes: gauge("fedist_replication_store_max_bytes", "Byte budget of the replica store."),
		storeEntries:  gauge("fedist_replication_store_entries", "Entries held in the replica store."),
		storeMax:      gauge("fedist_replication_store_max_entries", "Entry budget of the replica store."),
		evictions:     counter("fedist_replication_store_evictions_total", "Entries removed from the store to make room."),

		ownerHolds:    gauge("fedist_replication_owner_holds", "Holds other regions keep on this region's records."),
		readers:       gauge("fedist_replication_owner_readers", "Reader nodes holding replicas of this region's records."),
		pushes:        counter("fedist_replication_pushes_total", "Changes pushed to readers."),
		invalidations: counter("fedist_replication_invalidations_total", "Invalidations sent to readers."),
		refusedHolds:  counter("fedist_replication_refused_holds_total", "Hold requests this owner refused."),
		lagP50:        gauge("fedist_replication_lag_p50_seconds", "Median commit-to-acknowledgement lag of recent pushes."),
		lagP99:        gauge("fedist_replication_lag_p99_seconds", "99th percentile commit-to-acknowledgement lag of recent pushes."),
		lagSamples:    counter("fedist_replication_lag_samples_total", "Push lag samples taken."),
		pushBand:      gauge("fedist_replication_push_bandwidth_budget_bytes_per_second", "Bandwidth budget for pushes to readers."),
	}
}

func (c *replicationCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.enabled, c.lookups, c.fresh, c.hits, c.hitRatio, c.stale, c.admitted, c.overBudget,
		c.gaps, c.expired, c.refreshed, c.candidates, c.readerHolds, c.bandwidth, c.storeBytes,
		c.storeMaxBytes, c.storeEntries, c.storeMax, c.evictions, c.ownerHolds, c.readers, c.pushes,
		c.invalidations, c.refusedHolds, c.lagP50, c.lagP99, c.lagSamples, c.pushBand)
}

func (c *replicationCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.n.ReplicationStats(0)
	c.enabled.emit(ch, boolFloat(s.Enabled))
	if !s.Enabled {
		return
	}
	c.lookups.emit(ch, float64(s.Lookups))
	c.fresh.emit(ch, float64(s.Fresh))
	c.hits.emit(ch, float64(s.Hits))
	c.hitRatio.emit(ch, s.HitRatio)
	c.stale.emit(ch, float64(s.Stale))
	c.admitted.emit(ch, float64(s.Admitted))
	c.overBudget.emit(ch, float64(s.OverBudget))
	c.gaps.emit(ch, float64(s.Gaps))
	c.expired.emit(ch, float64(s.Expired))
	c.refreshed.emit(ch, float64(s.Refreshed))
	c.candidates.emit(ch, float64(s.Candidates))
	c.readerHolds.emit(ch, float64(s.Holding), "acked")
	c.readerHolds.emit(ch, float64(s.Asked), "pending")
	c.bandwidth.emit(ch, float64(s.Bandwidth))

	c.storeBytes.emit(ch, float64(s.Store.Bytes))
	c.storeMaxBytes.emit(ch, float64(s.Store.MaxBytes))
	c.storeEntries.emit(ch, float64(s.Store.Entries))
	c.storeMax.emit(ch, float64(s.Store.MaxEntries))
	c.evictions.emit(ch, float64(s.Store.Evictions))

	c.ownerHolds.emit(ch, float64(s.Holds))
	c.readers.emit(ch, float64(s.Readers))
	c.pushes.emit(ch, float64(s.Pushes))
	c.invalidations.emit(ch, float64(s.Invalidations))
	c.refusedHolds.emit(ch, float64(s.RefusedHolds))
	c.lagP50.emit(ch, s.LagP50Ms/1000)
	c.lagP99.emit(ch, s.LagP99Ms/1000)
	c.lagSamples.emit(ch, float64(s.LagSamples))
	c.pushBand.emit(ch, float64(s.PushBandwidth))
}
