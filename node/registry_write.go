package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// errUnchanged tells update that the mutation found nothing to write.
var errUnchanged = errors.New("unchanged")

// errBreaksTree wraps a write refused because the registry would no longer form a tree.
var errBreaksTree = errors.New("the registry would no longer form a tree")

// update decides region r's next entry from a consistent snapshot of the whole registry and writes
// it only if nothing at all was written since that snapshot:
//
//  1. read the bucket's last sequence S;
//  2. take every key as of S: the view's once it has applied S, read from the stream where the
//     view lags (snapshot);
//  3. fn decides from that tree (entries that do not reach the root set aside) and r's entry
//     (nil if absent); returning nil deletes the entry, errUnchanged writes nothing;
//  4. refuse a result that would break the tree (a cycle, an unknown parent, a second root, or a
//     deleted region that still has children);
//  5. publish with "expected last sequence S": any write in between, by this node or another root
//     node, fails it with "wrong last sequence", and the loop starts again from 1.
//
// A decision therefore never rests on a stale watch view, and two close joins cannot write a cycle
// or an orphan between them.
func (s *rootService) update(ctx context.Context, r regions.RegionID, fn func(*regions.Tree, *regions.Entry) (*regions.Entry, error)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	key := regions.Key(r)
	for attempt := 0; attempt < 8; attempt++ {
		seq, err := s.lastSequence(ctx)
		if err != nil {
			return fmt.Errorf("registry read %s: %w", key, err)
		}
		entries, err := s.snapshot(ctx, seq)
		if err != nil {
			return fmt.Errorf("registry read %s: %w", key, err)
		}
		tree := s.salvage(entries)
		cur := entries[r]
		next, err := fn(tree, cur)
		if errors.Is(err, errUnchanged) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkTree(tree, r, next); err != nil {
			return err
		}
		if next == nil && cur == nil {
			return nil
		}
		err = s.publish(ctx, key, next, seq)
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("registry write %s: %w", key, err)
		}
	}
	return fmt.Errorf("registry write %s: the registry kept changing under 8 attempts", key)
}

// checkTree refuses next (nil: r deleted) when the tree would break.
func checkTree(tree *regions.Tree, r regions.RegionID, next *regions.Entry) error {
	if next == nil {
		if kids := tree.Children(r); len(kids) > 0 {
			return fmt.Errorf("%w: region %s still has %d child region(s)", errBreaksTree, r, len(kids))
		}
		return nil
	}
	next.ID = r
	if _, err := tree.WithEntry(next); err != nil {
		return fmt.Errorf("%w: %v", errBreaksTree, err)
	}
	return nil
}

// snapshot returns every registry entry as of revision seq: the view's, once it has applied seq.
// A view more than viewLagWait behind (its watch's consumer was on a root node that was lost, and
// nats.go re-creates it only after missed heartbeats) is brought to seq by reading the messages it
// lacks straight from the stream.
func (s *rootService) snapshot(ctx context.Context, seq uint64) (map[regions.RegionID]*regions.Entry, error) {
	wctx, cancel := context.WithTimeout(ctx, viewLagWait)
	_ = s.n.view.WaitFor(wctx, func(v *regions.View) bool { return v.Revision() >= seq })
	cancel()
	entries, rev := s.n.view.Snapshot()
	if rev >= seq {
		return entries, nil
	}
	st, err := s.n.js.Stream(ctx, registryStream)
	if err != nil {
		return nil, err
	}
	for q := rev + 1; q <= seq; q++ {
		m, err := st.GetMsg(ctx, q)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // superseded and removed by the bucket's history limit
		}
		if err != nil {
			return nil, fmt.Errorf("reading revision %d: %w", q, err)
		}
		id, err := regions.ParseKey(strings.TrimPrefix(m.Subject, "$KV."+regions.Bucket+"."))
		if err != nil {
			continue
		}
		if op := m.Header.Get("KV-Operation"); op != "" {
			delete(entries, id)
			continue
		}
		if e, err := regions.UnmarshalEntry(m.Data); err == nil && e.ID == id {
			entries[id] = e
		}
	}
	s.n.log.Debug().Uint64("view", rev).Uint64("stream", seq).Msg("registry view behind the stream; read the gap directly")
	return entries, nil
}

// viewLagWait is how long update waits for the view before reading the stream itself.
const viewLagWait = 300 * time.Millisecond

// snapshotTree builds the tree from the view (salvage).
func (s *rootService) snapshotTree() *regions.Tree {
	entries, _ := s.n.view.Snapshot()
	return s.salvage(entries)
}

// salvage builds the tree of entries, setting aside (and logging, once per change) those that do
// not reach the root.
func (s *rootService) salvage(entries map[regions.RegionID]*regions.Entry) *regions.Tree {
	all := make([]*regions.Entry, 0, len(entries))
	for _, e := range entries {
		all = append(all, e)
	}
	tree, aside := regions.SalvageTree(s.n.Region(), all)
	var b strings.Builder
	for _, a := range aside {
		fmt.Fprintf(&b, "%s (%q): %s; ", a.Entry.ID, a.Entry.Name, a.Reason)
	}
	s.mu.Lock()
	changed := b.String() != s.asideLogged
	s.asideLogged = b.String()
	s.mu.Unlock()
	if changed && len(aside) > 0 {
		s.n.log.Error().Int("entries", len(aside)).Str("set_aside", b.String()).
			Msg("registry entries do not form a tree with the root; they are set aside: no region joins under them, and they are never written until repaired")
	}
	return tree
}

// lastSequence returns the registry stream's last sequence.
func (s *rootService) lastSequence(ctx context.Context) (uint64, error) {
	st, err := s.n.js.Stream(ctx, registryStream) // one STREAM.INFO request; its answer is cached
	if err != nil {
		return 0, err
	}
	return st.CachedInfo().State.LastSeq, nil
}

// publish writes next (nil: a delete marker) under key, expecting the stream's last sequence to
// be seq.
func (s *rootService) publish(ctx context.Context, key string, next *regions.Entry, seq uint64) error {
	m := nats.NewMsg("$KV." + regions.Bucket + "." + key)
	if next == nil {
		m.Header.Set("KV-Operation", "DEL")
	} else {
		next.Updated = time.Now().UTC().Format(time.RFC3339Nano)
		data, err := next.Marshal()
		if err != nil {
			return err
		}
		m.Data = data
	}
	_, err := s.n.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequence(seq))
	return err
}
