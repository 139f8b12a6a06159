package daemon

import (
	"github.com/fedist/fedist/node"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
)

// pendingConnz bounds the connections one scrape reads for fedist_nats_pending_bytes: the server
// sorts its client connections by pending bytes and the scrape sums the heaviest this many. Past
// that, a connection holds less than every one counted, so the sum misses little.
const pendingConnz = 1024

// natsCollector exports the embedded nats-server's counters (Varz) and the bytes waiting to be
// written to its client connections (Connz).
type natsCollector struct {
	n *node.Node

	conns, leafs, routes, subs     family
	slow, inMsgs, outMsgs, in, out family
	pending                        family
}

func newNATSCollector(n *node.Node) *natsCollector {
	return &natsCollector{n: n,
		conns:   gauge("fedist_nats_connections", "Client connections to the node's nats-server."),
		leafs:   gauge("fedist_nats_leafnodes", "Leafnode connections (parent and child regions)."),
		routes:  gauge("fedist_nats_routes", "Route connections to the other nodes of the region."),
		subs:    gauge("fedist_nats_subscriptions", "Subscriptions held by the nats-server."),
		slow:    counter("fedist_nats_slow_consumers_total", "Connections the nats-server found to be slow consumers."),
		inMsgs:  counter("fedist_nats_in_messages_total", "Messages the nats-server received, from clients, routes and leafnodes."),
		outMsgs: counter("fedist_nats_out_messages_total", "Messages the nats-server sent."),
		in:      counter("fedist_nats_in_bytes_total", "Message bytes the nats-server received."),
		out:     counter("fedist_nats_out_bytes_total", "Message bytes the nats-server sent."),
		pending: gauge("fedist_nats_pending_bytes", "Bytes waiting to be written to client connections (the 1024 heaviest)."),
	}
}

func (c *natsCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.conns, c.leafs, c.routes, c.subs, c.slow, c.inMsgs, c.outMsgs, c.in, c.out, c.pending)
}

func (c *natsCollector) Collect(ch chan<- prometheus.Metric) {
	srv := c.n.Broker().Server()
	if v, err := srv.Varz(nil); err != nil {
		ch <- prometheus.NewInvalidMetric(c.conns.desc, err)
	} else {
		c.conns.emit(ch, float64(v.Connections))
		c.leafs.emit(ch, float64(v.Leafs))
		c.routes.emit(ch, float64(v.Routes))
		c.subs.emit(ch, float64(v.Subscriptions))
		c.slow.emit(ch, float64(v.SlowConsumers))
		c.inMsgs.emit(ch, float64(v.InMsgs))
		c.outMsgs.emit(ch, float64(v.OutMsgs))
		c.in.emit(ch, float64(v.InBytes))
		c.out.emit(ch, float64(v.OutBytes))
	}
	cz, err := srv.Connz(&server.ConnzOptions{Sort: server.ByPending, Limit: pendingConnz})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending.desc, err)
		return
	}
	var pending int64
	for _, ci := range cz.Conns {
		pending += int64(ci.Pending)
	}
	c.pending.emit(ch, float64(pending))
}
