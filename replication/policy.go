package replication

// The Store's eviction policy is W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly
// Efficient Cache Admission Policy", 2017), as Caffeine and otter implement it, with the budget
// made hard:
//
//   - The window, an LRU list of about 1 % of the budget, takes every new entry, so a key read in a
//     short burst gets a chance to prove itself.
//   - The main space is a segmented LRU: probation takes entries from the window; a Get of an entry
//     in probation moves it to protected (about 80 % of main), whose oldest entries fall back to
//     probation's front.
//   - When a new entry needs room and the window is at its share, the window's oldest entry (the
//     candidate) duels main's victim: the one with the lower popularity in the frequency sketch is
//     evicted, the victim on a tie is kept. When the window is below its share, main's victim is
//     evicted. Main's victim is the less popular of probation's oldest and protected's oldest;
//     Caffeine takes probation's alone, which keeps entries no longer read in protected for as
//     long as probation has entries (in TestStoreAdapts the store served all of a new set of keys
//     from the 16th round of reads that way, from the 5th with this rule).
//
// Room is made before an entry is stored or grown, one eviction at a time, so the byte and entry
// budgets are never exceeded, not even within a call. Unlike Caffeine, a tie never admits the
// candidate at random: a replica store's keys come from the detector, not from any client.

// shares returns the soft budgets of the window (1 %, at least one entry) and of the protected
// segment (80 % of the rest).
func shares(cfg StoreConfig) (window, protected budget) {
	window = budget{bytes: max(cfg.MaxBytes/100, EntryOverhead), entries: max(cfg.MaxEntries/100, 1)}
	protected = budget{
		bytes:   (cfg.MaxBytes - window.bytes) * 8 / 10,
		entries: (cfg.MaxEntries - window.entries) * 8 / 10,
	}
	return window, protected
}

// over reports whether l holds more than b.
func (l *list) over(b budget) bool { return l.len > b.entries || l.bytes > b.bytes }

// fitsLocked reports whether bytes more cost and entries more entries stay within the budget.
func (s *Store) fitsLocked(bytes int64, entries int) bool {
	used := s.window.bytes + s.probation.bytes + s.protected.bytes
	return used+bytes <= s.cfg.MaxBytes && s.items.len()+entries <= s.cfg.MaxEntries
}

// makeRoomLocked evicts until a new entry of cost c fits (c ≤ MaxBytes, so it always ends).
func (s *Store) makeRoomLocked(c int64) {
	for !s.fitsLocked(c, 1) {
		var candidate *node
		if s.window.len+1 > s.windowMax.entries || s.window.bytes+c > s.windowMax.bytes {
			candidate = s.window.back()
		}
		victim := s.mainVictimLocked()
		switch {
		case candidate != nil && victim != nil:
			if s.freq.estimate(candidate.hash) > s.freq.estimate(victim.hash) {
				s.evictLocked(victim)
				s.window.remove(candidate)
				s.probation.pushFront(candidate)
			} else {
				s.evictLocked(candidate)
				s.stats.Rejected++
			}
		case victim != nil:
			s.evictLocked(victim)
		default: // main is empty: the window holds everything
			s.evictLocked(s.window.back())
		}
	}
}

// mainVictimLocked returns the entry main would evict: the less popular of probation's oldest and
// protected's oldest (probation's on a tie), or nil when main is empty. Looking at protected's
// oldest too lets a protected entry no longer read age out even while probation is busy.
func (s *Store) mainVictimLocked() *node { return s.victimExceptLocked(nil, false) }

// victimExceptLocked is mainVictimLocked that never returns skip and, with window, falls back to
// the window's oldest when main has nothing else.
func (s *Store) victimExceptLocked(skip *node, window bool) *node {
	oldest := func(l *list) *node {
		n := l.back()
		if n != nil && n == skip {
			n = l.before(n)
		}
		return n
	}
	victim, old := oldest(&s.probation), oldest(&s.protected)
	switch {
	case victim == nil:
		victim = old
	case old != nil && s.freq.estimate(old.hash) < s.freq.estimate(victim.hash):
		victim = old
	}
	if victim == nil && window {
		victim = oldest(&s.window)
	}
	return victim
}

// spillWindowLocked moves the window's oldest entries to probation while the window is over its
// share, keeping the newest. It changes no total, so it needs no room.
func (s *Store) spillWindowLocked() {
	for s.window.len > 1 && s.window.over(s.windowMax) {
		n := s.window.back()
		s.window.remove(n)
		s.probation.pushFront(n)
	}
}

// growLocked evicts entries other than n, as makeRoomLocked picks main's victims and then the
// window's oldest, until n can grow by grow bytes (n's new cost is at most MaxBytes, so it ends).
func (s *Store) growLocked(n *node, grow int64) {
	for !s.fitsLocked(grow, 0) {
		victim := s.victimExceptLocked(n, true)
		if victim == nil {
			return // unreachable: n alone fits, since its new cost is at most MaxBytes
		}
		s.evictLocked(victim)
	}
}

// touchLocked moves n up after a Get: to the window's front, or from probation to protected, or
// to protected's front. Protected entries over its share fall back to probation.
func (s *Store) touchLocked(n *node) {
	switch n.seg {
	case inWindow:
		s.window.moveToFront(n)
	case inProbation:
		s.probation.remove(n)
		s.protected.pushFront(n)
		for s.protected.len > 1 && s.protected.over(s.protMax) {
			m := s.protected.back()
			s.protected.remove(m)
			s.probation.pushFront(m)
		}
	case inProtected:
		s.protected.moveToFront(n)
	}
}
