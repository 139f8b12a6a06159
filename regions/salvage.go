package regions

import (
	"fmt"
	"slices"
)

// SetAside is a registry entry left out of a salvaged tree, and why.
type SetAside struct {
	Entry  *Entry
	Reason string
}

// SalvageTree builds the tree of the entries that reach root through their parents, and sets the
// others aside: a second entry without a parent, an entry whose parent is not registered, and
// entries on a parent cycle. A registry that no longer forms a tree (written by hand, or by an older
// writer) then still lets the root decide for every region that does reach it, instead of refusing
// every later join. The tree is empty, with root as its root, when root has no entry yet.
func SalvageTree(root RegionID, entries []*Entry) (*Tree, []SetAside) {
	t := &Tree{
		root:     root,
		entries:  make(map[RegionID]*Entry, len(entries)),
		children: make(map[RegionID][]RegionID),
		depth:    make(map[RegionID]int, len(entries)),
	}
	var aside []SetAside
	byID := make(map[RegionID]*Entry, len(entries))
	registered := make(map[RegionID]bool, len(entries))
	kids := make(map[RegionID][]RegionID)
	for _, e := range entries {
		registered[e.ID] = true
		switch {
		case !e.ID.Valid():
			aside = append(aside, SetAside{e, "reserved region ID"})
		case byID[e.ID] != nil:
			aside = append(aside, SetAside{e, "region ID appears twice"})
		case e.Parent == 0 && e.ID != root:
			aside = append(aside, SetAside{e, fmt.Sprintf("a second root (the root is %s)", root)})
		case e.ID == root && e.Parent != 0:
			aside = append(aside, SetAside{e, "the root region names a parent"})
		default:
			byID[e.ID] = e
			if e.Parent != 0 {
				kids[e.Parent] = append(kids[e.Parent], e.ID)
			}
		}
	}
	if byID[root] == nil {
		for _, e := range byID {
			aside = append(aside, SetAside{e, "the root region is not registered"})
		}
		sortAside(aside)
		return t, aside
	}
	t.entries[root], t.depth[root] = byID[root], 0
	queue := []RegionID{root}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		c := slices.Clone(kids[r])
		slices.Sort(c)
		if len(c) > 0 {
			t.children[r] = c
		}
		for _, k := range c {
			t.entries[k], t.depth[k] = byID[k], t.depth[r]+1
			queue = append(queue, k)
		}
	}
	for id, e := range byID {
		if _, ok := t.entries[id]; ok {
			continue
		}
		reason := fmt.Sprintf("parent %s does not reach the root (a cycle, or set aside)", e.Parent)
		if !registered[e.Parent] {
			reason = fmt.Sprintf("parent %s is not registered", e.Parent)
		}
		aside = append(aside, SetAside{e, reason})
	}
	sortAside(aside)
	return t, aside
}

func sortAside(a []SetAside) {
	slices.SortFunc(a, func(x, y SetAside) int { return int(x.Entry.ID) - int(y.Entry.ID) })
}
