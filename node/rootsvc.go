package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// rootService runs at the root only: it answers joins and leaves and turns link reports into
// active/down transitions. It is the registry's only writer.
type rootService struct {
	n  *Node
	kv jetstream.KeyValue

	writeMu sync.Mutex // serialises registry writes

	mu       sync.Mutex // guards reports, admitted
	reports  map[string]linkState
	admitted map[regions.RegionID]time.Time
	started  time.Time
}

type linkState struct {
	region   regions.RegionID
	node     string
	children map[regions.RegionID][]string
	at       time.Time
}

func newRootService(n *Node, kv jetstream.KeyValue) *rootService {
	return &rootService{n: n, kv: kv, reports: map[string]linkState{},
		admitted: map[regions.RegionID]time.Time{}, started: time.Now()}
}

func (s *rootService) start() error {
	nc := s.n.nc
	if _, err := nc.QueueSubscribe(SubjectJoin, "fedist-root", s.onJoin); err != nil {
		return err
	}
	if _, err := nc.QueueSubscribe(SubjectLeave, "fedist-root", s.onLeave); err != nil {
		return err
	}
	if _, err := nc.Subscribe(SubjectLinks, s.onLinks); err != nil {
		return err
	}
	if _, err := nc.QueueSubscribe(SubjectHWM, "fedist-root", s.onHWM); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	s.n.wg.Add(1)
	go func() {
		defer s.n.wg.Done()
		for s.n.sleep(s.n.cfg.PollEvery) {
			s.evaluate(time.Now())
		}
	}()
	return nil
}

func (s *rootService) respond(m *nats.Msg, rep Reply) { s.respondAny(m, &rep) }

func (s *rootService) respondAny(m *nats.Msg, rep any) {
	data, _ := json.Marshal(rep)
	if err := m.Respond(data); err != nil {
		s.n.log.Warn().Err(err).Msg("root reply")
	}
}

func (s *rootService) onJoin(m *nats.Msg) {
	var req JoinRequest
	id, err := s.n.sec.open(SubjectJoin, m.Data, &req)
	if err != nil {
		s.n.log.Warn().Err(err).Msg("unreadable or unsigned join request refused")
		s.respond(m, refuse(CodeBadRequest, "join request: %v", err))
		return
	}
	var rep Reply
	if id != nil && (id.Region.String() != req.ID || id.Node != req.Node) {
		rep = refuse(CodeIdentity, "the node's certificate names %s (region %s, node %s), but it asks to join as region %s, node %s; issue it a certificate with `fedist-root certs node -id %s -name %s`",
			id, id.Region, id.Node, req.ID, req.Node, req.ID, req.Node)
	} else {
		rep = s.join(&req)
	}
	ev := s.n.log.Info()
	if !rep.OK {
		ev = s.n.log.Warn().Str("code", rep.Code).Str("reason", rep.Reason)
	}
	ev.Str("id", req.ID).Str("name", req.Name).Str("parent", req.Parent).Str("join_node", req.Node).Bool("ok", rep.OK).Msg("join request")
	s.respond(m, rep)
}

func (s *rootService) onLeave(m *nats.Msg) {
	var req LeaveRequest
	id, err := s.n.sec.open(SubjectLeave, m.Data, &req)
	if err != nil {
		s.respond(m, refuse(CodeBadRequest, "leave request: %v", err))
		return
	}
	var rep Reply
	if id != nil && (id.Region.String() != req.ID || id.Node != req.Node) {
		rep = refuse(CodeIdentity, "signed by %s, not by node %s of region %s", id, req.Node, req.ID)
	} else {
		rep = s.leave(&req)
	}
	s.n.log.Info().Str("id", req.ID).Str("leave_node", req.Node).Str("phase", req.Phase).Bool("ok", rep.OK).Str("reason", rep.Reason).Msg("leave request")
	s.respond(m, rep)
}

func (s *rootService) onLinks(m *nats.Msg) {
	var rep LinkReport
	id, err := s.n.sec.open(SubjectLinks, m.Data, &rep)
	if err != nil {
		s.n.log.Warn().Err(err).Msg("unreadable or unsigned link report")
		return
	}
	if id != nil && id.ServerName() != rep.Reporter {
		s.n.log.Warn().Str("signer", id.String()).Str("reporter", rep.Reporter).Msg("link report signed by another node; ignored")
		return
	}
	r, node, ok := broker.ParseServerName(rep.Reporter)
	if !ok {
		return
	}
	st := linkState{region: r, node: node, children: map[regions.RegionID][]string{}, at: time.Now()}
	for k, nodes := range rep.Children {
		if c, err := regions.ParseRegion(k); err == nil {
			st.children[c] = nodes
		}
	}
	s.mu.Lock()
	s.reports[rep.Reporter] = st
	s.mu.Unlock()
}

// liveNodes returns, for every region reachable from the root through live links, the set of its
// nodes that hold a leafnode link to a live node of its parent.
func (s *rootService) liveNodes(tree *regions.Tree, now time.Time) map[regions.RegionID]map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.reports {
		if now.Sub(st.at) >= s.n.cfg.ReportTTL {
			delete(s.reports, k) // a reporter silent this long is gone; its report must not pile up
		}
	}
	root := tree.Root()
	live := map[regions.RegionID]map[string]bool{root: {s.n.cfg.Broker.Node: true}}
	for _, st := range s.reports {
		if st.region == root && now.Sub(st.at) < s.n.cfg.ReportTTL {
			live[root][st.node] = true
		}
	}
	queue := []regions.RegionID{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, st := range s.reports {
			if st.region != p || !live[p][st.node] || now.Sub(st.at) >= s.n.cfg.ReportTTL {
				continue
			}
			for c, nodes := range st.children {
				if e := tree.Entry(c); e == nil || e.Parent != p {
					continue // only a link to its own parent keeps a region live
				}
				if live[c] == nil {
					live[c] = map[string]bool{}
					queue = append(queue, c)
				}
				for _, nd := range nodes {
					live[c][nd] = true
				}
			}
		}
	}
	return live
}

// knownLive returns the nodes of e that are live.
func knownLive(e *regions.Entry, live map[string]bool) []string {
	var out []string
	for _, nd := range e.Nodes {
		if live[nd.Name] {
			out = append(out, nd.Name)
		}
	}
	return out
}

// evaluate marks regions down whose nodes all lost their links, and active again when one returns.
func (s *rootService) evaluate(now time.Time) {
	tree, err := s.n.view.Tree()
	if err != nil {
		s.n.log.Warn().Err(err).Msg("registry does not form a tree; skipping down detection")
		return
	}
	live := s.liveNodes(tree, now)
	s.mu.Lock()
	inGrace := now.Sub(s.started) < s.n.cfg.DownGrace
	admitted := make(map[regions.RegionID]time.Time, len(s.admitted))
	for r, t := range s.admitted {
		admitted[r] = t
	}
	s.mu.Unlock()
	for _, r := range tree.Regions() {
		e := tree.Entry(r)
		if e.IsRoot() {
			continue
		}
		up := len(knownLive(e, live[r])) > 0
		var want regions.Status
		var reason string
		switch {
		case (e.Status == regions.StatusActive || e.Status == regions.StatusDraining) && !up:
			// A draining region whose node stopped before it finished leaving is down, not wedged.
			if inGrace || now.Sub(admitted[r]) < s.n.cfg.DownGrace {
				continue
			}
			want, reason = regions.StatusDown, fmt.Sprintf("no node has a leafnode link to parent %s", e.Parent)
		case e.Status == regions.StatusDown && up:
			want, reason = regions.StatusActive, "leafnode link to parent restored"
		default:
			continue
		}
		ctx, cancel := context.WithTimeout(s.n.ctx, 5*time.Second)
		changed := false
		err := s.update(ctx, r, func(cur *regions.Entry) (*regions.Entry, error) {
			if cur == nil || cur.Status != e.Status {
				return nil, errUnchanged
			}
			cur.Status, cur.Reason = want, reason
			changed = true
			return cur, nil
		})
		cancel()
		if errors.Is(err, context.Canceled) {
			return
		}
		if err != nil {
			s.n.log.Warn().Err(err).Str("id", r.String()).Msg("status write failed")
			continue
		}
		if !changed {
			continue
		}
		s.n.log.Info().Str("id", r.String()).Str("name", e.Name).Str("status", string(want)).Str("reason", reason).Msg("region status changed")
	}
}

func isNotFound(err error) bool { return errors.Is(err, jetstream.ErrKeyNotFound) }

func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.Is(err, jetstream.ErrKeyExists) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence)
}

func lastRevision(rev uint64) jetstream.KVDeleteOpt { return jetstream.LastRevision(rev) }
