package node

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/fedist/fedist/regions"
)

// startRoot opens (or creates) the registry bucket, checks that it belongs to this root, registers
// the root region, and starts the services only the root runs.
func (n *Node) startRoot() error {
	n.setPhase("syncing")
	kv, err := n.openRegistry(0)
	if err != nil {
		return err
	}
	if err := n.view.WaitFor(n.ctx, (*regions.View).CaughtUp); err != nil {
		return err
	}
	me := n.Region()
	for _, e := range n.view.Entries() {
		if e.IsRoot() && e.ID != me {
			return fmt.Errorf("%w: the registry in %s belongs to root %s (%q); start with -id %s or a fresh -store",
				ErrRootMismatch, n.cfg.Broker.StoreDir, e.ID, e.Name, e.ID)
		}
	}
	svc := newRootService(n, kv)
	if err := n.retryJS("register the root region", func(ctx context.Context) error {
		return svc.update(ctx, me, func(e *regions.Entry) (*regions.Entry, error) {
			if e == nil {
				e = &regions.Entry{ID: me}
			}
			e.Name, e.Parent, e.Status = n.cfg.Name, 0, regions.StatusActive
			upsertNode(e, n.selfNode())
			e.Reason = "root started"
			return e, nil
		})
	}); err != nil {
		return err
	}
	if err := n.openHWM(); err != nil {
		return err
	}
	if err := n.openIDs(); err != nil {
		return err
	}
	if err := svc.start(); err != nil {
		return err
	}
	n.mu.Lock()
	n.root = svc
	n.mu.Unlock()
	return n.view.WaitFor(n.ctx, func(v *regions.View) bool {
		st, ok := v.Status(me)
		return ok && st == regions.StatusActive
	})
}

func (n *Node) selfNode() regions.Node {
	return regions.Node{Name: n.cfg.Broker.Node, ClientURL: n.b.ClientURL(), LeafURL: n.b.LeafURL(), Instance: n.b.Server().ID()}
}

func upsertNode(e *regions.Entry, nd regions.Node) {
	if old := e.Node(nd.Name); old != nil {
		*old = nd
		return
	}
	e.Nodes = append(e.Nodes, nd)
	sort.Slice(e.Nodes, func(i, j int) bool { return e.Nodes[i].Name < e.Nodes[j].Name })
}

// errUnchanged tells update that the mutation found nothing to write.
var errUnchanged = errors.New("unchanged")

// update applies fn to region r's current entry (nil if absent) and writes the result with
// compare-and-set, retrying on a concurrent write. fn returning nil deletes the entry.
func (s *rootService) update(ctx context.Context, r regions.RegionID, fn func(*regions.Entry) (*regions.Entry, error)) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	key := regions.Key(r)
	for attempt := 0; attempt < 5; attempt++ {
		var cur *regions.Entry
		var rev uint64
		kve, err := s.kv.Get(ctx, key)
		switch {
		case err == nil:
			rev = kve.Revision()
			if cur, err = regions.UnmarshalEntry(kve.Value()); err != nil {
				s.n.log.Warn().Err(err).Str("key", key).Msg("replacing unreadable registry value")
				cur = nil
			}
		case isNotFound(err):
		default:
			return fmt.Errorf("registry read %s: %w", key, err)
		}
		next, err := fn(cur)
		if errors.Is(err, errUnchanged) {
			return nil
		}
		if err != nil {
			return err
		}
		if next == nil {
			if cur == nil {
				return nil
			}
			err = s.kv.Delete(ctx, key, lastRevision(rev))
		} else {
			next.ID = r
			next.Updated = time.Now().UTC().Format(time.RFC3339Nano)
			data, merr := next.Marshal()
			if merr != nil {
				return merr
			}
			if rev == 0 {
				_, err = s.kv.Create(ctx, key, data)
			} else {
				_, err = s.kv.Update(ctx, key, data, rev)
			}
		}
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("registry write %s: %w", key, err)
		}
	}
	return fmt.Errorf("registry write %s: too many concurrent writers", key)
}
