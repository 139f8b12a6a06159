package topo

import (
	"fmt"

	"github.com/fedist/fedist/regions"
	"gonum.org/v1/gonum/graph/path"
	"gonum.org/v1/gonum/graph/simple"
)

// oracle holds the shortest paths over the allowed links, weighted by RTT, for every pair.
type oracle struct {
	paths path.AllShortest
}

func newOracle(t *Topology) *oracle {
	g := simple.NewWeightedUndirectedGraph(0, 0)
	for _, r := range t.regions {
		g.AddNode(simple.Node(r.ID))
	}
	for _, l := range t.AllowedLinks() {
		ms, _ := t.LinkRTT(l[0], l[1])
		g.SetWeightedEdge(g.NewWeightedEdge(simple.Node(l[0]), simple.Node(l[1]), ms))
	}
	return &oracle{paths: path.DijkstraAllPaths(g)}
}

// OracleRTT returns the shortest-path RTT between a and b over the allowed links, in milliseconds:
// the least any routing could achieve on this topology, before processing costs.
func (t *Topology) OracleRTT(a, b regions.RegionID) (float64, error) {
	if _, ok := t.idx[a]; !ok {
		return 0, fmt.Errorf("oracle %s-%s: %s: %w", a, b, a, regions.ErrUnknownRegion)
	}
	if _, ok := t.idx[b]; !ok {
		return 0, fmt.Errorf("oracle %s-%s: %s: %w", a, b, b, regions.ErrUnknownRegion)
	}
	if a == b {
		return 0, nil
	}
	return t.oracle.paths.Weight(int64(a), int64(b)), nil
}

// OraclePath returns one shortest path from a to b over the allowed links, both ends included.
func (t *Topology) OraclePath(a, b regions.RegionID) ([]regions.RegionID, error) {
	if _, err := t.OracleRTT(a, b); err != nil {
		return nil, err
	}
	if a == b {
		return []regions.RegionID{a}, nil
	}
	nodes, _, _ := t.oracle.paths.Between(int64(a), int64(b))
	out := make([]regions.RegionID, len(nodes))
	for i, n := range nodes {
		out[i] = regions.RegionID(n.ID())
	}
	return out, nil
}
