package regions

import (
	"strings"
	"testing"
)

func TestSalvageTree(t *testing.T) {
	e := func(id, parent RegionID) *Entry {
		return &Entry{ID: id, Name: id.String(), Parent: parent, Status: StatusActive}
	}
	entries := []*Entry{
		e(1, 0), e(2, 1), e(3, 2), // the tree
		e(4, 9),          // unknown parent
		e(5, 6), e(6, 5), // a cycle
		e(7, 0), // a second root
		e(8, 7), // under the second root
	}
	tree, aside := SalvageTree(1, entries)
	if got := tree.Regions(); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("tree holds %v, want 0001 0002 0003", got)
	}
	if d, _ := tree.Depth(3); d != 2 {
		t.Fatalf("depth of 0003: %d", d)
	}
	want := map[RegionID]string{4: "parent 0009 is not registered", 5: "does not reach the root", 6: "does not reach the root", 7: "a second root", 8: "parent 0007 does not reach"}
	if len(aside) != len(want) {
		t.Fatalf("set aside %d entries, want %d: %+v", len(aside), len(want), aside)
	}
	for _, a := range aside {
		if !strings.Contains(a.Reason, want[a.Entry.ID]) {
			t.Errorf("%s set aside for %q, want %q", a.Entry.ID, a.Reason, want[a.Entry.ID])
		}
	}
	// The salvaged tree still refuses a new entry that would break it.
	if _, err := tree.WithEntry(e(2, 3)); err == nil {
		t.Fatal("re-parenting 0002 under its own child was accepted")
	}
	if _, err := tree.WithEntry(e(9, 3)); err != nil {
		t.Fatalf("a new leaf under 0003: %v", err)
	}
}

func TestSalvageTreeWithoutRoot(t *testing.T) {
	tree, aside := SalvageTree(1, []*Entry{{ID: 2, Name: "b", Parent: 1}})
	if tree.Len() != 0 || tree.Root() != 1 || len(aside) != 1 {
		t.Fatalf("len %d root %s aside %+v", tree.Len(), tree.Root(), aside)
	}
	if _, err := tree.WithEntry(&Entry{ID: 1, Name: "root"}); err != nil {
		t.Fatalf("registering the root into an empty tree: %v", err)
	}
}
