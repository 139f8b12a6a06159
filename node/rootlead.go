package node

import (
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/nats-io/nats.go"
)

// The root region may run on several clustered nodes (-replicas 3). Every root node receives link
// reports and records high-water marks, but one of them, the elected writer, answers joins and
// leaves and writes status changes. The writer is the leader of the registry stream's Raft group:
// JetStream already elects it, moves it when its node is lost, and it is the node every registry
// write goes through anyway. Two nodes that both believe they lead for a moment cannot both write:
// every registry write expects the stream's last sequence (update).

// elected reports whether this node is the registry's writer: always on a single root node, else
// while it leads the registry stream.
//
// A node configured with cluster routes is never the writer by default: while it starts (or
// restarts), before its cluster has formed, nats-server reports JetStream as not clustered, and
// such a node would otherwise decide statuses on its own from reports it has not received yet.
func (s *rootService) elected() bool {
	srv := s.n.b.Server()
	if !s.clustered() {
		return true
	}
	return srv.JetStreamIsClustered() && srv.JetStreamIsStreamLeader(broker.FedistAccount, registryStream)
}

// clustered reports whether the root region runs on several nodes, as configured.
func (s *rootService) clustered() bool {
	b := s.n.cfg.Broker
	return b.ClusterPort != 0 || len(b.Routes) > 0
}

// setWriter makes this node answer joins and leaves, or stop answering them, and returns lead.
// A node that takes over gives every region the grace of a restarted root: links that moved with
// the lost node need a reconnect and a report before they count.
func (s *rootService) setWriter(lead bool) bool {
	if lead == (s.writer != nil) {
		return lead
	}
	if !lead {
		for _, sub := range s.writer {
			_ = sub.Unsubscribe()
		}
		s.writer = nil
		s.n.log.Info().Msg("no longer the registry writer")
		return false
	}
	nc := s.n.nc
	join, err := nc.QueueSubscribe(SubjectJoin, "fedist-root", s.onJoin)
	if err != nil {
		s.n.log.Warn().Err(err).Msg("registry writer: subscribe to joins")
		return false
	}
	leave, err := nc.QueueSubscribe(SubjectLeave, "fedist-root", s.onLeave)
	if err != nil {
		_ = join.Unsubscribe()
		s.n.log.Warn().Err(err).Msg("registry writer: subscribe to leaves")
		return false
	}
	s.writer = []*nats.Subscription{join, leave}
	_ = nc.Flush()
	s.mu.Lock()
	s.damp.restart(time.Now())
	s.mu.Unlock()
	s.n.log.Info().Msg("elected registry writer: answering joins and leaves, deciding region status")
	return true
}

// RegistryWriter reports whether this node is the root's elected registry writer (false below the
// root, and on a root node that does not lead the registry stream).
func (n *Node) RegistryWriter() bool {
	n.mu.Lock()
	s := n.root
	n.mu.Unlock()
	return s != nil && s.elected()
}
