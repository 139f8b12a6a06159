package node

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// joinParent waits for the leafnode link, asks the root to admit this node, opens the registry
// mirror and the ID generator, and returns once the mirror shows the region active.
func (n *Node) joinParent() error {
	n.setPhase("connecting")
	parent, err := n.waitParentLink()
	if err != nil {
		return err
	}
	n.setPhase("joining")
	if err := n.requestJoin(parent); err != nil {
		return err
	}
	n.setPhase("syncing")
	if _, err := n.openRegistry(parent); err != nil {
		return err
	}
	if err := n.openIDs(); err != nil {
		return err
	}
	me := n.Region()
	return n.view.WaitFor(n.ctx, func(v *regions.View) bool {
		st, ok := v.Status(me)
		return ok && st == regions.StatusActive
	})
}

// waitParentLink waits until the leafnode link to the parent is up and returns the parent region.
func (n *Node) waitParentLink() (regions.RegionID, error) {
	start := time.Now()
	lastLog := start
	for {
		if p, pnode, ok := n.b.Parent(); ok {
			if n.cfg.Parent != 0 && p != n.cfg.Parent {
				return 0, fmt.Errorf("parent URL %s reaches region %s (node %s), but the configured parent is %s",
					strings.Join(n.cfg.Broker.ParentURLs, ","), p, pnode, n.cfg.Parent)
			}
			n.mu.Lock()
			n.parent = p
			n.mu.Unlock()
			n.log.Info().Str("parent", p.String()).Str("parent_node", pnode).Msg("leafnode link to parent is up")
			return p, nil
		}
		waited := time.Since(start).Round(time.Second)
		if n.cfg.JoinTimeout > 0 && waited >= n.cfg.JoinTimeout {
			return 0, fmt.Errorf("%w: no leafnode link to the parent at %s after %v (is the parent running, and is this its leafnode port, not its client port?)",
				ErrNoParent, strings.Join(n.cfg.Broker.ParentURLs, ","), waited)
		}
		if time.Since(lastLog) > 5*time.Second {
			lastLog = time.Now()
			n.log.Warn().Strs("parent_urls", n.cfg.Broker.ParentURLs).Str("waited", waited.String()).
				Msg("still waiting for the leafnode link to the parent (is the parent running, and is this its leafnode port, not its client port?)")
		}
		if !n.sleep(50 * time.Millisecond) {
			return 0, n.ctx.Err()
		}
	}
}

// requestJoin sends the join request until the root answers. A refusal is final.
func (n *Node) requestJoin(parent regions.RegionID) error {
	req := JoinRequest{
		ID:        n.Region().String(),
		Name:      n.cfg.Name,
		Parent:    parent.String(),
		Node:      n.cfg.Broker.Node,
		ClientURL: n.b.ClientURL(),
		LeafURL:   n.b.LeafURL(),
		Instance:  n.b.Server().ID(),
	}
	start := time.Now()
	for attempt := 1; ; attempt++ {
		req.Peers = n.b.Routes() // routes to the region's other nodes may come up while we retry
		rep, err := n.requestTimeout(SubjectJoin, &req, 5*time.Second)
		if err == nil {
			waitParent := rep.Code == CodeParentUnknown || rep.Code == CodeParentDown ||
				(rep.Code == CodeNeedRoutes && len(n.cfg.Broker.Routes) > 0)
			if !rep.OK && waitParent && time.Since(start) < n.cfg.JoinPatience {
				n.log.Warn().Str("reason", rep.Reason).Msg("join: parent not ready yet, retrying")
				if !n.sleep(n.cfg.JoinRetry) {
					return n.ctx.Err()
				}
				continue
			}
			if !rep.OK {
				return &RefusedError{Code: rep.Code, Reason: rep.Reason}
			}
			n.log.Info().Str("parent", parent.String()).Msg("join accepted by the root")
			return nil
		}
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("join: %w", err)
		}
		ev := n.log.Debug()
		if attempt%5 == 0 {
			ev = n.log.Warn()
		}
		ev.Err(err).Int("attempt", attempt).Msg("join: root not reachable yet, retrying")
		if !n.sleep(n.cfg.JoinRetry) {
			return n.ctx.Err()
		}
	}
}

// Leave drains the region (or just this node when other nodes of the region stay), waits DrainWait,
// and removes it from the registry. The node keeps running; call Shutdown afterwards.
func (n *Node) Leave(ctx context.Context) error {
	if n.cfg.IsRoot() {
		return fmt.Errorf("leave: %w: the root region cannot leave", ErrBadRequest)
	}
	if err := n.Health(); err != nil {
		return fmt.Errorf("leave: %w", err)
	}
	if err := n.leavePhase(ctx, "drain"); err != nil {
		return err
	}
	n.log.Info().Dur("wait", n.cfg.DrainWait).Msg("draining")
	select {
	case <-time.After(n.cfg.DrainWait):
	case <-ctx.Done():
		return ctx.Err()
	}
	e, _ := n.view.Get(n.Region())
	last := e == nil || len(e.Nodes) <= 1
	if err := n.leavePhase(ctx, "leave"); err != nil {
		return err
	}
	if last { // the region is gone: its registry feed at the parent goes with it
		n.dropMirrorFeed(ctx)
	}
	return nil
}

func (n *Node) leavePhase(ctx context.Context, phase string) error {
	rep, err := n.request(ctx, SubjectLeave, &LeaveRequest{ID: n.Region().String(), Node: n.cfg.Broker.Node, Phase: phase})
	if err != nil {
		return fmt.Errorf("leave (%s): %w", phase, err)
	}
	if !rep.OK {
		return &RefusedError{Code: rep.Code, Reason: rep.Reason}
	}
	return nil
}
