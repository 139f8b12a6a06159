package node

import (
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// TestLiveFromReports decides liveness from link reports alone: a region is live through a live
// parent node only, both links count (on one node or split over two), and old reports count for
// nothing.
func TestLiveFromReports(t *testing.T) {
	tree, err := regions.NewTree([]*regions.Entry{
		{ID: rootID, Name: "root"},
		{ID: aID, Name: "a", Parent: rootID},
		{ID: a1ID, Name: "a1", Parent: aID},
		{ID: bID, Name: "b", Parent: rootID},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	ttl := 2 * time.Second
	reports := map[string]linkState{
		// root's own node sees a's node a1n; b's node only with its FeDist link here…
		"fd-0001-r1": {region: rootID, node: "r1", at: now,
			children: map[regions.RegionID][]string{aID: {"an"}},
			partial:  map[regions.RegionID]map[string]uint8{bID: {"bn": uint8(broker.LinkBoth &^ broker.LinkApp)}}},
		// …and its app link on the root's second node.
		"fd-0001-r2": {region: rootID, node: "r2", at: now,
			partial: map[regions.RegionID]map[string]uint8{bID: {"bn": uint8(broker.LinkApp)}}},
		// a reports a1, but that report is old.
		"fd-00a0-an": {region: aID, node: "an", at: now.Add(-3 * time.Second),
			children: map[regions.RegionID][]string{a1ID: {"a1n"}}},
	}
	live := liveFrom(reports, tree, "r1", ttl, now)
	if !live[aID]["an"] || !live[bID]["bn"] {
		t.Fatalf("a and b should be live: %v", live)
	}
	if live[a1ID]["a1n"] {
		t.Fatal("a1 live from a report older than the TTL")
	}
	reports["fd-00a0-an"] = linkState{region: aID, node: "an", at: now, children: map[regions.RegionID][]string{a1ID: {"a1n"}}}
	if live := liveFrom(reports, tree, "r1", ttl, now); !live[a1ID]["a1n"] {
		t.Fatal("a1 not live from a fresh report of its live parent")
	}
	delete(reports, "fd-0001-r2") // b's app link is gone
	delete(reports, "fd-0001-r1") // and the root no longer sees a: a1 goes with it
	if live := liveFrom(reports, tree, "r1", ttl, now); live[bID]["bn"] || live[a1ID]["a1n"] {
		t.Fatalf("b with one link, or a1 below a dead a, counted live: %v", live)
	}
}
