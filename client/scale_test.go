package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
)

// mappingCount returns the number of subject mappings in the node's applications' account, and its subscriptions.
func mappingCount(t testing.TB, n *node.Node) (int, uint32) {
	az, err := n.Broker().Server().Accountz(&server.AccountzOptions{Account: broker.AppAccount})
	if err != nil || az.Account == nil {
		t.Fatalf("accountz: %v", err)
	}
	return len(az.Account.Mappings), az.Account.Sublist.NumSubs
}

// TestMappingsDoNotGrow builds a 50-region federation (root, 7 hubs, 42 leaves) and checks that no
// server holds a subject mapping in the applications' account, as in a 5-region one: FeDist adds
// none, and the broker removes JetStream's domain mappings, which every message would otherwise be
// matched against (broker/appmappings.go). A leafnode connection adds them back until the
// broker's next sweep, so each server is given a few sweeps.
func TestMappingsDoNotGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 regions")
	}
	for _, total := range []int{5, 50} {
		nodes := buildWide(t, total)
		var subs uint32
		for _, n := range nodes {
			deadline := time.Now().Add(5 * time.Second)
			for {
				m, s := mappingCount(t, n)
				subs = max(subs, s)
				if m == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d regions: %s holds %d mappings in the applications' account", total, n.Broker().Name(), m)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		t.Logf("%d regions: no mappings in the applications' account, at most %d subscriptions per server", total, subs)
		for _, n := range nodes {
			_ = n.Shutdown(t.Context())
		}
	}
}

// buildWide starts total regions: a root, hubs under it, and leaves spread over the hubs.
func buildWide(t *testing.T, total int) []*node.Node {
	start := time.Now()
	root := runNode(t, nodeConfig(t, 0x0001, "r", "root", nil))
	nodes := []*node.Node{root}
	hubs := min(7, total-1)
	var hubNodes []*node.Node
	for i := range hubs {
		h := startNode(t, nodeConfig(t, regions.RegionID(0x0100+i), "h", fmt.Sprintf("hub-%d", i), root))
		hubNodes = append(hubNodes, h)
		nodes = append(nodes, h)
	}
	for _, h := range hubNodes {
		runWait(t, h)
	}
	for i := 0; len(nodes) < total; i++ {
		parent := hubNodes[i%len(hubNodes)]
		nodes = append(nodes, startNode(t, nodeConfig(t, regions.RegionID(0x1000+i), "l", fmt.Sprintf("leaf-%d", i), parent)))
	}
	for _, n := range nodes {
		runWait(t, n)
	}
	t.Logf("%d regions ready in %v", total, time.Since(start).Round(time.Millisecond))
	return nodes
}
