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

	writer []*nats.Subscription // join and leave, while this node is the elected writer (rootlead.go)

	mu          sync.Mutex // guards reports, damp, asideLogged
	reports     map[string]linkState
	damp        *damper
	asideLogged string // the set-aside entries last logged (snapshotTree)
}

type linkState struct {
	region   regions.RegionID
	node     string
	children map[regions.RegionID][]string
	partial  map[regions.RegionID]map[string]uint8 // LinkReport.Partial
	at       time.Time
}

func newRootService(n *Node, kv jetstream.KeyValue) *rootService {
	return &rootService{n: n, kv: kv, reports: map[string]linkState{}, damp: newDamper(n.cfg.DownGrace, time.Now())}
}

func (s *rootService) start() error {
	nc := s.n.nc
	if _, err := nc.Subscribe(SubjectLinks, s.onLinks); err != nil {
		return err
	}
	// High-water marks are raised with compare-and-set: any root node may record them.
	if _, err := nc.QueueSubscribe(SubjectHWM, "fedist-root", s.onHWM); err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	s.setWriter(s.elected()) // before the root reports ready: a single root node answers joins at once
	s.n.wg.Add(1)
	go func() {
		defer s.n.wg.Done()
		defer s.setWriter(false)
		var beat time.Time
		for {
			if s.setWriter(s.elected()) {
				s.evaluate(time.Now())
				if time.Since(beat) >= s.n.cfg.BeatEvery {
					s.n.sendBeat(s.beatRevision())
					beat = time.Now()
				}
			}
			if !s.n.sleep(s.n.cfg.PollEvery) {
				return
			}
		}
	}()
	return nil
}

// beatRevision is the registry's revision for the beat: the stream's last sequence, not the
// writer's view, which lags like any other watch after a takeover (its ordered consumer was on the
// lost node). Every node compares its own copy with it, the writer's included (listenBeats), so a
// lagging view is restarted wherever it is. The view's revision stands in when the stream has no
// leader to answer.
func (s *rootService) beatRevision() uint64 {
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.BeatEvery/2)
	defer cancel()
	seq, _ := s.lastSequence(ctx) // 0 on error
	return max(seq, s.n.view.Revision())
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
	for k, nodes := range rep.Partial {
		if c, err := regions.ParseRegion(k); err == nil {
			if st.partial == nil {
				st.partial = map[regions.RegionID]map[string]uint8{}
			}
			st.partial[c] = nodes
		}
	}
	s.mu.Lock()
	s.reports[rep.Reporter] = st
	s.mu.Unlock()
}

// liveNodes returns, for every region reachable from the root through live links, the set of its
// nodes that hold a leafnode link to a live node of its parent (liveFrom).
func (s *rootService) liveNodes(tree *regions.Tree, now time.Time) map[regions.RegionID]map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, st := range s.reports {
		if now.Sub(st.at) >= s.n.cfg.ReportTTL {
			delete(s.reports, k) // a reporter silent this long is gone; its report must not pile up
		}
	}
	return liveFrom(s.reports, tree, s.n.cfg.Broker.Node, s.n.cfg.ReportTTL, now)
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
	tree := s.snapshotTree()
	live := s.liveNodes(tree, now)
	s.mu.Lock()
	s.damp.forget(tree.Has)
	type change struct {
		r    regions.RegionID
		e    *regions.Entry
		want regions.Status
	}
	var changes []change
	for _, r := range tree.Regions() {
		e := tree.Entry(r)
		if e.IsRoot() {
			continue
		}
		up := len(knownLive(e, live[r])) > 0
		if want := s.damp.decide(r, e.Status, up, now); want != "" {
			changes = append(changes, change{r, e, want})
		}
	}
	s.mu.Unlock()
	for _, c := range changes {
		r, e, want := c.r, c.e, c.want
		reason := "leafnode link to parent restored"
		if want == regions.StatusDown {
			reason = fmt.Sprintf("no node has a leafnode link to parent %s", e.Parent)
		}
		ctx, cancel := context.WithTimeout(s.n.ctx, 5*time.Second)
		changed := false
		err := s.update(ctx, r, func(tree *regions.Tree, cur *regions.Entry) (*regions.Entry, error) {
			if cur == nil || cur.Status != e.Status {
				return nil, errUnchanged
			}
			// Decide again on update's consistent snapshot: the view this pass started from may be
			// behind (a watch on a lost leader), and a join since then may have readmitted r.
			up := len(knownLive(cur, s.liveNodes(tree, now)[r])) > 0
			s.mu.Lock()
			again := s.damp.decide(r, cur.Status, up, now)
			s.mu.Unlock()
			if again != want {
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
		s.mu.Lock()
		s.damp.wrote(r, want, time.Now())
		s.mu.Unlock()
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
