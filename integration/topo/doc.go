// Package topo reads a WAN lab topology: the region tree, the regions' nodes, which region pairs may
// have direct links, and the round-trip times between regions. It computes the two references the lab
// compares against: the tree path RTT and the oracle, the shortest-path RTT over the allowed links.
//
// A topology file is JSON:
//
//	{"regions": [{"id": "0001", "name": "us-east-1", "parent": ""},
//	             {"id": "00a0", "name": "eu-west-1", "parent": "0001", "nodes": 1}],
//	 "rtt_csv": "rtt.csv",
//	 "links": "all"}
//
// parent is the parent's ID (or its name); nodes defaults to 1. rtt_csv is resolved against the
// file's own folder. links is "all" (the default), "tree", or a list of name pairs such as
// [["us-east-1","eu-west-1"]]. An optional "comment" holds free text. Tree links are always allowed, whatever links says: the federation is
// built on them. Every allowed link needs an RTT in the CSV.
//
// The RTT CSV has a header row of region names (its first cell is ignored) and one row per region
// whose first cell is the region's name; values are milliseconds, and an empty cell means unknown.
// RTT is symmetric: when both directions are given and differ, the mean is used and a warning is
// recorded. The CSV may cover more regions than the topology uses.
//
// A Topology is immutable once built. This package starts nothing and opens no socket.
package topo
