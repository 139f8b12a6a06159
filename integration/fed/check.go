package fed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/fedist/fedist/regions"
)

// ErrBypass is returned by CheckLinks when a server reaches its parent without going through the
// emulated link.
var ErrBypass = errors.New("leafnode link bypasses the WAN emulator")

// CheckLinks checks that every running child server's leafnode connection to its parent goes
// through an emulated link, and not straight to the parent's real address. Figures measured while
// it fails are meaningless. (A nats-server leafnode remote learns its hub's real URLs from the
// hub's INFO and, unless told to ignore them, may reconnect there.)
func (f *Federation) CheckLinks() error {
	var errs []error
	for _, r := range f.top.Regions() {
		if r.Parent == 0 {
			continue
		}
		links := f.net.LinkAddrs(r.ID, r.Parent)
		for _, srv := range f.Servers(r.ID) {
			lz, err := srv.Leafz(nil)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, l := range lz.Leafs {
				addr := net.JoinHostPort(l.IP, strconv.Itoa(l.Port))
				if l.IsSpoke && !slices.Contains(links, addr) {
					errs = append(errs, fmt.Errorf("%s (%s) reaches its parent %s at %s, not through its links %v: %w",
						srv.Name(), r.Name, f.top.Name(r.Parent), addr, links, ErrBypass))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Connected reports whether region r runs and reaches the root over the tree: every region on its
// path to the root runs, and no link on that path is cut. Only a connected region's registry
// mirror follows the root.
func (f *Federation) Connected(r regions.RegionID) bool {
	path, err := f.top.Tree().PathToRoot(r)
	if err != nil {
		return false
	}
	for i, x := range path {
		if !f.Running(x) || (i > 0 && f.net.IsCut(path[i-1], x)) {
			return false
		}
	}
	return true
}

// WaitStatus waits until region r has status want in the registry mirrors of the regions in (all
// connected regions when none are given). It returns at once in ModeNATS, which has no registry.
func (f *Federation) WaitStatus(ctx context.Context, r regions.RegionID, want regions.Status, in ...regions.RegionID) error {
	return f.waitViews(ctx, in, func(v viewReader) error {
		st, ok := v.Status(r)
		if !ok || st != want {
			return fmt.Errorf("%s is %q, want %q", f.top.Name(r), st, want)
		}
		return nil
	})
}

// WaitConverged waits until every connected region is active in the registry mirror of every
// connected region. It returns at once in ModeNATS.
func (f *Federation) WaitConverged(ctx context.Context) error {
	return f.waitViews(ctx, nil, func(v viewReader) error {
		for _, r := range f.top.Regions() {
			if !f.Connected(r.ID) {
				continue
			}
			if st, ok := v.Status(r.ID); !ok || st != regions.StatusActive {
				return fmt.Errorf("%s is %q, want active", r.Name, st)
			}
		}
		return nil
	})
}

type viewReader interface {
	Status(regions.RegionID) (regions.Status, bool)
}

// waitViews polls cond on the views of the nodes of the regions in (every connected region when
// in is empty) until it holds on all of them or ctx ends.
func (f *Federation) waitViews(ctx context.Context, in []regions.RegionID, cond func(viewReader) error) error {
	if f.cfg.Mode != ModeFeDist {
		return nil
	}
	for {
		var err error
		for _, r := range f.observers(in) {
			for _, n := range f.Nodes(r) {
				if e := cond(n.View()); e != nil {
					err = fmt.Errorf("in %s's mirror (node %s): %w", f.top.Name(r), n.Broker().Name(), e)
					break
				}
			}
			if err != nil {
				break
			}
		}
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (f *Federation) observers(in []regions.RegionID) []regions.RegionID {
	if len(in) > 0 {
		return in
	}
	var out []regions.RegionID
	for _, r := range f.top.Regions() {
		if f.Connected(r.ID) {
			out = append(out, r.ID)
		}
	}
	return out
}
