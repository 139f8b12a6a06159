package regions

import (
	"context"
	"errors"
	"sync"
)

// View is an in-memory copy of a registry bucket, kept current by a watch. Reads never touch the
// network, so the overlay can consult it per message.
type View struct {
	mu       sync.RWMutex // guards entries, revs, rev, caughtUp, changed
	entries  map[RegionID]*Entry
	revs     map[RegionID]uint64
	rev      uint64 // highest bucket revision applied, undecodable values included
	caughtUp bool
	changed  chan struct{} // closed and replaced on every change
}

// NewView returns an empty view; feed it with Run.
func NewView() *View {
	return &View{
		entries: make(map[RegionID]*Entry),
		revs:    make(map[RegionID]uint64),
		changed: make(chan struct{}),
	}
}

// Get returns region r's entry (a copy) and its revision in the bucket, or nil.
func (v *View) Get(r RegionID) (*Entry, uint64) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.entries[r]
	if e == nil {
		return nil, 0
	}
	return e.Clone(), v.revs[r]
}

// Status returns r's status and whether r is registered.
func (v *View) Status(r RegionID) (Status, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	e := v.entries[r]
	if e == nil {
		return "", false
	}
	return e.Status, true
}

// Entries returns copies of every entry.
func (v *View) Entries() []*Entry {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]*Entry, 0, len(v.entries))
	for _, e := range v.entries {
		out = append(out, e.Clone())
	}
	return out
}

// Tree builds the region tree from the view.
func (v *View) Tree() (*Tree, error) { return NewTree(v.Entries()) }

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

// Snapshot returns copies of every entry and the highest revision applied, read together.
func (v *View) Snapshot() (map[RegionID]*Entry, uint64) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make(map[RegionID]*Entry, len(v.entries))
	for r, e := range v.entries {
		out[r] = e.Clone()
	}
	return out, v.rev
}

// Revision returns the highest bucket revision the view has applied. Once it reaches the bucket's
// last sequence, the view is a consistent snapshot of the whole bucket at that revision.
func (v *View) Revision() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.rev
}

// CaughtUp reports whether the initial contents have been loaded.
func (v *View) CaughtUp() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.caughtUp
}

func (v *View) apply(ev Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rev = max(v.rev, ev.Revision)
	switch {
	case ev.CaughtUp:
		v.caughtUp = true
	case ev.Err != nil: // nothing to apply, but the revision moved: wake waiters
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

// Run feeds the view from w until ctx ends or the watch closes, then stops w. onErr hears about
// values that do not decode and about a watch that ends for another reason than ctx.
func (v *View) Run(ctx context.Context, w *Watcher, onErr func(error)) {
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
