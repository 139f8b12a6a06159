package fed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// ErrClosed is returned by a Federation after Close.
var ErrClosed = errors.New("federation closed")

// Federation is a running federation of one topology in this process, FeDist or plain NATS, with
// an emulated WAN link under every connection between two regions.
type Federation struct {
	cfg     Config
	top     *topo.Topology
	net     *Net
	dir     string
	tempDir bool

	mu      sync.Mutex // guards member.run of every member, conns, closed
	members map[regions.RegionID][]*member
	conns   []*nats.Conn
	closed  bool

	closeOnce sync.Once
	closeErr  error
}

// Start builds and starts the federation and returns once every region is ready: in ModeFeDist
// once every node reports ready (its region is active in its own registry mirror), in ModeNATS once
// every server's JetStream is healthy and its link to the parent is up. Regions start as soon as
// their parent is ready, up to StartParallel at a time.
func Start(ctx context.Context, cfg Config) (*Federation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n, err := NewNet(cfg.Topology, cfg.Link)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	f := &Federation{cfg: cfg, top: cfg.Topology, net: n, dir: cfg.Dir, members: make(map[regions.RegionID][]*member)}
	if f.dir == "" {
		if f.dir, err = os.MkdirTemp("", "fedist-fed-"); err != nil {
			return nil, err
		}
		f.tempDir = true
	}
	for _, r := range f.top.Regions() {
		ms, err := f.newMembers(r)
		if err != nil {
			_ = f.Close()
			return nil, err
		}
		f.members[r.ID] = ms
	}
	if err := f.startAll(ctx); err != nil {
		_ = f.Close()
		return nil, err
	}
	return f, nil
}

// newMembers lays out region r's servers. A region of several nodes gets route ports up front,
// since every node's config must name them all.
func (f *Federation) newMembers(r topo.Region) ([]*member, error) {
	var routes []string
	var clusterPorts []int
	if r.Nodes > 1 {
		for range r.Nodes {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			clusterPorts = append(clusterPorts, p)
			routes = append(routes, "nats-route://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		}
	}
	ms := make([]*member, r.Nodes)
	for i := range ms {
		name := "n" + strconv.Itoa(i+1)
		ms[i] = &member{
			region: r, node: name, clientPort: -1, leafPort: -1, routes: routes,
			dir: filepath.Join(f.dir, fmt.Sprintf("%s-%s-%s", f.cfg.Mode, r.ID, name)),
		}
		if clusterPorts != nil {
			ms[i].clusterPort = clusterPorts[i]
		}
	}
	return ms, nil
}

// Topology returns the topology the federation was built from.
func (f *Federation) Topology() *topo.Topology { return f.top }

// Mode returns ModeFeDist or ModeNATS.
func (f *Federation) Mode() Mode { return f.cfg.Mode }

// Net returns the emulated WAN, for dialing between regions and for its link counters.
func (f *Federation) Net() *Net { return f.net }

// ClientURLs returns the client URLs of region r's servers (real addresses, the ones the registry
// holds), whether they run or not.
func (f *Federation) ClientURLs(r regions.RegionID) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.members[r] {
		out = append(out, "nats://"+m.clientAddr())
	}
	return out
}

// Servers returns region r's running nats-servers.
func (f *Federation) Servers(r regions.RegionID) []*server.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*server.Server
	for _, m := range f.members[r] {
		if m.run != nil {
			out = append(out, m.run.server())
		}
	}
	return out
}

// Nodes returns region r's running FeDist nodes; none in ModeNATS.
func (f *Federation) Nodes(r regions.RegionID) []*node.Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*node.Node
	for _, m := range f.members[r] {
		if m.run != nil && m.run.fedistNode() != nil {
			out = append(out, m.run.fedistNode())
		}
	}
	return out
}

// Running reports whether any server of region r runs.
func (f *Federation) Running(r regions.RegionID) bool { return len(f.Servers(r)) > 0 }

// Cut drops every connection between regions a and b and refuses new ones until Heal. Between a
// parent and a child that takes the child, and the subtree under it, off the tree.
func (f *Federation) Cut(a, b regions.RegionID) error { return f.net.Cut(a, b) }

// Heal lets connections between a and b through again; a child reconnects to its parent by itself.
func (f *Federation) Heal(a, b regions.RegionID) error { return f.net.Heal(a, b) }

// SetRTT sets the round-trip time between a and b.
func (f *Federation) SetRTT(a, b regions.RegionID, rtt time.Duration) error {
	return f.net.SetRTT(a, b, rtt)
}

// Close closes the connections handed out by Connect and ConnectFrom, stops every server, closes
// the emulated links and removes a temporary store. It waits for all of their goroutines and is
// idempotent.
func (f *Federation) Close() error {
	f.closeOnce.Do(func() {
		f.mu.Lock()
		f.closed = true
		conns := f.conns
		f.conns = nil
		var runs []runner
		for _, ms := range f.members {
			for _, m := range ms {
				if m.run != nil {
					runs = append(runs, m.run)
					m.run = nil
				}
			}
		}
		f.mu.Unlock()
		for _, nc := range conns {
			nc.Close()
		}
		errs := []error{shutdownAll(runs, f.cfg.StartParallel)}
		errs = append(errs, f.net.Close())
		if f.tempDir {
			errs = append(errs, os.RemoveAll(f.dir))
		}
		f.closeErr = errors.Join(errs...)
	})
	return f.closeErr
}

// shutdownAll stops runners, up to parallel at once, and waits for all of them.
func shutdownAll(runs []runner, parallel int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var mu sync.Mutex // guards errs
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for _, r := range runs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := r.shutdown(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// freePort picks a port for configs that must name ports up front (see broker.PickPort).
func freePort() (int, error) { return broker.PickPort("127.0.0.1") }
