package node

import (
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestSplitChildLinksKeepRegionLive: a child's two leafnode links (FeDist's account and the
// applications') may land on different nodes of a two-node parent region. Each parent node then
// reports one (Partial); the root adds them up and keeps the child live. One link alone, or both
// vouched for by a parent node that is not live, does not.
func TestSplitChildLinksKeepRegionLive(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	const root, a, a1 regions.RegionID = 0x0001, 0x00a0, 0x00a1
	tree, err := regions.NewTree([]*regions.Entry{
		{ID: root, Name: "root", Status: regions.StatusActive},
		{ID: a, Name: "a", Parent: root, Status: regions.StatusActive, Nodes: []regions.Node{{Name: "a1n"}, {Name: "a2n"}}},
		{ID: a1, Name: "a1", Parent: a, Status: regions.StatusActive, Nodes: []regions.Node{{Name: "x"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rootLinks := linkState{region: root, node: "r", at: now,
		children: map[regions.RegionID][]string{a: {"a1n", "a2n"}}}
	split := func() map[string]linkState {
		return map[string]linkState{
			"fd-0001-r":   rootLinks,
			"fd-00a0-a1n": {region: a, node: "a1n", at: now, partial: map[regions.RegionID]map[string]uint8{a1: {"x": 1}}},
			"fd-00a0-a2n": {region: a, node: "a2n", at: now, partial: map[regions.RegionID]map[string]uint8{a1: {"x": 2}}},
		}
	}
	s := &rootService{n: &Node{cfg: Config{ReportTTL: 7 * time.Second}}}
	s.n.cfg.Broker.Node = "r"

	s.reports = split()
	if live := s.liveNodes(tree, now); !live[a1]["x"] {
		t.Fatalf("links split over a's two nodes: a1 not live: %v", live)
	}

	s.reports = split()
	delete(s.reports, "fd-00a0-a2n") // only FeDist's link is left
	if live := s.liveNodes(tree, now); live[a1]["x"] {
		t.Fatalf("one link of two made a1 live: %v", live)
	}

	s.reports = split()
	rl := rootLinks
	rl.children = map[regions.RegionID][]string{a: {"a1n"}} // a2n lost its own parent link
	s.reports["fd-0001-r"] = rl
	if live := s.liveNodes(tree, now); live[a1]["x"] {
		t.Fatalf("a link vouched for by a node that is not live made a1 live: %v", live)
	}
}
