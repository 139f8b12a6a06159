// Package replication implements the pure core of demand-driven replication: a region's node
// counts the lookups its clients make for records owned by other regions, replicates the records
// read often, and keeps the replicas within a memory budget while their owners push updates.
//
// It is pure like package costs: keys, values, durations and the current time come in; decisions
// come out. It never touches a socket, never reads the clock and starts no goroutine. The node
// (package node) owns the subscriptions, fetches values and talks to owners.
//
// Pieces, one file each:
//   - detector.go: Detector, decayed lookup counts per Key (half-life) in memory fixed by its
//     config, from a count-min sketch (countmin.go) and a heap of the TopK heavy hitters (topk.go).
//     A key whose decayed count passes DetectorConfig.Threshold is a candidate.
//   - store.go: Store, the replicas, under a byte budget and an entry budget; policy.go decides
//     admission and eviction (W-TinyLFU) with the popularity sketch of frequency.go.
//   - lag.go: Lag, replica lag samples (owner commit to replica apply) and their quantiles.
//   - config.go: DetectorConfig, StoreConfig, their defaults and Validate; ErrConfig; EntryOverhead.
//   - key.go: Key and its seeded hash; list.go: the Store's LRU lists; churnmap.go: a map rebuilt
//     after many deletes, since Go's maps keep the room that deletes leave.
//
// Invariants a caller may rely on:
//   - A Detector's estimate is never below a key's true decayed count, and its memory does not
//     grow with the number of distinct keys (MemoryBytes).
//   - A Store never holds more than StoreConfig.MaxBytes, counting len(value) + EntryOverhead per
//     entry, nor more than MaxEntries entries: not after a call, not during one (room is made
//     before a value is stored).
//   - A key leaves a Store only by Delete or by being named in the evicted keys that Admit or
//     Update return, so the node can tell every owner when it stops holding a replica. No callback
//     runs under a Store's lock; there is none.
//   - Detector, Store and Lag are each safe for concurrent use behind one mutex.
//
// It does not fetch values, subscribe to updates or decide when a replica is stale: those are the
// node's. It does not expire entries by age either; an entry leaves when something more popular
// needs its room, or when the owner deletes the record.
//
// # Why not a cache library
//
// The Store is our own W-TinyLFU (store.go, policy.go, frequency.go, list.go, churnmap.go: ~480
// lines without comments) because the libraries we looked at do not keep a hard budget. github.com/maypok86/otter/v2 v2.4.0 was measured with testdata/otterprobe (a
// separate module, `go run .` there), MaximumWeight 64 KiB and Weigher max(len, 1 KiB), which
// would have given both budgets at once:
//   - Its documentation says the cache "may ... temporarily exceed the threshold while evicting".
//     Set puts the entry in the table first and evicts later, in a maintenance pass fed by a write
//     buffer; reads reach the popularity sketch through a lossy buffer that drops them when full.
//   - Eight goroutines calling Set: a reader summing the live entries saw up to 17× MaximumWeight
//     (12× with a synchronous Executor), over the bound in most samples, while WeightedSize never
//     showed more than 1.00×, so not even the library's own figure reveals it.
//   - One writer and one concurrent reader, synchronous Executor: up to 1.9×. A reader that runs
//     maintenance takes it over, and the writer's Set returns before its eviction.
//   - One goroutine, synchronous Executor: 3 × 200 000 Sets, never over after Set returned.
//
// So otter keeps the bound only if every call is serialized behind a mutex of ours and the
// Executor runs maintenance on the caller, which its documentation warns may deadlock with
// callbacks, and only by behaviour it disclaims. Evictions would reach us through OnAtomicDeletion,
// under otter's bucket locks. We would be using otter as a policy behind a mutex, which is what
// this package is, without those caveats. dgraph-io/ristretto v2 was not measured: its Set goes
// through a buffer that may drop the write (Metrics.SetsDropped) and applies the rest later
// (Cache.Wait), so it cannot keep the bound by design.
package replication
