package topo

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
)

// Region is one region of a topology.
type Region struct {
	ID     regions.RegionID
	Name   string
	Parent regions.RegionID // 0 for the root
	Nodes  int              // servers in the region, at least 1
}

// Links says which region pairs may have direct links. Tree links are always allowed.
type Links struct {
	All   bool        // every pair
	Pairs [][2]string // otherwise these pairs of region names (and the tree links)
}

// Topology is a validated set of regions forming a tree, with an RTT for every allowed link.
type Topology struct {
	// File is the topology file it was loaded from, or "" when built in code.
	File string
	// Warnings lists oddities that did not stop loading, for the caller to show.
	Warnings []string

	regions []Region // in the order given
	idx     map[regions.RegionID]int
	byName  map[string]int
	tree    *regions.Tree
	rtt     [][]float64 // ms between region indices; valid where allowed is true
	allowed [][]bool
	oracle  *oracle
}

// New validates regions, takes the RTT of every allowed pair from m, and builds the topology. A nil
// links allows every pair.
func New(rs []Region, m *Matrix, links *Links) (*Topology, error) {
	if links == nil {
		links = &Links{All: true}
	}
	t := &Topology{
		regions: append([]Region(nil), rs...),
		idx:     make(map[regions.RegionID]int, len(rs)),
		byName:  make(map[string]int, len(rs)),
	}
	entries := make([]*regions.Entry, 0, len(rs))
	for i, r := range rs {
		switch {
		case r.Name == "":
			return nil, fmt.Errorf("%w: region %s has no name", ErrTopology, r.ID)
		case strings.ContainsAny(r.Name, " \t\n"):
			return nil, fmt.Errorf("%w: region name %q contains whitespace", ErrTopology, r.Name)
		case r.Nodes < 1 || r.Nodes > 9:
			return nil, fmt.Errorf("%w: region %q: nodes %d; want 1 to 9", ErrTopology, r.Name, r.Nodes)
		case !m.Has(r.Name):
			return nil, fmt.Errorf("%w: region %q is not in the RTT matrix (its regions: %s)",
				ErrTopology, r.Name, strings.Join(m.Names(), ", "))
		}
		if j, dup := t.byName[r.Name]; dup {
			return nil, fmt.Errorf("%w: region name %q is used by %s and %s", ErrTopology, r.Name, rs[j].ID, r.ID)
		}
		t.byName[r.Name] = i
		t.idx[r.ID] = i
		entries = append(entries, &regions.Entry{ID: r.ID, Name: r.Name, Parent: r.Parent})
	}
	tree, err := regions.NewTree(entries)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTopology, err)
	}
	t.tree = tree
	n := len(rs)
	t.allowed = make([][]bool, n)
	t.rtt = make([][]float64, n)
	for i := range n {
		t.allowed[i] = make([]bool, n)
		t.rtt[i] = make([]float64, n)
	}
	allow := func(a, b int) { t.allowed[a][b], t.allowed[b][a] = true, true }
	for _, p := range links.Pairs {
		a, ok1 := t.byName[p[0]]
		b, ok2 := t.byName[p[1]]
		switch {
		case !ok1 || !ok2:
			return nil, fmt.Errorf("%w: link %s-%s names a region that is not in the topology", ErrTopology, p[0], p[1])
		case a == b:
			return nil, fmt.Errorf("%w: link %s-%s joins a region to itself", ErrTopology, p[0], p[1])
		}
		allow(a, b)
	}
	var unlisted []string
	for i, r := range rs {
		if r.Parent == 0 {
			continue
		}
		p := t.idx[r.Parent]
		if !links.All && len(links.Pairs) > 0 && !t.allowed[i][p] {
			unlisted = append(unlisted, r.Name+"-"+rs[p].Name)
		}
		allow(i, p)
	}
	if len(unlisted) > 0 {
		t.Warnings = append(t.Warnings, fmt.Sprintf("links does not list the tree link(s) %s; they are allowed anyway, the tree is built on them",
			strings.Join(unlisted, ", ")))
	}
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			if links.All {
				t.allowed[i][j] = true
			}
			if !t.allowed[i][j] {
				continue
			}
			ms, ok := m.RTT(rs[i].Name, rs[j].Name)
			if !ok {
				kind := "an allowed link"
				if rs[i].Parent == rs[j].ID || rs[j].Parent == rs[i].ID {
					kind = "a tree link"
				}
				return nil, fmt.Errorf("%w: no RTT between %s and %s, %s; add it to the RTT CSV or leave the pair out of links",
					ErrTopology, rs[i].Name, rs[j].Name, kind)
			}
			t.rtt[i][j] = ms
		}
	}
	t.Warnings = append(t.Warnings, m.Warnings...)
	t.oracle = newOracle(t)
	return t, nil
}

// Regions returns the regions in the order given.
func (t *Topology) Regions() []Region { return append([]Region(nil), t.regions...) }

// Len returns the number of regions.
func (t *Topology) Len() int { return len(t.regions) }

// Region returns region id, and false when it is not in the topology.
func (t *Topology) Region(id regions.RegionID) (Region, bool) {
	i, ok := t.idx[id]
	if !ok {
		return Region{}, false
	}
	return t.regions[i], true
}

// ByName returns the region called name, and false when there is none.
func (t *Topology) ByName(name string) (Region, bool) {
	i, ok := t.byName[name]
	if !ok {
		return Region{}, false
	}
	return t.regions[i], true
}

// Name returns region id's name, or its ID in hex when it is unknown.
func (t *Topology) Name(id regions.RegionID) string {
	if r, ok := t.Region(id); ok {
		return r.Name
	}
	return id.String()
}

// Tree returns the region tree.
func (t *Topology) Tree() *regions.Tree { return t.tree }

// Allowed reports whether a and b may have a direct link.
func (t *Topology) Allowed(a, b regions.RegionID) bool {
	i, ok1 := t.idx[a]
	j, ok2 := t.idx[b]
	return ok1 && ok2 && t.allowed[i][j]
}

// AllowedLinks returns every allowed pair once, with a < b, in ascending order.
func (t *Topology) AllowedLinks() [][2]regions.RegionID {
	var out [][2]regions.RegionID
	ids := t.tree.Regions()
	for x, a := range ids {
		for _, b := range ids[x+1:] {
			if t.Allowed(a, b) {
				out = append(out, [2]regions.RegionID{a, b})
			}
		}
	}
	return out
}

// LinkRTT returns the RTT of the direct link between a and b in milliseconds, and false when the
// pair may not have a direct link.
func (t *Topology) LinkRTT(a, b regions.RegionID) (float64, bool) {
	if !t.Allowed(a, b) {
		return 0, false
	}
	return t.rtt[t.idx[a]][t.idx[b]], true
}

// TreeRTT returns the sum of link RTTs along the tree path from a to b, in milliseconds.
func (t *Topology) TreeRTT(a, b regions.RegionID) (float64, error) {
	path, err := t.tree.TreePath(a, b)
	if err != nil {
		return 0, err
	}
	sum := 0.0
	for k := 1; k < len(path); k++ {
		ms, _ := t.LinkRTT(path[k-1], path[k]) // tree links are always allowed and carry an RTT
		sum += ms
	}
	return sum, nil
}

// Ms turns milliseconds into a Duration, rounded to the microsecond.
func Ms(ms float64) time.Duration {
	return time.Duration(ms*1000+0.5) * time.Microsecond
}
