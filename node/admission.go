package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// join validates a join request and, when it is acceptable, writes the region active with the
// requesting node among its nodes. The decision and the write happen under one registry write, so
// two racing joins cannot both win.
func (s *rootService) join(req *JoinRequest) Reply {
	id, err := regions.ParseRegion(req.ID)
	if errors.Is(err, regions.ErrReservedRegion) {
		return refuse(CodeReserved, "region ID 0000 is reserved; pick an ID from 0001 to ffff")
	}
	if err != nil {
		return refuse(CodeBadRequest, "region ID: %v", err)
	}
	parent, err := regions.ParseRegion(req.Parent)
	if err != nil {
		return refuse(CodeBadRequest, "parent ID: %v", err)
	}
	if req.Name == "" || req.Node == "" {
		return refuse(CodeBadRequest, "join request needs a region name and a node name")
	}
	if id == s.n.Region() {
		return refuse(CodeTaken, "region %s is the root (%q); pick another -id", id, s.n.Name())
	}
	// A hint only, taken before the write lock: asking a running process may take seconds.
	hint := s.liveNodes(s.snapshotTree(), time.Now())
	if rep, busy := s.nodeRunning(id, req, hint[id][req.Node]); busy {
		return rep
	}

	var rep Reply
	ctx, cancel := context.WithTimeout(s.n.ctx, 5*time.Second)
	defer cancel()
	err = s.update(ctx, id, func(tree *regions.Tree, cur *regions.Entry) (*regions.Entry, error) {
		rep = admit(tree, s.liveNodes(tree, time.Now()), cur, id, parent, req)
		if !rep.OK {
			return nil, errUnchanged
		}
		next := cur
		if next == nil {
			next = &regions.Entry{ID: id}
		}
		if next.Status == regions.StatusDown {
			// Every node had gone; the region restarts with the nodes that join from now on. While the
			// region is active, a joining node's peers stay listed even before a link report names
			// them: a node dropped here would no longer count toward the region being up.
			next.Nodes = slices.DeleteFunc(next.Nodes, func(nd regions.Node) bool { return nd.Name != req.Node })
		}
		next.Name, next.Parent, next.Status = req.Name, parent, regions.StatusActive
		upsertNode(next, regions.Node{Name: req.Node, ClientURL: req.ClientURL, LeafURL: req.LeafURL, Instance: req.Instance})
		next.Reason = "joined by node " + req.Node
		// Before the write lands: an evaluate pass must not see the region active without its grace.
		s.mu.Lock()
		s.damp.admitted(id, time.Now())
		s.mu.Unlock()
		return next, nil
	})
	if errors.Is(err, errBreaksTree) {
		return refuse(CodeCycle, "join of %s under %s refused: %v", id, parent, err)
	}
	if err != nil {
		return refuse(CodeInternal, "registry write failed: %v", err)
	}
	return rep
}

// admit decides a join against the current entry (nil for a new region).
func admit(tree *regions.Tree, live map[regions.RegionID]map[string]bool, cur *regions.Entry,
	id, parent regions.RegionID, req *JoinRequest) Reply {
	pe := tree.Entry(parent)
	if pe == nil {
		return refuse(CodeParentUnknown, "parent region %s is not in the registry: the server at the -parent URL has not joined (yet)", parent)
	}
	if pe.Status != regions.StatusActive {
		return refuse(CodeParentDown, "parent region %s (%q) is %s, not active", parent, pe.Name, pe.Status)
	}
	if cur != nil {
		if cur.Name != req.Name {
			return refuse(CodeTaken, "region ID %s is taken by region %q; pick a free -id, or use -name %s to restart that region",
				id, cur.Name, cur.Name)
		}
		others := knownLive(cur, live[id])
		others = slices.DeleteFunc(others, func(nd string) bool { return nd == req.Node })
		if cur.Status == regions.StatusDraining && len(others) > 0 {
			return refuse(CodeTaken, "region %s (%q) is draining; wait until it has left", id, cur.Name)
		}
		if cur.Parent != parent && len(others) > 0 {
			return refuse(CodeTaken, "region %s (%q) is active under parent %s; its nodes cannot join under %s",
				id, cur.Name, cur.Parent, parent)
		}
		if len(others) > 0 && cur.Node(req.Node) == nil && !routedTo(req.Peers, id, others) {
			return refuse(CodeNeedRoutes, "region %s (%q) is active on node(s) %s; a new node of it must have cluster routes to them (-routes), or pick a free -id",
				id, cur.Name, strings.Join(others, ", "))
		}
	}
	if parent == id {
		return refuse(CodeCycle, "region %s cannot be its own parent", id)
	}
	e := &regions.Entry{ID: id, Name: req.Name, Parent: parent, Status: regions.StatusActive}
	if _, err := tree.WithEntry(e); err != nil {
		code := CodeBadRequest
		switch {
		case errors.Is(err, regions.ErrCycle):
			code = CodeCycle
		case errors.Is(err, regions.ErrParentUnknown):
			code = CodeParentUnknown
		}
		return refuse(code, "joining %s under %s would break the tree: %v", id, parent, err)
	}
	return Reply{OK: true}
}

// nodeRunning refuses a join that claims a registered node name while the process that registered
// it still runs. It asks that process (by its instance ID) directly. Two processes with one server
// name knock each other's leafnode link off the parent in turns, so a node whose name is reported
// connected may be away for a reconnect interval: it is asked again for up to 2.5 s before it counts
// as gone. A request that times out means the old process is gone but its interest lingers (a
// crashed host's half-open link): the restart is admitted. It runs before the registry write,
// holding no lock.
func (s *rootService) nodeRunning(id regions.RegionID, req *JoinRequest, reported bool) (Reply, bool) {
	e, _ := s.n.view.Get(id)
	if e == nil || e.Name != req.Name || e.Status == regions.StatusDown {
		return Reply{}, false // a down region's processes are all gone
	}
	old := e.Node(req.Node)
	if old == nil || old.Instance == "" || old.Instance == req.Instance {
		return Reply{}, false
	}
	deadline := time.Now().Add(2500 * time.Millisecond)
	for {
		_, err := s.n.nc.Request(SubjectInstance+old.Instance, nil, 500*time.Millisecond)
		if err == nil {
			return refuse(CodeTaken, "node %s of region %s (%q) is already running (instance %s); stop it first, or start this one with another -node and cluster routes to it",
				req.Node, id, e.Name, old.Instance), true
		}
		if errors.Is(err, nats.ErrTimeout) {
			// Interest without an answer: after a host crash the old process's leafnode link stays
			// half-open at its parent until the ping timeout, so its subscription lingers. A live
			// process answers in a round trip; this one is gone.
			s.n.log.Warn().Str("id", id.String()).Str("join_node", req.Node).Str("old_instance", old.Instance).
				Msg("the registered instance of this node has interest but does not answer (crashed host?); admitting the restart")
			return Reply{}, false
		}
		if !reported || time.Now().After(deadline) || !s.n.sleep(250*time.Millisecond) {
			return Reply{}, false
		}
	}
}

// routedTo reports whether any peer server name is one of region id's nodes.
func routedTo(peers []string, id regions.RegionID, nodes []string) bool {
	for _, p := range peers {
		if r, nd, ok := broker.ParseServerName(p); ok && r == id && slices.Contains(nodes, nd) {
			return true
		}
	}
	return false
}

// leave handles both phases of a leave. While other nodes of the region stay, only the leaving node
// is dropped; the last node drains the region and then deletes its entry.
func (s *rootService) leave(req *LeaveRequest) Reply {
	id, err := regions.ParseRegion(req.ID)
	if err != nil {
		return refuse(CodeBadRequest, "region ID: %v", err)
	}
	if req.Phase != "drain" && req.Phase != "leave" {
		return refuse(CodeBadRequest, "leave phase %q: want drain or leave", req.Phase)
	}
	rep := Reply{OK: true}
	ctx, cancel := context.WithTimeout(s.n.ctx, 5*time.Second)
	defer cancel()
	err = s.update(ctx, id, func(tree *regions.Tree, cur *regions.Entry) (*regions.Entry, error) {
		live := s.liveNodes(tree, time.Now())
		if cur == nil {
			rep = refuse(CodeBadRequest, "region %s is not in the registry", id)
			return nil, errUnchanged
		}
		if cur.IsRoot() {
			rep = refuse(CodeBadRequest, "the root region cannot leave")
			return nil, errUnchanged
		}
		if cur.Node(req.Node) == nil {
			rep = refuse(CodeBadRequest, "node %s is not a node of region %s (%q)", req.Node, id, cur.Name)
			return nil, errUnchanged
		}
		others := slices.DeleteFunc(knownLive(cur, live[id]), func(nd string) bool { return nd == req.Node })
		if len(others) > 0 {
			if req.Phase == "drain" {
				return nil, errUnchanged
			}
			cur.Nodes = slices.DeleteFunc(cur.Nodes, func(nd regions.Node) bool { return nd.Name == req.Node })
			cur.Reason = "node " + req.Node + " left"
			return cur, nil
		}
		var kids []string
		for _, c := range tree.Children(id) {
			kids = append(kids, c.String())
		}
		if len(kids) > 0 {
			rep = refuse(CodeHasChildren, "region %s still has child regions %s; they must leave first", id, strings.Join(kids, ", "))
			return nil, errUnchanged
		}
		if req.Phase == "drain" {
			cur.Status, cur.Reason = regions.StatusDraining, fmt.Sprintf("node %s is leaving", req.Node)
			return cur, nil
		}
		return nil, nil
	})
	if errors.Is(err, errBreaksTree) {
		return refuse(CodeHasChildren, "leave of %s refused: %v", id, err)
	}
	if err != nil {
		return refuse(CodeInternal, "registry write failed: %v", err)
	}
	return rep
}
