package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
)

// mappingCount returns the number of subject mappings in the node's account.
func mappingCount(t testing.TB, n *node.Node) (int, uint32) {
	az, err := n.Broker().Server().Accountz(&server.AccountzOptions{Account: server.DEFAULT_GLOBAL_ACCOUNT})
	if err != nil || az.Account == nil {
		t.Fatalf("accountz: %v", err)
	}
	return len(az.Account.Mappings), az.Account.Sublist.NumSubs
}

// TestMappingsDoNotGrow builds a 50-region federation (root, 7 hubs, 42 leaves) and checks that every
// server holds the same small number of subject mappings as in a 5-region one: FeDist adds none,
// so what remains are JetStream's own domain mappings.
func TestMappingsDoNotGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 50 regions")
	}
	counts := map[int]map[int]int{} // regions → mapping count → servers
	for _, total := range []int{5, 50} {
		nodes := buildWide(t, total)
		counts[total] = map[int]int{}
		var subs uint32
		for _, n := range nodes {
			m, s := mappingCount(t, n)
			counts[total][m]++
			subs = max(subs, s)
		}
		t.Logf("%d regions: servers by mapping count %v, at most %d subscriptions per server", total, counts[total], subs)
		for _, n := range nodes {
			_ = n.Shutdown(t.Context())
		}
	}
	if len(counts[50]) != 1 || len(counts[5]) != 1 {
		t.Fatalf("servers disagree on their mapping count: %v", counts)
	}
	for m5 := range counts[5] {
		for m50 := range counts[50] {
			if m5 != m50 || m50 > 12 {
				t.Fatalf("mappings per server: %d with 5 regions, %d with 50", m5, m50)
			}
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
