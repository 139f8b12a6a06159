package node

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// threeNodeRoot starts the root region on three clustered nodes with an R3 registry.
func threeNodeRoot(t *testing.T) []*Node {
	t.Helper()
	nodes, _ := threeNodeRootConfigs(t)
	return nodes
}

// threeNodeRootConfigs is threeNodeRoot, also returning each node's config for a restart.
func threeNodeRootConfigs(t *testing.T) ([]*Node, []Config) {
	t.Helper()
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("127.0.0.1:%d", p))
	}
	var nodes []*Node
	var cfgs []Config
	for i, p := range ports {
		c := fastConfig(t, rootID, fmt.Sprintf("r%d", i+1), "root", nil)
		c.Broker.ClusterHost, c.Broker.ClusterPort, c.Broker.Routes = "127.0.0.1", p, routes
		c.Replicas = 3
		nodes = append(nodes, startNode(t, c))
		cfgs = append(cfgs, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return nodes, cfgs
}

// writer returns the root node that is the elected registry writer, checking there is one only.
func writer(nodes []*Node) (*Node, error) {
	var w *Node
	for _, n := range nodes {
		if n == nil || n.root == nil || !n.root.elected() {
			continue
		}
		if w != nil {
			return nil, fmt.Errorf("two writers: %s and %s", w.Broker().Name(), n.Broker().Name())
		}
		w = n
	}
	if w == nil {
		return nil, fmt.Errorf("no registry writer elected")
	}
	return w, nil
}

// TestRootSurvivesLosingWriter: the root runs on three nodes with an R3 registry. Joins are
// acknowledged, the elected writer is stopped, another node takes over, joins go on, and every
// acknowledged join is still in the registry; a child region under the root is never marked down.
func TestRootSurvivesLosingWriter(t *testing.T) {
	roots := threeNodeRoot(t)
	var leafURLs []string
	for _, r := range roots {
		leafURLs = append(leafURLs, r.Broker().LeafURL())
	}
	bc := fastConfig(t, bID, "b1", "b", roots[0])
	bc.Broker.ParentURLs = leafURLs
	b := runNode(t, bc)

	acked := map[regions.RegionID]bool{}
	join := func(via *Node, i int) bool {
		id := regions.RegionID(0x0f00 + i)
		rep, err := tryJoin(via, JoinRequest{ID: id.String(), Name: fmt.Sprintf("x%d", i), Parent: bID.String(), Node: "x"})
		if err == nil && rep.OK {
			acked[id] = true
			return true
		}
		t.Logf("join %d: %+v, %v", i, rep, err)
		return false
	}
	for i := range 10 {
		if !join(b, i) {
			t.Fatalf("join %d refused before any fault", i)
		}
	}
	var w *Node
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		var err error
		w, err = writer(roots)
		return err
	})
	t.Logf("writer %s; stopping it", w.Broker().Name())
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var rest []*Node
	for _, r := range roots {
		if r != w {
			rest = append(rest, r)
		}
	}
	// Joins go on: keep asking until one is acknowledged by the new writer.
	next := 10
	checkFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		if join(b, next) {
			return nil
		}
		return fmt.Errorf("join %d not acknowledged yet", next)
	})
	t.Logf("joins acknowledged again %v after the writer stopped", time.Since(start))
	for i := next + 1; i < next+10; i++ {
		if !join(b, i) {
			t.Fatalf("join %d refused after the takeover", i)
		}
	}
	nw, err := writer(rest)
	if err != nil {
		t.Fatal(err)
	}
	hasAll := func(n *Node) func() error {
		return func() error {
			for id := range acked {
				if e, _ := n.View().Get(id); e == nil {
					return fmt.Errorf("%s lacks acknowledged join %s", n.Broker().Name(), id)
				}
			}
			return nil
		}
	}
	for _, n := range rest {
		checkFor(t, 10*time.Second, 20*time.Millisecond, hasAll(n))
	}
	// b's mirror is fed by a durable consumer on the R3 registry, which moves with the stream
	// (node/mirror.go); a plain mirror's consumer would be re-created only at nats-server's 10 s
	// stall check (~20 s measured). The bound is generous; the time is logged.
	checkFor(t, 45*time.Second, 50*time.Millisecond, hasAll(b))
	t.Logf("b's registry mirror had every acknowledged join %v after the writer stopped", time.Since(start))
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error { return statusIs(nw.View(), bID, regions.StatusActive) })
	t.Logf("%d acknowledged joins, 0 lost; new writer %s", len(acked), nw.Broker().Name())
}

// tryJoin sends a join request and returns the reply, or the error of a request that got none.
func tryJoin(via *Node, req JoinRequest) (Reply, error) {
	data, _ := json.Marshal(&req)
	msg, err := via.Conn().Request(SubjectJoin, data, 2*time.Second)
	if err != nil {
		return Reply{}, err
	}
	var rep Reply
	err = json.Unmarshal(msg.Data, &rep)
	return rep, err
}

// TestRootNodeRestartKeepsStatuses: a root node that is not the writer restarts on its store. While
// its cluster forms it must not act as the writer (nats-server says "not clustered" then), so no
// region is marked down by it; b stays active throughout.
func TestRootNodeRestartKeepsStatuses(t *testing.T) {
	roots, cfgs := threeNodeRootConfigs(t)
	var leafURLs []string
	for _, r := range roots {
		leafURLs = append(leafURLs, r.Broker().LeafURL())
	}
	bc := fastConfig(t, bID, "b1", "b", roots[0])
	bc.Broker.ParentURLs = leafURLs
	b := runNode(t, bc)
	var w *Node
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		var err error
		w, err = writer(roots)
		return err
	})
	i := 0
	for roots[i] == w {
		i++
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := roots[i].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := startNode(t, cfgs[i])
	if err := restarted.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	holdFor(t, 3*time.Second, func() error { return statusIs(b.View(), bID, regions.StatusActive) })
	if restarted.RegistryWriter() && w.RegistryWriter() {
		t.Fatal("two registry writers after the restart")
	}
}
