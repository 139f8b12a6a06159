package replication

// topK keeps the k keys of highest count seen so far, each with the count it had when last
// offered: a min-heap on count, so the weakest heavy hitter is the one replaced. Counts only grow
// between calls to scale, which scales all of them alike, so heap order never has to be rebuilt.
type topK struct {
	k     int
	byKey churnMap[Key, *hitter] // a stream of new heavy hitters churns it
	heap  []*hitter              // heap[0] has the least count
}

// hitter is one tracked key; at is its index in the heap.
type hitter struct {
	key   Key
	count float64
	at    int
}

func newTopK(k int) topK {
	return topK{k: k, byKey: newChurnMap[Key, *hitter](k), heap: make([]*hitter, 0, k)}
}

// offer records that key's count is now count (never less than the last count offered for it).
// A key not tracked replaces the weakest one if its count is higher.
func (t *topK) offer(key Key, count float64) {
	if h, ok := t.byKey.get(key); ok {
		h.count = count
		t.down(h.at)
		return
	}
	if len(t.heap) < t.k {
		h := &hitter{key: key, count: count, at: len(t.heap)}
		t.byKey.set(key, h)
		t.heap = append(t.heap, h)
		t.up(h.at)
		return
	}
	if weakest := t.heap[0]; count > weakest.count {
		t.byKey.delete(weakest.key)
		weakest.key, weakest.count = key, count
		t.byKey.set(key, weakest)
		t.down(0)
	}
}

// scale multiplies every count by f > 0; the order is unchanged.
func (t *topK) scale(f float64) {
	for _, h := range t.heap {
		h.count *= f
	}
}

func (t *topK) less(i, j int) bool { return t.heap[i].count < t.heap[j].count }

func (t *topK) swap(i, j int) {
	t.heap[i], t.heap[j] = t.heap[j], t.heap[i]
	t.heap[i].at, t.heap[j].at = i, j
}

func (t *topK) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !t.less(i, parent) {
			return
		}
		t.swap(i, parent)
		i = parent
	}
}

func (t *topK) down(i int) {
	for {
		least := i
		for _, c := range [2]int{2*i + 1, 2*i + 2} {
			if c < len(t.heap) && t.less(c, least) {
				least = c
			}
		}
		if least == i {
			return
		}
		t.swap(i, least)
		i = least
	}
}
