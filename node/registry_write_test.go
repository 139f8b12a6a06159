package node

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestUpdateDecidesFromSnapshot: a write that lands between update's snapshot and its publish (here
// another writer deleting the parent, as a second root node or a close leave would) fails the
// publish, and the decision is taken again from the new snapshot: the orphan is never written.
func TestUpdateDecidesFromSnapshot(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	svc := root.root
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x := regions.RegionID(0x0e01)
	y := regions.RegionID(0x0e02)
	put := func(e *regions.Entry) {
		t.Helper()
		if err := svc.update(ctx, e.ID, func(*regions.Tree, *regions.Entry) (*regions.Entry, error) { return e, nil }); err != nil {
			t.Fatal(err)
		}
	}
	put(&regions.Entry{ID: x, Name: "x", Parent: rootID, Status: regions.StatusDown})

	calls := 0
	err := svc.update(ctx, y, func(tree *regions.Tree, cur *regions.Entry) (*regions.Entry, error) {
		calls++
		if calls == 1 {
			if !tree.Has(x) {
				t.Fatal("first snapshot lacks the parent")
			}
			// Another writer removes x behind update's back, straight into the bucket.
			if err := svc.kv.Delete(ctx, regions.Key(x)); err != nil {
				t.Fatal(err)
			}
		}
		if !tree.Has(x) {
			return nil, errUnchanged // the decision a join takes: parent unknown, nothing written
		}
		return &regions.Entry{ID: y, Name: "y", Parent: x, Status: regions.StatusActive}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("decided %d times, want 2 (the first publish must fail on the write in between)", calls)
	}
	if _, err := svc.kv.Get(ctx, regions.Key(y)); err == nil {
		t.Fatal("the orphan was written")
	}
}

// TestUpdateRefusesBrokenTree: whatever the decision, update never writes an entry that would
// make the registry stop forming a tree.
func TestUpdateRefusesBrokenTree(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	svc := root.root
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	write := func(e *regions.Entry, id regions.RegionID) error {
		return svc.update(ctx, id, func(*regions.Tree, *regions.Entry) (*regions.Entry, error) { return e, nil })
	}
	a, b := regions.RegionID(0x0e0a), regions.RegionID(0x0e0b)
	if err := write(&regions.Entry{Name: "a", Parent: rootID, Status: regions.StatusActive}, a); err != nil {
		t.Fatal(err)
	}
	if err := write(&regions.Entry{Name: "b", Parent: a, Status: regions.StatusActive}, b); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		id   regions.RegionID
		e    *regions.Entry
	}{
		{"cycle", a, &regions.Entry{Name: "a", Parent: b, Status: regions.StatusActive}},
		{"orphan", 0x0e0c, &regions.Entry{Name: "c", Parent: 0x0eee, Status: regions.StatusActive}},
		{"second root", 0x0e0d, &regions.Entry{Name: "d", Status: regions.StatusActive}},
		{"delete with a child", a, nil},
	} {
		if err := write(c.e, c.id); !errors.Is(err, errBreaksTree) {
			t.Errorf("%s: %v, want errBreaksTree", c.name, err)
		}
	}
	tree, aside := regions.SalvageTree(rootID, root.View().Entries())
	if len(aside) != 0 || tree.Len() != 3 {
		t.Fatalf("registry after the refusals: %d regions, set aside %+v", tree.Len(), aside)
	}
}

// TestJoinDespiteBrokenEntry: an entry that does not reach the root (put into the bucket by hand)
// is set aside; later joins elsewhere in the tree still succeed, and joins under it are refused.
func TestJoinDespiteBrokenEntry(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	orphan := &regions.Entry{ID: 0x0e20, Name: "orphan", Parent: 0x0eee, Status: regions.StatusActive}
	data, _ := orphan.Marshal()
	if _, err := root.root.kv.Put(ctx, regions.Key(orphan.ID), data); err != nil {
		t.Fatal(err)
	}
	if rep := rawJoin(t, root, JoinRequest{ID: "0e21", Name: "z", Parent: "0001", Node: "z1"}); !rep.OK {
		t.Fatalf("join beside a broken entry refused: %+v", rep)
	}
	if rep := rawJoin(t, root, JoinRequest{ID: "0e22", Name: "w", Parent: "0e20", Node: "w1"}); rep.OK || rep.Code != CodeParentUnknown {
		t.Fatalf("join under a set-aside entry: %+v, want %s", rep, CodeParentUnknown)
	}
}

// TestRestartAfterHostCrashAdmitted: the registered instance of a node still has interest (a
// crashed host's half-open link lingers at its parent until the ping timeout) but never answers; a
// restart of that node under the same name is admitted rather than refused as "already running".
func TestRestartAfterHostCrashAdmitted(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	req := JoinRequest{ID: "0e30", Name: "crashed", Parent: "0001", Node: "c1", Instance: "old-instance"}
	if rep := rawJoin(t, root, req); !rep.OK {
		t.Fatalf("first join: %+v", rep)
	}
	sub, err := root.Conn().SubscribeSync(SubjectInstance + "old-instance") // interest, no answer
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	req.Instance = "new-instance"
	if rep := rawJoin(t, root, req); !rep.OK {
		t.Fatalf("restart after a host crash refused: %+v", rep)
	}
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if e, _ := root.View().Get(0x0e30); e == nil || e.Node("c1") == nil || e.Node("c1").Instance != "new-instance" {
			return errFmt("registry after the restart: %+v", e)
		}
		return nil
	})
}
