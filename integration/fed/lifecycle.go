package fed

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/fedist/fedist/regions"
)

// ErrRunning is returned by Restart for a region that is still running.
var ErrRunning = errors.New("region is running")

// startAll starts every region once its parent is ready, StartParallel at a time.
func (f *Federation) startAll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.ReadyTimeout)
	defer cancel()
	tree := f.top.Tree()
	done := make(map[regions.RegionID]chan struct{}, tree.Len())
	for _, r := range tree.Regions() {
		done[r] = make(chan struct{})
	}
	var mu sync.Mutex // guards errs, failed
	var errs []error
	failed := map[regions.RegionID]bool{}
	sem := make(chan struct{}, f.cfg.StartParallel)
	var wg sync.WaitGroup
	for _, r := range tree.Regions() {
		wg.Go(func() {
			defer close(done[r])
			fail := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				failed[r] = true
				if err != nil {
					errs = append(errs, err)
				}
			}
			if p, _ := tree.Parent(r); p != 0 {
				select {
				case <-done[p]:
				case <-ctx.Done():
					fail(fmt.Errorf("region %s: parent %s not ready: %w", f.top.Name(r), f.top.Name(p), ctx.Err()))
					return
				}
				mu.Lock()
				parentFailed := failed[p]
				mu.Unlock()
				if parentFailed {
					fail(nil) // the parent's error says it all
					return
				}
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				fail(fmt.Errorf("region %s: %w", f.top.Name(r), ctx.Err()))
				return
			}
			err := f.startRegion(ctx, r)
			<-sem
			if err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startRegion starts every server of region r, which must not be running, and waits until all are
// ready. Children's leafnode remotes point at the emulated links, never at the parent itself.
func (f *Federation) startRegion(ctx context.Context, r regions.RegionID) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	ms := f.members[r]
	var parentURLs []string
	if p, _ := f.top.Tree().Parent(r); p != 0 {
		for _, pm := range f.members[p] {
			addr, err := f.net.Addr(r, p, pm.leafAddr())
			if err != nil {
				f.mu.Unlock()
				return err
			}
			parentURLs = append(parentURLs, "nats-leaf://"+addr)
		}
	}
	for _, m := range ms {
		if m.run != nil {
			f.mu.Unlock()
			return fmt.Errorf("start %s: %w", f.top.Name(r), ErrRunning)
		}
	}
	f.mu.Unlock()
	// The nodes of a clustered region start together: JetStream needs a quorum before any is ready.
	runs := make([]runner, len(ms))
	for i, m := range ms {
		run, err := f.start(m, parentURLs)
		if err != nil {
			_ = shutdownAll(runs[:i], len(ms))
			return fmt.Errorf("start %s node %s: %w", f.top.Name(r), m.node, err)
		}
		runs[i] = run
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return errors.Join(ErrClosed, shutdownAll(runs, len(runs)))
	}
	for i, m := range ms {
		m.run = runs[i]
		if m.clientPort < 0 {
			m.clientPort, m.leafPort = runs[i].ports()
		}
	}
	f.mu.Unlock()
	for i, run := range runs {
		if err := run.waitReady(ctx); err != nil {
			return fmt.Errorf("region %s node %s: %w", f.top.Name(r), ms[i].node, err)
		}
	}
	return nil
}

// Kill stops every server of region r at once, as a crash would (no leave, no drain). Its store
// and ports are kept for Restart.
func (f *Federation) Kill(r regions.RegionID) error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return ErrClosed
	}
	ms, ok := f.members[r]
	if !ok {
		f.mu.Unlock()
		return fmt.Errorf("kill %s: %w", r, regions.ErrUnknownRegion)
	}
	var runs []runner
	for _, m := range ms {
		if m.run != nil {
			runs = append(runs, m.run)
			m.run = nil
		}
	}
	f.mu.Unlock()
	return shutdownAll(runs, len(ms))
}

// Restart starts region r again on the same store and ports after Kill, and waits until it is
// ready. Its children reconnect to it through their links by themselves.
func (f *Federation) Restart(ctx context.Context, r regions.RegionID) error {
	if _, ok := f.top.Region(r); !ok {
		return fmt.Errorf("restart %s: %w", r, regions.ErrUnknownRegion)
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.ReadyTimeout)
	defer cancel()
	return f.startRegion(ctx, r)
}
