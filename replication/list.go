package replication

import "time"

// segment names the list an entry is on.
type segment uint8

const (
	inWindow    segment = iota // new entries, in LRU order
	inProbation                // main, read once since they left the window
	inProtected                // main, read again while in probation
)

// node is one stored entry and its place in its segment's list.
type node struct {
	key     Key
	hash    uint64
	value   []byte
	stored  time.Time
	updated time.Time
	hits    uint64
	seg     segment

	prev, next *node
}

// cost is what the entry counts against StoreConfig.MaxBytes.
func (n *node) cost() int64 { return cost(n.value) }

func cost(value []byte) int64 { return int64(len(value)) + EntryOverhead }

// list is a doubly linked LRU list of nodes, most recent at the front, that sums its nodes' cost.
type list struct {
	seg   segment
	root  node // sentinel: root.next is the front, root.prev the back
	len   int
	bytes int64
}

func (l *list) init(seg segment) {
	l.seg = seg
	l.root.next, l.root.prev = &l.root, &l.root
}

func (l *list) pushFront(n *node) {
	n.seg = l.seg
	n.prev, n.next = &l.root, l.root.next
	n.prev.next, n.next.prev = n, n
	l.len++
	l.bytes += n.cost()
}

func (l *list) remove(n *node) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	l.len--
	l.bytes -= n.cost()
}

func (l *list) moveToFront(n *node) {
	l.remove(n)
	l.pushFront(n)
}

// back returns the least recent node, or nil.
func (l *list) back() *node { return l.before(&l.root) }

// before returns the node after n towards the back, or nil at the end.
func (l *list) before(n *node) *node {
	if n.prev == &l.root {
		return nil
	}
	return n.prev
}

// setValue replaces n's value, keeping the list's byte sum right.
func (l *list) setValue(n *node, value []byte) {
	l.bytes += cost(value) - n.cost()
	n.value = value
}
