package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// twoNodeB starts root ← A1-less tree: root, A under root, and B on two clustered nodes.
func twoNodeB(t *testing.T) (root, a, b1, b2 *node.Node) {
	root = runNode(t, nodeConfig(t, rootID, "r1", "root", nil))
	p1, p2 := freePortT(t), freePortT(t)
	routes := []string{fmt.Sprintf("127.0.0.1:%d", p1), fmt.Sprintf("127.0.0.1:%d", p2)}
	c1 := nodeConfig(t, bID, "b1", "b", root)
	c1.Broker.ClusterHost, c1.Broker.ClusterPort, c1.Broker.Routes = "127.0.0.1", p1, routes
	c2 := nodeConfig(t, bID, "b2", "b", root)
	c2.Broker.ClusterHost, c2.Broker.ClusterPort, c2.Broker.Routes = "127.0.0.1", p2, routes
	b1, b2 = startNode(t, c1), startNode(t, c2)
	a = runNode(t, nodeConfig(t, aID, "a1", "a", root))
	runWait(t, b1)
	runWait(t, b2)
	return root, a, b1, b2
}

func connectURL(t *testing.T, urls string) *Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, urls)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestTwoNodeRegion checks exactly-once delivery into a two-node region, lookups served from either
// node, and that losing one node leaves the other serving, with clients reconnecting to it.
func TestTwoNodeRegion(t *testing.T) {
	_, a, b1, b2 := twoNodeB(t)
	both := b1.Broker().ClientURL() + "," + b2.Broker().ClientURL()

	// One subscriber on each node and a queue group across both.
	subject := overlay.Subject(bID, "orders")
	// Probes are counted apart: one still in flight over the other node's route when counting starts
	// must not look like a duplicate.
	var on1, on2, queued, probes1, probes2 atomic.Int64
	s1, s2 := connectURL(t, b1.Broker().ClientURL()), connectURL(t, b2.Broker().ClientURL())
	count := func(counter, probes *atomic.Int64) nats.MsgHandler {
		return func(m *nats.Msg) {
			if string(m.Data) == "probe" {
				if probes != nil {
					probes.Add(1)
				}
				return
			}
			counter.Add(1)
		}
	}
	for _, x := range []struct {
		c       *Client
		counter *atomic.Int64
		probes  *atomic.Int64
	}{{s1, &on1, &probes1}, {s2, &on2, &probes2}} {
		if _, err := x.c.Subscribe(subject, "", count(x.counter, x.probes)); err != nil {
			t.Fatal(err)
		}
		if _, err := x.c.Subscribe(subject, "q", count(&queued, nil)); err != nil {
			t.Fatal(err)
		}
		if err := x.c.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Lookups served only on b2 reach it from A through whichever node holds the link.
	if _, err := s2.Serve("users", users); err != nil {
		t.Fatal(err)
	}
	pub := connectURL(t, a.Broker().ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, err := pub.Lookup(lctx, "users", regions.NewID(bID, 1))
		if err != nil {
			t.Logf("lookup: %v", err)
		}
		return err
	})
	// Both subscriptions must be known upstream before counting starts: probe until each node's
	// subscriber has seen one, then start from zero.
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if err := pub.Publish(subject, []byte("probe")); err != nil {
			return err
		}
		if probes1.Load() == 0 || probes2.Load() == 0 {
			return fmt.Errorf("probes seen: b1 %d, b2 %d", probes1.Load(), probes2.Load())
		}
		return nil
	})
	const n = 3000
	for i := range n {
		if err := pub.Publish(subject, fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.Lookup(ctx, "users", regions.NewID(bID, 1)); err != nil { // flushes the path
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if on1.Load() < n || on2.Load() < n || queued.Load() < n {
			return fmt.Errorf("b1 %d, b2 %d, queue %d of %d", on1.Load(), on2.Load(), queued.Load(), n)
		}
		return nil
	})
	if _, err := pub.Lookup(ctx, "users", regions.NewID(bID, 2)); err != nil {
		t.Fatal(err)
	}
	if on1.Load() != n || on2.Load() != n || queued.Load() != n {
		t.Fatalf("duplicates: b1 %d, b2 %d, queue %d; want %d each", on1.Load(), on2.Load(), queued.Load(), n)
	}

	// A server that knows both URLs survives losing b1.
	srv := connectURL(t, both)
	if _, err := srv.Serve("orders", users); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { // until the interest reaches A
		_, err := pub.Lookup(ctx, "orders", regions.NewID(bID, 3))
		return err
	})
	start := time.Now()
	if err := b1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("b1 shut down in %v", time.Since(start))
	// The responder reconnects to b2; lookups work again, and B is never marked down.
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		got, err := pub.Lookup(lctx, "orders", regions.NewID(bID, 3))
		if err != nil {
			return err
		}
		if string(got) != "user-3" {
			return fmt.Errorf("got %q", got)
		}
		return nil
	})
	t.Logf("lookups served again %v after b1 began shutting down", time.Since(start))
	if !strings.Contains(srv.Conn().ConnectedUrl(), fmt.Sprint(b2.Broker().ClientURL()[len("nats://"):])) {
		t.Fatalf("responder connected to %s, want b2 %s", srv.Conn().ConnectedUrl(), b2.Broker().ClientURL())
	}
	if st, _ := pub.Registry().Status(bID); st != regions.StatusActive {
		t.Fatalf("B is %s after losing one of two nodes", st)
	}
	if _, err := pub.Lookup(ctx, "nothing", regions.NewID(bID, 3)); !errors.Is(err, ErrNoResponder) {
		t.Fatalf("lookup with no responder on the surviving node: %v", err)
	}
}
