package node

import (
	"context"
	"fmt"
	"sort"

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
		return svc.update(ctx, me, func(_ *regions.Tree, e *regions.Entry) (*regions.Entry, error) {
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
