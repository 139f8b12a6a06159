package regions

import (
	"errors"
	"fmt"
	"slices"
)

var (
	// ErrCycle is returned when parent links loop instead of reaching the root.
	ErrCycle = errors.New("parent links form a cycle")
	// ErrParentUnknown is returned when a region names a parent that is not in the registry.
	ErrParentUnknown = errors.New("parent region is not in the registry")
	// ErrDuplicate is returned when two entries claim one region ID.
	ErrDuplicate = errors.New("region ID appears twice")
	// ErrNoRoot is returned when no entry, or more than one, has no parent.
	ErrNoRoot = errors.New("the tree needs exactly one root (an entry with no parent)")
	// ErrUnknownRegion is returned for a region that is not in the tree.
	ErrUnknownRegion = errors.New("region is not in the registry")
)

// Tree is the region hierarchy built from registry entries. It is immutable: build a new one from
// the registry when it changes.
type Tree struct {
	root     RegionID
	entries  map[RegionID]*Entry
	children map[RegionID][]RegionID // sorted
	depth    map[RegionID]int
}

// NewTree validates entries and builds the tree. It returns an error for a reserved or duplicate ID,
// an unknown parent, a cycle, or anything but exactly one root.
func NewTree(entries []*Entry) (*Tree, error) {
	t := &Tree{
		entries:  make(map[RegionID]*Entry, len(entries)),
		children: make(map[RegionID][]RegionID),
		depth:    make(map[RegionID]int, len(entries)),
	}
	roots := 0
	for _, e := range entries {
		if !e.ID.Valid() {
			return nil, fmt.Errorf("tree: entry %q: %w", e.Name, ErrReservedRegion)
		}
		if _, dup := t.entries[e.ID]; dup {
			return nil, fmt.Errorf("tree: %s: %w", e.ID, ErrDuplicate)
		}
		t.entries[e.ID] = e
		if e.Parent == 0 {
			roots++
			t.root = e.ID
		}
	}
	if roots != 1 {
		return nil, fmt.Errorf("tree: %d roots: %w", roots, ErrNoRoot)
	}
	for _, e := range entries {
		if e.Parent == 0 {
			continue
		}
		if _, ok := t.entries[e.Parent]; !ok {
			return nil, fmt.Errorf("tree: %s names parent %s: %w", e.ID, e.Parent, ErrParentUnknown)
		}
		t.children[e.Parent] = append(t.children[e.Parent], e.ID)
	}
	for _, c := range t.children {
		slices.Sort(c)
	}
	// Depth by walking down from the root; any region not reached sits on a cycle.
	t.depth[t.root] = 0
	queue := []RegionID{t.root}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, c := range t.children[r] {
			t.depth[c] = t.depth[r] + 1
			queue = append(queue, c)
		}
	}
	if len(t.depth) != len(t.entries) {
		for _, e := range entries {
			if _, ok := t.depth[e.ID]; !ok {
				return nil, fmt.Errorf("tree: %s does not reach the root: %w", e.ID, ErrCycle)
			}
		}
	}
	return t, nil
}

// Root returns the root region.
func (t *Tree) Root() RegionID { return t.root }

// Len returns the number of regions.
func (t *Tree) Len() int { return len(t.entries) }

// Has reports whether r is in the tree.
func (t *Tree) Has(r RegionID) bool { _, ok := t.entries[r]; return ok }

// Entry returns r's registry entry, or nil. Callers must not modify it.
func (t *Tree) Entry(r RegionID) *Entry { return t.entries[r] }

// Regions returns every region ID in ascending order.
func (t *Tree) Regions() []RegionID {
	out := make([]RegionID, 0, len(t.entries))
	for r := range t.entries {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Parent returns r's parent, or 0 for the root, or ErrUnknownRegion.
func (t *Tree) Parent(r RegionID) (RegionID, error) {
	e, ok := t.entries[r]
	if !ok {
		return 0, fmt.Errorf("parent of %s: %w", r, ErrUnknownRegion)
	}
	return e.Parent, nil
}

// Children returns r's children in ascending order. The slice must not be modified.
func (t *Tree) Children(r RegionID) []RegionID { return t.children[r] }

// Depth returns r's distance from the root (the root is 0).
func (t *Tree) Depth(r RegionID) (int, error) {
	d, ok := t.depth[r]
	if !ok {
		return 0, fmt.Errorf("depth of %s: %w", r, ErrUnknownRegion)
	}
	return d, nil
}

// PathToRoot returns r, its parent, and so on up to and including the root.
func (t *Tree) PathToRoot(r RegionID) ([]RegionID, error) {
	if !t.Has(r) {
		return nil, fmt.Errorf("path of %s: %w", r, ErrUnknownRegion)
	}
	path := make([]RegionID, 0, t.depth[r]+1)
	for ; r != 0; r = t.entries[r].Parent {
		path = append(path, r)
	}
	return path, nil
}

// CommonAncestor returns the deepest region that is an ancestor of both a and b (or a or b itself).
func (t *Tree) CommonAncestor(a, b RegionID) (RegionID, error) {
	if !t.Has(a) || !t.Has(b) {
		return 0, fmt.Errorf("common ancestor of %s and %s: %w", a, b, ErrUnknownRegion)
	}
	for t.depth[a] > t.depth[b] {
		a = t.entries[a].Parent
	}
	for t.depth[b] > t.depth[a] {
		b = t.entries[b].Parent
	}
	for a != b {
		a, b = t.entries[a].Parent, t.entries[b].Parent
	}
	return a, nil
}

// TreePath returns the regions a message crosses on the tree from a to b, both included.
func (t *Tree) TreePath(a, b RegionID) ([]RegionID, error) {
	lca, err := t.CommonAncestor(a, b)
	if err != nil {
		return nil, err
	}
	var up, down []RegionID
	for r := a; r != lca; r = t.entries[r].Parent {
		up = append(up, r)
	}
	for r := b; r != lca; r = t.entries[r].Parent {
		down = append(down, r)
	}
	up = append(up, lca)
	slices.Reverse(down)
	return append(up, down...), nil
}

// WithEntry returns a new tree with e added or replacing the entry of the same ID, validated as a
// whole. The receiver is unchanged.
func (t *Tree) WithEntry(e *Entry) (*Tree, error) {
	all := make([]*Entry, 0, len(t.entries)+1)
	for id, old := range t.entries {
		if id != e.ID {
			all = append(all, old)
		}
	}
	return NewTree(append(all, e))
}
