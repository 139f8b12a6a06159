package node

import (
	"context"
	"errors"
	"sync"

	"github.com/fedist/fedist/regions"
)

// View is an in-memory copy of a registry bucket, kept current by a watch. Reads never touch the
// network, so the overlay can consult it per message.
type View struct {
	mu       sync.RWMutex // guards entries, revs, caughtUp, changed
	entries  map[regions.RegionID]*regions.Entry
	revs     map[regions.RegionID]uint64
	caughtUp bool
	changed  chan struct{} // closed and replaced on every change
}

func newView() *View {
	return &View{
		entries: make(map[regions.RegionID]*regions.Entry),
		revs:    make(map[regions.RegionID]uint64),
		changed: make(chan struct{}),
	}
}

// Get returns region r's entry (a copy) and its revision in the bucket, or nil.
func (v *View) Get(r regions.RegionID) (*regions.Entry, uint64) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.entries[r]
	if e == nil {
		return nil, 0
	}
	return e.Clone(), v.revs[r]
}

// Status returns r's status and whether r is registered.
func (v *View) Status(r regions.RegionID) (regions.Status, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.entries[r]
	if e == nil {
		return "", false
	}
	return e.Status, true
}

// Entries returns copies of every entry.
func (v *View) Entries() []*regions.Entry {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]*regions.Entry, 0, len(v.entries))
	for _, e := range v.entries {
		out = append(out, e.Clone())
	}
	return out
}

// Tree builds the region tree from the view.
func (v *View) Tree() (*regions.Tree, error) { return regions.NewTree(v.Entries()) }

// Changed returns a channel that is closed at the next change.
func (v *View) Changed() <-chan struct{} {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.changed
}

// WaitFor blocks until cond holds on the view, or ctx ends.
func (v *View) WaitFor(ctx context.Context, cond func(*View) bool) error {
	for {
		ch := v.Changed()
		if cond(v) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CaughtUp reports whether the initial contents have been loaded.
func (v *View) CaughtUp() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.caughtUp
}

func (v *View) apply(ev regions.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case ev.CaughtUp:
		v.caughtUp = true
	case ev.Err != nil:
		return
	case ev.Deleted:
		delete(v.entries, ev.Region)
		delete(v.revs, ev.Region)
	default:
		v.entries[ev.Region] = ev.Entry
		v.revs[ev.Region] = ev.Revision
	}
	close(v.changed)
	v.changed = make(chan struct{})
}

// run feeds the view from w until ctx ends or the watch closes.
func (v *View) run(ctx context.Context, w *regions.Watcher, onErr func(error)) {
	defer w.Stop()
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				onErr(err)
			}
			return
		}
		if ev.Err != nil {
			onErr(ev.Err)
		}
		v.apply(ev)
	}
}
