package daemon

import (
	"net/http"

	"github.com/fedist/fedist/node"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsHandler serves GET /metrics for n in the Prometheus exposition format. It has a registry
// of its own (never the global default, so two nodes in one process do not collide), and every
// metric carries the constant labels region (4 hex digits) and node. The FeDist collectors
// (metrics_node.go, metrics_replication.go, metrics_nats.go) read the node at scrape time: no
// goroutine keeps gauges up to date, and a scrape costs a few locked reads of the node.
func metricsHandler(n *node.Node) http.Handler {
	reg := prometheus.NewRegistry()
	r := prometheus.WrapRegistererWith(prometheus.Labels{
		"region": n.Region().String(),
		"node":   n.Broker().Config().Node,
	}, reg)
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newNodeCollector(n),
		newReplicationCollector(n),
		newNATSCollector(n),
	)
	// ContinueOnError: a collector that fails (it sends an invalid metric) costs its own families,
	// not the whole scrape; promhttp_metric_handler_errors_total counts it.
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: r})
	return promhttp.InstrumentMetricHandler(r, h)
}

// family is one metric family a collector exports: its descriptor and its type.
type family struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
}

func gauge(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.GaugeValue}
}

func counter(name, help string, labels ...string) family {
	return family{prometheus.NewDesc(name, help, labels, nil), prometheus.CounterValue}
}

// emit sends one sample of f. A wrong number of label values is a bug here; it shows as a scrape
// error rather than a panic in the node.
func (f family) emit(ch chan<- prometheus.Metric, v float64, labelValues ...string) {
	m, err := prometheus.NewConstMetric(f.desc, f.typ, v, labelValues...)
	if err != nil {
		m = prometheus.NewInvalidMetric(f.desc, err)
	}
	ch <- m
}

func describe(ch chan<- *prometheus.Desc, fs ...family) {
	for _, f := range fs {
		ch <- f.desc
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
