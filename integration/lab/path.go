package lab

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/regions"
)

// ErrFdPath wraps every Fd-Path header ExpandPath cannot read.
var ErrFdPath = errors.New("bad Fd-Path header")

// Path is the route one request took, region by region: Regions[0] is the sender's region and the
// last is the destination. Shortcut[i] says whether Regions[i]→Regions[i+1] was a shortcut; every
// other hop was a tree link.
type Path struct {
	Regions  []regions.RegionID
	Shortcut []bool
}

// ExpandPath turns the Fd-Path header of an answer (overlay.HeaderPath: the relays the request
// crossed, "<rrrr>:<t|w|s>,…") into the regions it crossed from from to to. Between a relay marked
// s and the next relay (or to, after the last) the hop is direct; after t or w the message followed
// the tree, so the tree path between the two is filled in. An empty header means the request never
// entered a relay: it took the tree path. When the first relay is not from's own (a client that
// sent into another region's relay) the tree path to it comes first.
func ExpandPath(tree *regions.Tree, from, to regions.RegionID, fdPath string) (Path, error) {
	p := Path{Regions: []regions.RegionID{from}}
	add := func(r regions.RegionID, shortcut bool) { // the hop into r
		p.Regions = append(p.Regions, r)
		p.Shortcut = append(p.Shortcut, shortcut)
	}
	treeTo := func(a, b regions.RegionID) error {
		tp, err := tree.TreePath(a, b)
		if err != nil {
			return fmt.Errorf("%w %q: tree path %s-%s: %w", ErrFdPath, fdPath, a, b, err)
		}
		for _, r := range tp[1:] {
			add(r, false)
		}
		return nil
	}
	if fdPath == "" {
		if err := treeTo(from, to); err != nil {
			return Path{}, err
		}
		return p, nil
	}
	relays, kinds, err := parseFdPath(fdPath)
	if err != nil {
		return Path{}, err
	}
	if relays[0] != from {
		if err := treeTo(from, relays[0]); err != nil {
			return Path{}, err
		}
	}
	for i, r := range relays {
		next := to
		if i+1 < len(relays) {
			next = relays[i+1]
		}
		if kinds[i] == 's' {
			if next == r {
				return Path{}, fmt.Errorf("%w %q: shortcut from %s to itself", ErrFdPath, fdPath, r)
			}
			add(next, true)
			continue
		}
		if err := treeTo(r, next); err != nil {
			return Path{}, err
		}
	}
	return p, nil
}

// parseFdPath splits a non-empty Fd-Path header into its relays and how each sent the message on
// (t, w or s).
func parseFdPath(fdPath string) ([]regions.RegionID, []byte, error) {
	steps := strings.Split(fdPath, ",")
	relays := make([]regions.RegionID, len(steps))
	kinds := make([]byte, len(steps))
	for i, s := range steps {
		id, kind, ok := strings.Cut(s, ":")
		r, err := regions.ParseRegion(id)
		if !ok || err != nil || len(kind) != 1 || !strings.Contains("tws", kind) {
			return nil, nil, fmt.Errorf("%w %q: step %q: want <rrrr>:<t|w|s>", ErrFdPath, fdPath, s)
		}
		relays[i], kinds[i] = r, kind[0]
	}
	return relays, kinds, nil
}

// Relays returns the regions whose relays an Fd-Path header lists, in order; none for "".
func Relays(fdPath string) ([]regions.RegionID, error) {
	if fdPath == "" {
		return nil, nil
	}
	r, _, err := parseFdPath(fdPath)
	return r, err
}

// UsesShortcut reports whether any hop was a shortcut.
func (p Path) UsesShortcut() bool {
	for _, s := range p.Shortcut {
		if s {
			return true
		}
	}
	return false
}

// Uses reports whether the path crossed the link between a and b, in either direction.
func (p Path) Uses(a, b regions.RegionID) bool {
	for i := 1; i < len(p.Regions); i++ {
		x, y := p.Regions[i-1], p.Regions[i]
		if x == a && y == b || x == b && y == a {
			return true
		}
	}
	return false
}

// Relays returns the regions between the ends whose relay handles a message on the path: those
// entered or left over a shortcut (costs.Route.Relays counts the same); with dest, also the
// destination when a shortcut delivers there.
func (p Path) Relays(dest bool) []regions.RegionID {
	var out []regions.RegionID
	n := len(p.Regions)
	for i := 1; i < n-1; i++ {
		if p.Shortcut[i-1] || p.Shortcut[i] {
			out = append(out, p.Regions[i])
		}
	}
	if dest && n > 1 && p.Shortcut[n-2] {
		out = append(out, p.Regions[n-1])
	}
	return out
}

// IDs returns the regions as ID strings.
func (p Path) IDs() []string {
	out := make([]string, len(p.Regions))
	for i, r := range p.Regions {
		out[i] = r.String()
	}
	return out
}
