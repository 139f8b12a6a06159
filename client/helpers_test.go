package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, testutil.NATSLeakIgnores()...)
}

const (
	rootID regions.RegionID = 0x0001
	aID    regions.RegionID = 0x00a0
	a1ID   regions.RegionID = 0x00a1
	bID    regions.RegionID = 0x00b0
)

func testLog(t *testing.T) zerolog.Logger {
	if testing.Verbose() && os.Getenv("FEDIST_TEST_LOG") != "" {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	}
	return zerolog.Nop()
}

// nodeConfig returns a fast-timing node config under parent (nil for the root).
func nodeConfig(t testing.TB, id regions.RegionID, nodeName, name string, parent *node.Node) node.Config {
	b := broker.DefaultConfig(id, nodeName, t.TempDir())
	if tt, ok := t.(*testing.T); ok {
		b.Log = testLog(tt)
	}
	if parent != nil {
		b.ParentURLs = []string{parent.Broker().LeafURL()}
		b.LeafReconnect = 100 * time.Millisecond
	}
	c := node.DefaultConfig(b, name, 0)
	c.Log = b.Log
	c.PollEvery = 50 * time.Millisecond
	c.ReportEvery = 500 * time.Millisecond
	c.ReportTTL = 2 * time.Second
	c.DownGrace = time.Second
	c.JoinRetry = 100 * time.Millisecond
	return c
}

func startNode(t testing.TB, cfg node.Config) *node.Node {
	n, err := node.Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Broker.Region, err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

func runNode(t testing.TB, cfg node.Config) *node.Node {
	n := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatalf("node %s: %v", cfg.Broker.Region, err)
	}
	return n
}

type fed struct {
	nodes map[regions.RegionID]*node.Node
}

// startTree starts root ← A ← A1 and root ← B and waits until every mirror shows all four active.
func startTree(t testing.TB) *fed { return startTreeWith(t, nil) }

// startTreeWith starts the tree with edit applied to every node's config before it starts.
func startTreeWith(t testing.TB, edit func(*node.Config)) *fed {
	f := &fed{nodes: map[regions.RegionID]*node.Node{}}
	run := func(id regions.RegionID, nodeName, name string, parent *node.Node) *node.Node {
		c := nodeConfig(t, id, nodeName, name, parent)
		if edit != nil {
			edit(&c)
		}
		return runNode(t, c)
	}
	f.nodes[rootID] = run(rootID, "r1", "root", nil)
	f.nodes[aID] = run(aID, "a1", "a", f.nodes[rootID])
	f.nodes[bID] = run(bID, "b1", "b", f.nodes[rootID])
	f.nodes[a1ID] = run(a1ID, "a11", "a-one", f.nodes[aID])
	f.waitActive(t, rootID, aID, a1ID, bID)
	return f
}

func (f *fed) waitActive(t testing.TB, ids ...regions.RegionID) {
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for _, n := range f.nodes {
			for _, id := range ids {
				if st, _ := n.View().Status(id); st != regions.StatusActive {
					return fmt.Errorf("%s sees %s as %q", n.Broker().Name(), id, st)
				}
			}
		}
		return nil
	})
}

// connect opens a Client on region r's node.
func (f *fed) connect(t testing.TB, r regions.RegionID) *Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Connect(ctx, f.nodes[r].Broker().ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func checkFor(t testing.TB, total, step time.Duration, fn func() error) {
	t.Helper()
	testutil.CheckFor(t, total, step, fn)
}

func freePortT(t testing.TB) int {
	p, err := broker.PickPort("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runWait(t testing.TB, n *node.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := n.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// plain connects a plain nats.go client to region r's node, with the region's inbox prefix, and
// returns it with the channel its asynchronous errors (permission violations) arrive on.
func (f *fed) plain(t testing.TB, r regions.RegionID, opts ...nats.Option) (*nats.Conn, chan error) {
	errs := make(chan error, 16)
	opts = append([]nats.Option{nats.CustomInboxPrefix(overlay.InboxPrefix(r)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })}, opts...)
	nc, err := nats.Connect(f.nodes[r].Broker().ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
}

// expectDenied waits for the permissions violation that names subject (or one of or).
func expectDenied(t testing.TB, errs chan error, subject string, or ...string) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case err := <-errs:
			if errors.Is(err, nats.ErrPermissionViolation) {
				for _, s := range append([]string{subject}, or...) {
					if strings.Contains(err.Error(), `"`+s+`"`) {
						return
					}
				}
			}
			t.Logf("other asynchronous error: %v", err)
		case <-timeout:
			t.Fatalf("%s: no permissions violation", subject)
		}
	}
}
