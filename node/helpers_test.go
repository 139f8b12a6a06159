package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// testLog shows node logs only with -v and FEDIST_TEST_LOG=1, to keep failures readable.
func testLog(t *testing.T) zerolog.Logger {
	if testing.Verbose() && lookupEnv("FEDIST_TEST_LOG") {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	}
	return zerolog.Nop()
}

// fastConfig returns a node config with timings tightened for tests on loopback.
func fastConfig(t *testing.T, id regions.RegionID, node, name string, parent *Node) Config {
	t.Helper()
	b := broker.DefaultConfig(id, node, t.TempDir())
	b.Log = testLog(t)
	if parent != nil {
		b.ParentURLs = []string{parent.Broker().LeafURL()}
		b.LeafReconnect = 100 * time.Millisecond
	}
	c := DefaultConfig(b, name, 0)
	c.Log = b.Log
	c.PollEvery = 50 * time.Millisecond
	c.ReportEvery = 500 * time.Millisecond
	c.ReportTTL = 2 * time.Second
	c.DownGrace = time.Second
	c.JoinRetry = 100 * time.Millisecond
	c.DrainWait = 100 * time.Millisecond
	return c
}

// runNode starts a node, registers its shutdown, and waits until it is ready.
func runNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("node %s/%s: %v", cfg.Broker.Region, cfg.Broker.Node, err)
	}
	return n
}

func startNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := Start(cfg)
	if err != nil {
		t.Fatalf("start %s/%s: %v", cfg.Broker.Region, cfg.Broker.Node, err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

// checkFor polls fn until it returns nil or total elapses.
func checkFor(t testing.TB, total, step time.Duration, fn func() error) {
	t.Helper()
	testutil.CheckFor(t, total, step, fn)
}

func statusIs(v *regions.View, r regions.RegionID, want regions.Status) error {
	st, ok := v.Status(r)
	if !ok {
		return fmt.Errorf("%s not in view", r)
	}
	if st != want {
		return fmt.Errorf("%s is %s, want %s", r, st, want)
	}
	return nil
}

func errFmt(format string, a ...any) error { return fmt.Errorf(format, a...) }

// portOf returns the port of a URL like nats-leaf://127.0.0.1:1234.
func portOf(t *testing.T, u string) int {
	t.Helper()
	var port int
	if _, err := fmt.Sscanf(u[strings.LastIndex(u, ":")+1:], "%d", &port); err != nil {
		t.Fatalf("port of %q: %v", u, err)
	}
	return port
}

// freePort picks a port for configs that must name ports up front (see broker.PickPort).
func freePort(t *testing.T) int {
	t.Helper()
	p, err := broker.PickPort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}
