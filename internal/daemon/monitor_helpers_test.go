package daemon

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// monitored is one in-process node with its monitoring server.
type monitored struct {
	n   *node.Node
	url string // http://host:port
}

// startMonitored starts a node of region id (a root when parent is nil) with timings tightened for
// loopback, and its Monitor on any free port; both stop when the test ends. With wait it returns
// once the node is ready.
func startMonitored(t *testing.T, id regions.RegionID, name string, parentLeafURL string, wait bool) *monitored {
	t.Helper()
	return startMonitoredNode(t, id, name, name+"-1", parentLeafURL, wait)
}

// startMonitoredNode is startMonitored with the node's name given (a region's name may hold
// characters a node name may not).
func startMonitoredNode(t *testing.T, id regions.RegionID, name, nodeName, parentLeafURL string, wait bool) *monitored {
	t.Helper()
	b := broker.DefaultConfig(id, nodeName, t.TempDir())
	b.Log = zerolog.Nop()
	if parentLeafURL != "" {
		b.ParentURLs = []string{parentLeafURL}
		b.LeafReconnect = 100 * time.Millisecond
	}
	cfg := node.DefaultConfig(b, name, 0)
	cfg.Log = zerolog.Nop()
	cfg.PollEvery = 50 * time.Millisecond
	cfg.ReportEvery = 500 * time.Millisecond
	cfg.ReportTTL = 2 * time.Second
	cfg.DownGrace = time.Second
	cfg.JoinRetry = 100 * time.Millisecond
	cfg.DrainWait = 100 * time.Millisecond
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	mon, err := StartMonitor("127.0.0.1:0", n, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mon.Shutdown(context.Background()) })
	if wait {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := n.WaitReady(ctx); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return &monitored{n: n, url: "http://" + mon.Addr()}
}

// startPair starts a root (0001) and a child region (00a0) under it, both ready.
func startPair(t *testing.T) (root, child *monitored) {
	t.Helper()
	root = startMonitored(t, 0x0001, "root", "", true)
	child = startMonitored(t, 0x00a0, "a", root.n.Broker().LeafURL(), true)
	return root, child
}

// do sends one request to m and returns the status and the body.
func (m *monitored) do(t *testing.T, method, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, m.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(body), resp.Header
}
