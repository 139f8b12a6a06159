package regions

import (
	"errors"
	"slices"
	"testing"
)

func ent(id, parent RegionID) *Entry {
	return &Entry{ID: id, Parent: parent, Name: "r" + id.String(), Status: StatusActive}
}

// sample is, in deliberately shuffled order:
//
//	0001 ─┬─ 0002 ─┬─ 0004 ── 0007
//	      │        └─ 0005
//	      └─ 0003 ── 0006
func sample(t *testing.T) *Tree {
	t.Helper()
	tr, err := NewTree([]*Entry{ent(7, 4), ent(5, 2), ent(3, 1), ent(1, 0), ent(6, 3), ent(4, 2), ent(2, 1)})
	if err != nil {
		t.Fatalf("NewTree: %v", err)
	}
	return tr
}

func TestTreeShape(t *testing.T) {
	tr := sample(t)
	if tr.Root() != 1 || tr.Len() != 7 || !slices.Equal(tr.Regions(), []RegionID{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("Root %s Len %d Regions %v", tr.Root(), tr.Len(), tr.Regions())
	}
	for _, tc := range []struct {
		r        RegionID
		parent   RegionID
		children []RegionID
		depth    int
		path     []RegionID
	}{
		{1, 0, []RegionID{2, 3}, 0, []RegionID{1}},
		{2, 1, []RegionID{4, 5}, 1, []RegionID{2, 1}},
		{3, 1, []RegionID{6}, 1, []RegionID{3, 1}},
		{4, 2, []RegionID{7}, 2, []RegionID{4, 2, 1}},
		{5, 2, nil, 2, []RegionID{5, 2, 1}},
		{6, 3, nil, 2, []RegionID{6, 3, 1}},
		{7, 4, nil, 3, []RegionID{7, 4, 2, 1}},
	} {
		p, err := tr.Parent(tc.r)
		if err != nil || p != tc.parent {
			t.Errorf("Parent(%s) = %s, %v; want %s", tc.r, p, err, tc.parent)
		}
		if got := tr.Children(tc.r); !slices.Equal(got, tc.children) {
			t.Errorf("Children(%s) = %v, want %v", tc.r, got, tc.children)
		}
		if d, err := tr.Depth(tc.r); err != nil || d != tc.depth {
			t.Errorf("Depth(%s) = %d, %v; want %d", tc.r, d, err, tc.depth)
		}
		if path, err := tr.PathToRoot(tc.r); err != nil || !slices.Equal(path, tc.path) {
			t.Errorf("PathToRoot(%s) = %v, %v; want %v", tc.r, path, err, tc.path)
		}
		if !tr.Has(tc.r) || tr.Entry(tc.r) == nil || tr.Entry(tc.r).ID != tc.r {
			t.Errorf("Has/Entry(%s) missing", tc.r)
		}
	}
}

func TestTreePaths(t *testing.T) {
	tr := sample(t)
	for _, tc := range []struct {
		a, b RegionID
		lca  RegionID
		path []RegionID
	}{
		{1, 1, 1, []RegionID{1}},
		{7, 7, 7, []RegionID{7}},
		{7, 1, 1, []RegionID{7, 4, 2, 1}},
		{1, 7, 1, []RegionID{1, 2, 4, 7}},
		{7, 5, 2, []RegionID{7, 4, 2, 5}},
		{7, 6, 1, []RegionID{7, 4, 2, 1, 3, 6}},
		{6, 7, 1, []RegionID{6, 3, 1, 2, 4, 7}},
		{4, 7, 4, []RegionID{4, 7}},
		{2, 3, 1, []RegionID{2, 1, 3}},
	} {
		if lca, err := tr.CommonAncestor(tc.a, tc.b); err != nil || lca != tc.lca {
			t.Errorf("CommonAncestor(%s, %s) = %s, %v; want %s", tc.a, tc.b, lca, err, tc.lca)
		}
		if path, err := tr.TreePath(tc.a, tc.b); err != nil || !slices.Equal(path, tc.path) {
			t.Errorf("TreePath(%s, %s) = %v, %v; want %v", tc.a, tc.b, path, err, tc.path)
		}
	}
}

// TestTreePathsBruteForce checks every pair against a naive definition: the common ancestor is the
// first region on a's path to the root that is also on b's, and a tree path is a walk of
// parent-child steps that visits no region twice.
func TestTreePathsBruteForce(t *testing.T) {
	tr := sample(t)
	for _, a := range tr.Regions() {
		for _, b := range tr.Regions() {
			pa, _ := tr.PathToRoot(a)
			pb, _ := tr.PathToRoot(b)
			want := pa[slices.IndexFunc(pa, func(r RegionID) bool { return slices.Contains(pb, r) })]
			if got, _ := tr.CommonAncestor(a, b); got != want {
				t.Errorf("CommonAncestor(%s, %s) = %s, brute force %s", a, b, got, want)
			}
			path, _ := tr.TreePath(a, b)
			if path[0] != a || path[len(path)-1] != b {
				t.Errorf("TreePath(%s, %s) = %v: wrong ends", a, b, path)
			}
			for i := 1; i < len(path); i++ {
				x, y := tr.Entry(path[i-1]), tr.Entry(path[i])
				if x.Parent != y.ID && y.Parent != x.ID {
					t.Errorf("TreePath(%s, %s) = %v: %s-%s is not a tree link", a, b, path, x.ID, y.ID)
				}
				if slices.Contains(path[:i], path[i]) {
					t.Errorf("TreePath(%s, %s) = %v visits %s twice", a, b, path, path[i])
				}
			}
		}
	}
}

func TestTreeUnknownRegion(t *testing.T) {
	tr := sample(t)
	if tr.Has(9) || tr.Entry(9) != nil || tr.Children(9) != nil {
		t.Error("region 0009 should be absent")
	}
	_, e1 := tr.Parent(9)
	_, e2 := tr.Depth(9)
	_, e3 := tr.PathToRoot(9)
	_, e4 := tr.CommonAncestor(1, 9)
	_, e5 := tr.CommonAncestor(9, 1)
	_, e6 := tr.TreePath(9, 1)
	for i, err := range []error{e1, e2, e3, e4, e5, e6} {
		if !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("call %d on 0009: %v, want ErrUnknownRegion", i+1, err)
		}
	}
}

func TestNewTreeErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []*Entry
		want    error
	}{
		{"empty", nil, ErrNoRoot},
		{"zero roots", []*Entry{ent(2, 3), ent(3, 2)}, ErrNoRoot},
		{"two roots", []*Entry{ent(1, 0), ent(2, 0), ent(3, 1)}, ErrNoRoot},
		{"cycle", []*Entry{ent(1, 0), ent(2, 3), ent(3, 4), ent(4, 2)}, ErrCycle},
		{"self parent", []*Entry{ent(1, 0), ent(2, 1), ent(3, 3)}, ErrCycle},
		{"unknown parent", []*Entry{ent(1, 0), ent(2, 9)}, ErrParentUnknown},
		{"duplicate", []*Entry{ent(1, 0), ent(2, 1), ent(2, 1)}, ErrDuplicate},
		{"reserved", []*Entry{ent(1, 0), ent(0, 1)}, ErrReservedRegion},
	} {
		tr, err := NewTree(tc.entries)
		if !errors.Is(err, tc.want) || tr != nil {
			t.Errorf("%s: NewTree = %v, %v; want %v", tc.name, tr, err, tc.want)
		}
	}
}

func TestTreeWithEntry(t *testing.T) {
	tr := sample(t)
	moved, err := tr.WithEntry(ent(4, 3)) // 0004 (with 0007 under it) moves from 0002 to 0003
	if err != nil {
		t.Fatalf("WithEntry: %v", err)
	}
	if path, _ := moved.PathToRoot(7); !slices.Equal(path, []RegionID{7, 4, 3, 1}) {
		t.Errorf("after the move PathToRoot(0007) = %v", path)
	}
	if got := moved.Children(2); !slices.Equal(got, []RegionID{5}) {
		t.Errorf("after the move Children(0002) = %v", got)
	}
	if path, _ := tr.PathToRoot(7); !slices.Equal(path, []RegionID{7, 4, 2, 1}) {
		t.Errorf("the receiver changed: PathToRoot(0007) = %v", path)
	}
	added, err := tr.WithEntry(ent(8, 6))
	if err != nil || added.Len() != 8 || tr.Len() != 7 {
		t.Errorf("WithEntry(new 0008) = %v; Len %d, receiver Len %d", err, added.Len(), tr.Len())
	}
	if _, err := tr.WithEntry(ent(2, 7)); !errors.Is(err, ErrCycle) {
		t.Errorf("WithEntry making 0002 a child of its grandchild: %v, want ErrCycle", err)
	}
	if _, err := tr.WithEntry(ent(9, 0)); !errors.Is(err, ErrNoRoot) {
		t.Errorf("WithEntry adding a second root: %v, want ErrNoRoot", err)
	}
}
