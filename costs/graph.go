package costs

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/fedist/fedist/regions"
)

// ErrEdge reports an edge that SetEdges refused (and dropped).
var ErrEdge = errors.New("bad link-state edge")

// Graph is the link-state graph: the out-edges every region advertises, as that region sees them.
//
// Edges are directed and owned by their source: u→v exists only if u advertises it, whether or not v
// advertises v→u, and its cost is u's view. A region holds at most one edge per (To, Kind), so a
// tree link and a shortcut between the same two regions are two edges. Down edges are kept (they
// say the link exists) but routing never uses them.
//
// A Graph is a value the caller owns: it is not safe for concurrent use. Clone it to hand a
// snapshot to another goroutine.
type Graph struct {
	out map[regions.RegionID][]Edge // sorted by (To, Kind)
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{out: make(map[regions.RegionID][]Edge)}
}

// SetEdges replaces every edge of from with edges. The region is listed by Regions afterwards, even
// with no edges (it advertised that it has none). An edge whose From is not from, whose To is from
// or invalid, whose Kind is unknown, whose cost is negative, NaN or infinite, or which repeats an
// earlier (To, Kind) is dropped; the others are kept and the error (wrapping ErrEdge) names the
// first one dropped.
func (g *Graph) SetEdges(from regions.RegionID, edges []Edge) error {
	kept := make([]Edge, 0, len(edges))
	var bad error
	for _, e := range edges {
		err := checkEdge(from, e)
		if err == nil && slices.ContainsFunc(kept, func(k Edge) bool { return k.To == e.To && k.Kind == e.Kind }) {
			err = fmt.Errorf("%w: %s: second %s edge to %s", ErrEdge, from, e.Kind, e.To)
		}
		if err != nil {
			if bad == nil {
				bad = err
			}
			continue
		}
		kept = append(kept, e)
	}
	slices.SortFunc(kept, compareEdges)
	g.out[from] = kept
	return bad
}

func checkEdge(from regions.RegionID, e Edge) error {
	switch {
	case e.From != from:
		return fmt.Errorf("%w: %s advertised an edge from %s", ErrEdge, from, e.From)
	case e.To == from || !e.To.Valid():
		return fmt.Errorf("%w: %s: edge to %s", ErrEdge, from, e.To)
	case e.Kind != Tree && e.Kind != Shortcut:
		return fmt.Errorf("%w: %s→%s: kind %d", ErrEdge, from, e.To, e.Kind)
	case e.Cost < 0 || math.IsNaN(e.Cost) || math.IsInf(e.Cost, 0):
		return fmt.Errorf("%w: %s→%s: cost %v", ErrEdge, from, e.To, e.Cost)
	}
	return nil
}

func compareEdges(a, b Edge) int {
	return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(a.Kind, b.Kind))
}

// Remove drops region from and all its edges (edges other regions advertise towards it stay).
func (g *Graph) Remove(from regions.RegionID) { delete(g.out, from) }

// Regions returns the regions that advertised edges, sorted.
func (g *Graph) Regions() []regions.RegionID {
	return slices.Sorted(maps.Keys(g.out))
}

// Edges returns a copy of from's edges, sorted by To then Kind.
func (g *Graph) Edges(from regions.RegionID) []Edge { return slices.Clone(g.out[from]) }

// Edge returns from's edge to to of the given kind, up or down.
func (g *Graph) Edge(from, to regions.RegionID, kind Kind) (Edge, bool) {
	es := g.out[from]
	i, ok := slices.BinarySearchFunc(es, Edge{To: to, Kind: kind}, compareEdges)
	if !ok {
		return Edge{}, false
	}
	return es[i], true
}

// Clone returns a deep copy.
func (g *Graph) Clone() *Graph {
	c := &Graph{out: make(map[regions.RegionID][]Edge, len(g.out))}
	for r, es := range g.out {
		c.out[r] = slices.Clone(es)
	}
	return c
}
