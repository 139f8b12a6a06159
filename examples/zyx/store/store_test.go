package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

const region regions.RegionID = 0x00b0

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openTemp(t *testing.T, recent int) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zyx.db")
	s, err := Open(path, recent)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func id(seq uint64) regions.ID { return regions.NewID(region, seq) }

func mustCreate(t *testing.T, s *Store, u User, local string) {
	t.Helper()
	if err := s.CreateUser(context.Background(), u, local); err != nil {
		t.Fatalf("create %s: %v", u.Handle, err)
	}
}

func TestUsersAndHandles(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t, 3)
	mustCreate(t, s, User{ID: id(1), Handle: "alice@b", Name: "Alice", Created: t0}, "alice")
	if err := s.CreateUser(ctx, User{ID: id(2), Handle: "alice@b", Name: "Other", Created: t0}, "alice"); !errors.Is(err, ErrHandleTaken) {
		t.Fatalf("second alice: got %v, want ErrHandleTaken", err)
	}
	if _, err := s.User(ctx, id(2)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the refused user was stored: %v", err)
	}
	if got, err := s.HandleOwner(ctx, "alice"); err != nil || got != id(1) {
		t.Fatalf("handle alice: %v, %v; want %s", got, err, id(1))
	}
	if _, err := s.HandleOwner(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("handle bob: got %v, want ErrNotFound", err)
	}
	// Survives a reopen: the data is in the file.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	u, err := s2.User(ctx, id(1))
	if err != nil || u.Name != "Alice" || u.Handle != "alice@b" || !u.Created.Equal(t0) {
		t.Fatalf("after reopen: %+v, %v", u, err)
	}
}

func TestPostsKeepTheLatestRefs(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, 3)
	mustCreate(t, s, User{ID: id(1), Handle: "alice@b", Name: "Alice", Created: t0}, "alice")
	for i := range 5 {
		u, err := s.AddPost(ctx, Post{ID: id(uint64(10 + i)), Author: id(1), Text: "hi", At: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if want := min(i+1, 3); len(u.Recent) != want || u.Recent[0].ID != id(uint64(10+i)) {
			t.Fatalf("after post %d: recent %v, want %d refs starting with %s", i, u.Recent, want, id(uint64(10+i)))
		}
	}
	p, err := s.Post(ctx, id(12))
	if err != nil || p.Author != id(1) || p.Text != "hi" || !p.At.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("post: %+v, %v", p, err)
	}
	if _, err := s.AddPost(ctx, Post{ID: id(20), Author: id(99), Text: "x", At: t0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("post by a stranger: got %v, want ErrNotFound", err)
	}
}

func TestFollow(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, 3)
	mustCreate(t, s, User{ID: id(1), Handle: "alice@b", Name: "Alice", Created: t0}, "alice")
	other := regions.NewID(0x00a1, 7) // another region's user: the store does not check it
	for range 2 {
		u, err := s.Follow(ctx, id(1), other, 2, t0)
		if err != nil || len(u.Following) != 1 || u.Following[0] != other {
			t.Fatalf("follow: %+v, %v", u.Following, err)
		}
	}
	if _, err := s.Follow(ctx, id(1), id(5), 2, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Follow(ctx, id(1), id(6), 2, t0); !errors.Is(err, ErrTooMany) {
		t.Fatalf("third follow with max 2: got %v, want ErrTooMany", err)
	}
}

func TestMoveAway(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, 3)
	mustCreate(t, s, User{ID: id(1), Handle: "alice@b", Name: "Alice", Created: t0}, "alice")
	newID := regions.NewID(0x00a1, 1)
	u, err := s.MarkMoved(ctx, id(1), newID)
	if err != nil || u.MovedTo != newID {
		t.Fatalf("mark moved: %+v, %v", u, err)
	}
	if _, err := s.MarkMoved(ctx, id(1), newID); err != nil {
		t.Fatalf("the same move again: %v", err)
	}
	if _, err := s.MarkMoved(ctx, id(1), regions.NewID(0x00a1, 2)); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second, different move: got %v, want ErrConflict", err)
	}
	var moved *MovedError
	if _, err := s.AddPost(ctx, Post{ID: id(2), Author: id(1), Text: "x", At: t0}); !errors.As(err, &moved) || moved.To != newID {
		t.Fatalf("post by a moved user: got %v, want MovedError to %s", err, newID)
	}
	if _, err := s.Follow(ctx, id(1), id(3), 10, t0); !errors.Is(err, ErrMoved) {
		t.Fatalf("follow by a moved user: got %v, want ErrMoved", err)
	}
	// The handle directory moves by compare-and-set only.
	if err := s.RepointHandle(ctx, "alice", id(9), newID); !errors.Is(err, ErrConflict) {
		t.Fatalf("repoint from a wrong ID: got %v, want ErrConflict", err)
	}
	for range 2 { // the second time is a retry
		if err := s.RepointHandle(ctx, "alice", id(1), newID); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.HandleOwner(ctx, "alice"); got != newID {
		t.Fatalf("handle alice maps to %s, want %s", got, newID)
	}
}

func TestMoveIn(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, 3)
	old := regions.NewID(0x00a1, 1)
	refs := []Ref{{regions.NewID(0x00a1, 3), t0.Add(time.Minute)}, {regions.NewID(0x00a1, 2), t0}}
	mustCreate(t, s, User{ID: id(1), Handle: "alice@a1", Name: "Alice", Created: t0, Origin: old,
		Following: []regions.ID{id(7), id(8)}, Recent: refs}, "")
	u, err := s.UserByOrigin(ctx, old)
	if err != nil || u.ID != id(1) || len(u.Following) != 2 || u.Following[0] != id(7) || len(u.Recent) != 2 {
		t.Fatalf("by origin: %+v, %v", u, err)
	}
	u, err = s.Merge(ctx, id(1), []regions.ID{id(8), id(9)}, refs[:1], t0)
	if err != nil || len(u.Following) != 3 || len(u.Recent) != 2 {
		t.Fatalf("merge: %+v, %v", u, err)
	}
	if _, err := s.HandleOwner(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a user moving in took a handle here: %v", err)
	}
}
