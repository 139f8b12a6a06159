package node

import (
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// liveFrom decides liveness from link reports alone, with no server: for every region reachable
// from the root through live links, the set of its nodes that hold a leafnode link to a live node
// of its parent. self is the deciding root node, live by definition; reports older than ttl count
// for nothing.
func liveFrom(reports map[string]linkState, tree *regions.Tree, self string, ttl time.Duration, now time.Time) map[regions.RegionID]map[string]bool {
	root := tree.Root()
	live := map[regions.RegionID]map[string]bool{root: {self: true}}
	for _, st := range reports {
		if st.region == root && now.Sub(st.at) < ttl {
			live[root][st.node] = true
		}
	}
	queue := []regions.RegionID{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		// A child node is live when its two links reach live nodes of p: both the same node
		// (Children), or one each (Partial, added up over p's nodes).
		links := map[regions.RegionID]map[string]broker.LinkAccounts{}
		for _, st := range reports {
			if st.region != p || !live[p][st.node] || now.Sub(st.at) >= ttl {
				continue
			}
			for c, nodes := range st.children {
				for _, nd := range nodes {
					addLink(links, c, nd, broker.LinkBoth)
				}
			}
			for c, nodes := range st.partial {
				for nd, acc := range nodes {
					addLink(links, c, nd, broker.LinkAccounts(acc))
				}
			}
		}
		for c, nodes := range links {
			if e := tree.Entry(c); e == nil || e.Parent != p {
				continue // only a link to its own parent keeps a region live
			}
			for nd, acc := range nodes {
				if acc&broker.LinkBoth != broker.LinkBoth {
					continue
				}
				if live[c] == nil {
					live[c] = map[string]bool{}
					queue = append(queue, c)
				}
				live[c][nd] = true
			}
		}
	}
	return live
}

func addLink(links map[regions.RegionID]map[string]broker.LinkAccounts, c regions.RegionID, nd string, acc broker.LinkAccounts) {
	if links[c] == nil {
		links[c] = map[string]broker.LinkAccounts{}
	}
	links[c][nd] |= acc
}
