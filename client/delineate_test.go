package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
)

// handles is a test delineator: "<name>@<region hex>" names user <len(name)> of that region.
type handles struct{}

func (handles) Locate(_ context.Context, kind, key string) (regions.ID, error) {
	name, region, ok := strings.Cut(key, "@")
	if !ok || name == "" {
		return 0, fmt.Errorf("%s key %q: want name@region", kind, key)
	}
	r, err := regions.ParseRegion(region)
	if err != nil {
		return 0, err
	}
	return regions.NewID(r, uint64(len(name))), nil
}

func (handles) Place(_ context.Context, _ string, from regions.RegionID) (regions.RegionID, error) {
	return bID, nil // everything new lives in B
}

// TestDelineatorAndMoves: LookupKey goes through the application's delineator; a record that
// moved forwards its lookups to the new ID, across regions; a forwarding loop stops with
// ErrMoveLoop; the default delineator takes 16-hex IDs and refuses anything else.
func TestDelineatorAndMoves(t *testing.T) {
	f := startTree(t)
	b, a1 := f.connect(t, bID), f.connect(t, a1ID)
	// B's user 5 moved to A1's user 3; B's users 6 and 7 forward to each other.
	if _, err := b.Serve("users", func(_ context.Context, id regions.ID) ([]byte, error) {
		switch id.Seq() {
		case 5:
			return nil, Moved(regions.NewID(a1ID, 3))
		case 6:
			return nil, Moved(regions.NewID(bID, 7))
		case 7:
			return nil, Moved(regions.NewID(bID, 6))
		}
		return fmt.Appendf(nil, "b-user-%d", id.Seq()), nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := a1.Serve("users", users); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, f, overlay.LookupSubject("users", bID.FirstID()))
	waitInterest(t, f, overlay.LookupSubject("users", a1ID.FirstID()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := f.connect(t, aID)

	if got, err := c.LookupKey(ctx, "users", regions.NewID(bID, 2).String()); err != nil || string(got) != "b-user-2" {
		t.Fatalf("default delineator: %q, %v", got, err)
	}
	if _, err := c.LookupKey(ctx, "users", "alice@00b0"); !errors.Is(err, regions.ErrBadID) {
		t.Fatalf("default delineator on a handle: %v, want ErrBadID", err)
	}
	c.SetDelineator(handles{})
	if got, err := c.LookupKey(ctx, "users", "bo@00b0"); err != nil || string(got) != "b-user-2" {
		t.Fatalf("handle bo@00b0: %q, %v; want B's user 2", got, err)
	}
	if r, err := c.Place(ctx, "users"); err != nil || r != bID {
		t.Fatalf("Place: %s, %v; want the delineator's %s", r, err, bID)
	}
	if _, err := c.LookupKey(ctx, "users", "nobody"); err == nil {
		t.Fatal("a key the delineator cannot place was looked up")
	}

	m, err := c.LookupMsg(ctx, "users", regions.NewID(bID, 5))
	if err != nil || string(m.Data) != "user-3" {
		t.Fatalf("moved user: %v, %v; want A1's user 3", m, err)
	}
	if _, err := c.Lookup(ctx, "users", regions.NewID(bID, 6)); !errors.Is(err, ErrMoveLoop) {
		t.Fatalf("forwarding loop: %v, want ErrMoveLoop", err)
	}
}
