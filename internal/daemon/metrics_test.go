package daemon

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsScrape scrapes GET /metrics of a child region's node until its parent link has been
// measured, checks the exposition with promtool (or, without it, the same linter promtool uses),
// and checks that the key families carry sane values and the region and node labels.
func TestMetricsScrape(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation")
	}
	_, child := startPair(t)
	var body string
	var mfs map[string]*dto.MetricFamily
	checkFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		code, b, _ := child.do(t, "GET", "/metrics")
		if code != 200 {
			return fmt.Errorf("GET /metrics: %d %s", code, b)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		var err error
		if mfs, err = p.TextToMetricFamilies(strings.NewReader(b)); err != nil {
			t.Fatalf("parse: %v\n%s", err, b)
		}
		body = b
		for _, name := range []string{"fedist_link_up", "fedist_link_rtt_seconds", "fedist_link_cost_seconds"} {
			if v, ok := sample(mfs, name, "peer", "0001", "kind", "tree"); !ok || v <= 0 {
				return fmt.Errorf("%s{peer=0001,kind=tree} = %v (present %v), want > 0", name, v, ok)
			}
		}
		return nil
	})
	lintExposition(t, body)

	want := []struct {
		name   string
		labels []string
		ok     func(float64) bool
	}{
		{"fedist_link_up", []string{"peer", "0001", "kind", "tree"}, func(v float64) bool { return v == 1 }},
		{"fedist_link_rtt_seconds", []string{"peer", "0001"}, func(v float64) bool { return v > 0 && v < 1 }},
		{"fedist_link_cost_seconds", []string{"peer", "0001"}, func(v float64) bool { return v > 0 && v < 10 }},
		{"fedist_link_setup_seconds", []string{"peer", "0001"}, func(v float64) bool { return v >= 0 }},
		{"fedist_regions", []string{"status", "active"}, func(v float64) bool { return v == 2 }},
		{"fedist_regions", []string{"status", "down"}, func(v float64) bool { return v == 0 }},
		{"fedist_node_ready", nil, func(v float64) bool { return v == 1 }},
		{"fedist_routes", []string{"step", "tree"}, func(v float64) bool { return v >= 1 }},
		{"fedist_shortcuts", []string{"direction", "opened"}, func(v float64) bool { return v >= 0 }},
		{"fedist_relay_messages_total", nil, func(v float64) bool { return v >= 0 }},
		{"fedist_relay_hop_limit_drops_total", nil, func(v float64) bool { return v == 0 }},
		{"fedist_route_changes_total", nil, func(v float64) bool { return v >= 1 }}, // the first routes count
		{"fedist_link_down_total", nil, func(v float64) bool { return v == 0 }},
		{"fedist_registry_stale", nil, func(v float64) bool { return v == 0 }},
		{"fedist_registry_lag_revisions", nil, func(v float64) bool { return v >= 0 }},
		{"fedist_registry_writer", nil, func(v float64) bool { return v == 0 }}, // a child node
		{"fedist_id_blocks_claimed_total", nil, func(v float64) bool { return v >= 0 }},
		{"fedist_replication_enabled", nil, func(v float64) bool { return v == 1 }},
		{"fedist_replication_hit_ratio", nil, func(v float64) bool { return v >= 0 && v <= 1 }},
		{"fedist_replication_store_max_bytes", nil, func(v float64) bool { return v > 0 }},
		{"fedist_replication_store_bytes", nil, func(v float64) bool { return v >= 0 }},
		{"fedist_replication_lag_p99_seconds", nil, func(v float64) bool { return v >= 0 }},
		{"fedist_nats_connections", nil, func(v float64) bool { return v >= 1 }},
		{"fedist_nats_leafnodes", nil, func(v float64) bool { return v >= 1 }},
		{"fedist_nats_in_messages_total", nil, func(v float64) bool { return v > 0 }},
		{"fedist_nats_out_bytes_total", nil, func(v float64) bool { return v > 0 }},
		{"fedist_nats_pending_bytes", nil, func(v float64) bool { return v >= 0 }},
		{"go_goroutines", nil, func(v float64) bool { return v > 0 }},
	}
	for _, w := range want {
		v, ok := sample(mfs, w.name, w.labels...)
		if !ok || !w.ok(v) {
			t.Errorf("%s%v = %v (present %v)", w.name, w.labels, v, ok)
		}
	}
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if label(m, "region") != "00a0" || label(m, "node") != "a-1" {
				t.Fatalf("%s: labels %v, want region=00a0 node=a-1", name, m.GetLabel())
			}
		}
	}
}

// lintExposition checks a scrape with `promtool check metrics` when promtool is installed, and
// with promlint (promtool's own linter) otherwise. Either must find no problem.
func lintExposition(t *testing.T, body string) {
	t.Helper()
	if path, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(path, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
		return
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// sample returns the value of the first sample of family name whose labels include the given
// name/value pairs.
func sample(mfs map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			if label(m, labels[i]) != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
		return 0, true
	}
	return 0, false
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
