package replication

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// Store holds the replicas a region keeps of records owned by other regions, within two budgets:
// the sum of len(value)+EntryOverhead over entries stays at most MaxBytes, and the number of
// entries at most MaxEntries. Both hold after every call and during it, because room is made
// before a value is stored.
//
// Which entries stay is decided by W-TinyLFU (see policy.go): a new entry goes to a small LRU
// window; when the window overflows, its oldest entry enters the main space only if its
// popularity is higher than that of the entry main would evict, so a scan of keys read once
// passes through the window without flushing the hot set.
//
// Every call that removes entries to make room returns their keys, so that the caller can tell
// each owner it no longer holds a replica; Delete is the only other way an entry leaves. Values
// are stored and returned as given, not copied: callers must not modify a slice after passing it
// in, or one returned by Get.
//
// A Store is safe for concurrent use; one mutex guards it and no callback runs under it.
type Store struct {
	cfg       StoreConfig
	hash      hasher
	windowMax budget // soft share of the window; only the store's budget is hard
	protMax   budget // soft share of the protected segment

	mu        sync.Mutex // guards the fields below
	items     churnMap[Key, *node]
	freq      frequency
	window    list
	probation list
	protected list
	evicted   []Key // removed during the current call
	stats     StoreStats
}

// budget is a number of bytes (each entry's cost) and of entries.
type budget struct {
	bytes   int64
	entries int
}

// Entry is a stored replica as Get returns it.
type Entry struct {
	Value   []byte    // shared with the store: do not modify
	Stored  time.Time // when Admit stored it
	Updated time.Time // when Update last replaced it; Stored until then
	Hits    uint64    // Gets that found it
}

// StoreStats are a Store's budgets, contents and counters since it was made.
type StoreStats struct {
	Bytes      int64 // sum of len(value)+EntryOverhead over entries, ≤ MaxBytes
	Entries    int   // ≤ MaxEntries
	MaxBytes   int64
	MaxEntries int
	Evictions  uint64 // entries removed to make room, including candidates the filter refused
	Admitted   uint64 // Admits that stored a new key
	Rejected   uint64 // Admits of values larger than MaxBytes, and window candidates refused main
	Hits       uint64 // Gets that found the key
	Misses     uint64 // Gets that did not
	Updates    uint64 // Updates of a key that was held
	Deletes    uint64 // Deletes of a key that was held
}

// NewStore returns an empty store, or an error wrapping ErrConfig that says which field of cfg to
// change.
func NewStore(cfg StoreConfig) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new store: %w", err)
	}
	s := &Store{
		cfg:   cfg,
		items: newChurnMap[Key, *node](0),
		hash:  newHasher(cfg.Seed),
		freq:  newFrequency(cfg.MaxEntries),
		stats: StoreStats{MaxBytes: cfg.MaxBytes, MaxEntries: cfg.MaxEntries},
	}
	s.window.init(inWindow)
	s.probation.init(inProbation)
	s.protected.init(inProtected)
	s.windowMax, s.protMax = shares(cfg)
	return s, nil
}

// Get returns k's replica and counts a hit or a miss. Either way it counts a read of k towards
// k's popularity, so a key often missed wins its place when it is admitted.
func (s *Store) Get(k Key, now time.Time) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items.get(k)
	if !ok {
		s.freq.increment(s.hash.hash(k))
		s.stats.Misses++
		return Entry{}, false
	}
	s.freq.increment(n.hash)
	s.stats.Hits++
	n.hits++
	s.touchLocked(n)
	return Entry{Value: n.value, Stored: n.stored, Updated: n.updated, Hits: n.hits}, true
}

// Admit stores value as k's replica and returns whether it did, and the keys removed to make room.
// A value whose cost is above MaxBytes is refused. A new key always enters the window, so Admit
// refuses nothing else; its test of popularity comes when it leaves the window, in a later call,
// whose evicted list then names it if it lost. A key already held is updated as by Update, and
// counted as an update.
func (s *Store) Admit(k Key, value []byte, now time.Time) (admitted bool, evicted []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.items.get(k); ok {
		s.freq.increment(n.hash)
		s.stats.Updates++
		held := s.replaceLocked(n, value, now)
		return held, s.takeEvictedLocked()
	}
	h := s.hash.hash(k)
	s.freq.increment(h)
	c := cost(value)
	if c > s.cfg.MaxBytes {
		s.stats.Rejected++
		return false, nil
	}
	s.makeRoomLocked(c)
	n := &node{key: k, hash: h, value: value, stored: now, updated: now}
	s.window.pushFront(n)
	s.items.set(k, n)
	s.stats.Admitted++
	s.spillWindowLocked()
	return true, s.takeEvictedLocked()
}

// Update replaces k's replica if it is held, and returns whether it still is and the keys removed
// to make room. A grown value evicts other entries as a new entry would (main's oldest, the less
// popular of probation's and protected's first), never k; a value whose cost is above MaxBytes
// evicts k itself, which is then in evicted. An Update of a key not held does nothing: the owner
// pushes only to regions that hold a replica, so it raced with an eviction.
func (s *Store) Update(k Key, value []byte, now time.Time) (held bool, evicted []Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items.get(k)
	if !ok {
		return false, nil
	}
	s.stats.Updates++
	held = s.replaceLocked(n, value, now)
	return held, s.takeEvictedLocked()
}

// Delete removes k's replica and reports whether it was held. The owner deleted the record, or the
// caller gave the replica up.
func (s *Store) Delete(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items.get(k)
	if !ok {
		return false
	}
	s.removeLocked(n)
	s.stats.Deletes++
	return true
}

// Has reports whether k's replica is held. It counts nothing.
func (s *Store) Has(k Key) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.items.get(k)
	return ok
}

// Stats returns the store's budgets, contents and counters, all as of one instant.
func (s *Store) Stats() StoreStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Bytes = s.window.bytes + s.probation.bytes + s.protected.bytes
	st.Entries = s.items.len()
	return st
}

// Keys returns every held key: the protected segment, then probation, then the window, each most
// recent first.
func (s *Store) Keys() []Key {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]Key, 0, s.items.len())
	for _, l := range []*list{&s.protected, &s.probation, &s.window} {
		for n := l.root.next; n != &l.root; n = n.next {
			keys = append(keys, n.key)
		}
	}
	return keys
}

// replaceLocked gives n a new value, making room first, and reports whether n is still held.
func (s *Store) replaceLocked(n *node, value []byte, now time.Time) bool {
	c := cost(value)
	if c > s.cfg.MaxBytes {
		s.evictLocked(n)
		return false
	}
	if grow := c - n.cost(); grow > 0 {
		s.growLocked(n, grow)
	}
	s.listOf(n).setValue(n, value)
	n.updated = now
	return true
}

// removeLocked unlinks n from its segment and the map.
func (s *Store) removeLocked(n *node) {
	s.listOf(n).remove(n)
	s.items.delete(n.key)
}

// evictLocked removes n to make room and records its key for the caller.
func (s *Store) evictLocked(n *node) {
	s.removeLocked(n)
	s.evicted = append(s.evicted, n.key)
	s.stats.Evictions++
}

// takeEvictedLocked returns the keys evicted during this call, or nil, and forgets them.
func (s *Store) takeEvictedLocked() []Key {
	if len(s.evicted) == 0 {
		return nil
	}
	out := slices.Clone(s.evicted)
	clear(s.evicted)
	s.evicted = s.evicted[:0]
	return out
}

func (s *Store) listOf(n *node) *list {
	switch n.seg {
	case inWindow:
		return &s.window
	case inProbation:
		return &s.probation
	default:
		return &s.protected
	}
}
