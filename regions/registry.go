package regions

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Registry reads and watches a registry bucket: the root's, or a region's mirror of it. Only the
// root writes; writes are not part of this type.
type Registry struct {
	kv jetstream.KeyValue
}

// OpenRegistry binds the registry bucket (or mirror) visible through js.
func OpenRegistry(ctx context.Context, js jetstream.JetStream) (*Registry, error) {
	kv, err := js.KeyValue(ctx, Bucket)
	if err != nil {
		return nil, fmt.Errorf("open registry %s: %w", Bucket, err)
	}
	return &Registry{kv: kv}, nil
}

// NewRegistry wraps an already bound bucket.
func NewRegistry(kv jetstream.KeyValue) *Registry { return &Registry{kv: kv} }

// KV returns the underlying bucket.
func (r *Registry) KV() jetstream.KeyValue { return r.kv }

// Get returns region id's entry, or an error wrapping ErrUnknownRegion.
func (r *Registry) Get(ctx context.Context, id RegionID) (*Entry, error) {
	v, err := r.kv.Get(ctx, Key(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("registry get %s: %w", id, ErrUnknownRegion)
	}
	if err != nil {
		return nil, fmt.Errorf("registry get %s: %w", id, err)
	}
	return UnmarshalEntry(v.Value())
}

// List returns every entry. Values that do not decode are skipped and reported in the error, which is
// then non-nil alongside the good entries.
func (r *Registry) List(ctx context.Context) ([]*Entry, error) {
	w, err := r.Watch(ctx)
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	var out []*Entry
	var bad []error
	for {
		ev, err := w.Next(ctx)
		if err != nil {
			return out, err
		}
		switch {
		case ev.CaughtUp:
			return out, errors.Join(bad...)
		case ev.Err != nil:
			bad = append(bad, ev.Err)
		case !ev.Deleted:
			out = append(out, ev.Entry)
		}
	}
}

// Tree builds the region tree from the current entries.
func (r *Registry) Tree(ctx context.Context) (*Tree, error) {
	entries, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	return NewTree(entries)
}

// Event is one change seen by a Watcher. Exactly one of these holds: CaughtUp (the initial values
// have all been delivered), Deleted (Region left the registry), Err (a value did not decode; the
// watch goes on), or Entry is the region's new value.
type Event struct {
	Region   RegionID
	Entry    *Entry
	Deleted  bool
	CaughtUp bool
	Err      error
	Revision uint64
}

// Watcher delivers registry changes: first every current entry, then a CaughtUp event, then each
// change as it happens.
type Watcher struct {
	w jetstream.KeyWatcher
}

// ErrWatchClosed is returned by Next after Stop, or when the server ends the watch.
var ErrWatchClosed = errors.New("registry watch closed")

// Watch starts watching every region key. The watch ends when ctx does.
func (r *Registry) Watch(ctx context.Context) (*Watcher, error) {
	w, err := r.kv.Watch(ctx, KeyPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("watch registry: %w", err)
	}
	return &Watcher{w: w}, nil
}

// Next blocks until the next event or until ctx ends.
func (w *Watcher) Next(ctx context.Context) (Event, error) {
	select {
	case <-ctx.Done():
		return Event{}, ctx.Err()
	case kve, ok := <-w.w.Updates():
		if !ok {
			return Event{}, ErrWatchClosed
		}
		if kve == nil {
			return Event{CaughtUp: true}, nil
		}
		id, err := ParseKey(kve.Key())
		if err != nil {
			return Event{Err: err, Revision: kve.Revision()}, nil
		}
		ev := Event{Region: id, Revision: kve.Revision()}
		if kve.Operation() != jetstream.KeyValuePut {
			ev.Deleted = true
			return ev, nil
		}
		e, err := UnmarshalEntry(kve.Value())
		if err != nil {
			ev.Err = err
			return ev, nil
		}
		if e.ID != id {
			ev.Err = fmt.Errorf("registry key %s holds entry of %s", kve.Key(), e.ID)
			return ev, nil
		}
		ev.Entry = e
		return ev, nil
	}
}

// Stop ends the watch.
func (w *Watcher) Stop() error { return w.w.Stop() }
