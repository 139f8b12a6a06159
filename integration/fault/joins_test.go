package fault

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// joinWriter joins short-lived regions one after another, each a fedist-node process of its own,
// and records each join: acknowledged once the node logs that the root accepted it (the root
// answers only after its registry write), failed when the node exits refused, unknown when it
// exits otherwise or nothing happened within joinTimeout. Each process is killed with SIGKILL right
// after, so its region stays in the registry (the root marks it down): a join is a registry write
// that must never be lost.
type joinWriter struct {
	h      *History
	parent func() string // the -parent URL(s) of the next join
	dir    string        // the joins' stores
	first  regions.RegionID

	cancel context.CancelFunc
	wg     sync.WaitGroup // the join loop

	mu      sync.Mutex // guards crashes
	crashes []string   // the output of every join process that crashed
}

// joinTimeout bounds one join: the root is back from a restart, or the partition healed, long
// before; a join still pending is killed and counted unknown.
const joinTimeout = 20 * time.Second

// startJoinWriter joins regions first, first+1, ... under parent() until stopped (at the latest
// when the test ends).
func startJoinWriter(t *testing.T, h *History, first regions.RegionID, parent func() string) *joinWriter {
	w := &joinWriter{h: h, parent: parent, dir: t.TempDir(), first: first}
	path := bin(t, "fedist-node")
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { w.run(ctx, path) })
	t.Cleanup(w.stop)
	return w
}

// stop ends the loop, kills the join in progress, and waits; it is idempotent.
func (w *joinWriter) stop() {
	w.cancel()
	w.wg.Wait()
}

// checkCrashes fails the test for every join process that crashed (a Go panic or fatal error),
// with its stack.
func (w *joinWriter) checkCrashes(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.crashes {
		t.Errorf("CRASH: fedist-node %s", c)
	}
}

func (w *joinWriter) run(ctx context.Context, path string) {
	for i := 0; ctx.Err() == nil; i++ {
		r := w.first + regions.RegionID(i)
		op := w.join(ctx, path, r)
		if ctx.Err() != nil && op.Result != Ack {
			return // stopped mid-join: not an outcome
		}
		w.h.Add(op)
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// join runs one fedist-node for region r until the root accepts or refuses it, then kills it.
func (w *joinWriter) join(ctx context.Context, path string, r regions.RegionID) Op {
	name := "w" + r.String()
	op := Op{Kind: "join", Key: r.String(), Value: name, Start: time.Now()}
	p, err := spawn(path, name, []string{"-id", r.String(), "-name", name, "-node", name + "-1",
		"-parent", w.parent(), "-listen", "127.0.0.1:-1", "-leaf-listen", "", "-http", "",
		"-shortcuts", "0", "-store", filepath.Join(w.dir, r.String()), "-log-json"})
	if err != nil {
		op.End, op.Result, op.Err = time.Now(), Fail, err.Error()
		return op
	}
	defer func() { _ = p.kill9() }()
	deadline := time.Now().Add(joinTimeout)
	for {
		switch {
		case p.logged("join accepted by the root"):
			op.End, op.Result = time.Now(), Ack
			return op
		case p.exited():
			// A refusal (exit status 2, saying so) wrote nothing. Any other exit may have come
			// after the root wrote the registry but before its answer arrived.
			op.End, op.Result = time.Now(), Unknown
			out := p.out.String()
			var ee *exec.ExitError
			if errors.As(p.err, &ee) && ee.ExitCode() == 2 && strings.Contains(out, "join refused") {
				op.Result = Fail
			}
			op.Err = fmt.Sprintf("exited (%v): %s", p.err, tail(out, 1))
			if crashed(out) {
				w.mu.Lock()
				w.crashes = append(w.crashes, fmt.Sprintf("%s (region %s, %v after its start):\n%s", name, r,
					op.End.Sub(op.Start).Round(time.Millisecond), crashReport(out)))
				w.mu.Unlock()
			}
			return op
		case time.Now().After(deadline), ctx.Err() != nil:
			op.End, op.Result = time.Now(), Unknown
			op.Err = "no answer within " + joinTimeout.String() + ": " + tail(p.out.String(), 1)
			return op
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// registryCache reads registries for the checker, at most once per maxAge per URL.
type registryCache struct {
	maxAge time.Duration

	mu   sync.Mutex // guards read
	read map[string]cachedRegistry
}

type cachedRegistry struct {
	at      time.Time
	entries map[regions.RegionID]*regions.Entry
	err     error
}

func (c *registryCache) get(ctx context.Context, url string) (map[regions.RegionID]*regions.Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read == nil {
		c.read = map[string]cachedRegistry{}
	}
	if cr, ok := c.read[url]; ok && time.Since(cr.at) < c.maxAge {
		return cr.entries, cr.err
	}
	entries, err := registryAt(ctx, url)
	c.read[url] = cachedRegistry{at: time.Now(), entries: entries, err: err}
	return entries, err
}

// joinPresent returns the checker's lookup of a join: the region's entry, under the name it joined
// with, in the registry copy at every one of urls (the root's and mirrors down the tree).
func joinPresent(urls ...string) func(context.Context, Op) error {
	cache := &registryCache{maxAge: 300 * time.Millisecond}
	return func(ctx context.Context, op Op) error {
		r, err := regions.ParseRegion(op.Key)
		if err != nil {
			return err
		}
		for _, u := range urls {
			entries, err := cache.get(ctx, u)
			if err != nil {
				return fmt.Errorf("registry at %s: %w", u, err)
			}
			e := entries[r]
			switch {
			case e == nil:
				return fmt.Errorf("region %s missing from the registry at %s", r, u)
			case e.Name != op.Value:
				return fmt.Errorf("region %s is named %q at %s, want %q", r, e.Name, u, op.Value)
			}
		}
		return nil
	}
}

// checker combines the lookups of every kind of write.
func checker(byKind map[string]func(context.Context, Op) error) func(context.Context, Op) error {
	return func(ctx context.Context, op Op) error {
		f := byKind[op.Kind]
		if f == nil {
			return fmt.Errorf("no checker for %s", op.Kind)
		}
		return f(ctx, op)
	}
}
