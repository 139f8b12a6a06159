package fed

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// member is one server of a region: what stays the same across restarts (name, store, ports) and,
// while it runs, its runner.
type member struct {
	region      topo.Region
	node        string // n1, n2, ...
	dir         string
	clientPort  int // -1 until the first start has picked one
	leafPort    int
	clusterPort int      // 0 in a one-node region
	routes      []string // the route URLs of every node of the region
	run         runner   // nil while killed; guarded by Federation.mu
}

// runner is one running server, FeDist node or plain nats-server.
type runner interface {
	server() *server.Server
	fedistNode() *node.Node // nil in ModeNATS
	ports() (client, leaf int)
	waitReady(ctx context.Context) error
	shutdown(ctx context.Context) error
}

func (m *member) clientAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.clientPort))
}
func (m *member) leafAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(m.leafPort)) }

// start starts the member's server with the given parent leafnode URLs. On a first start the ports
// are -1 (any free port); the caller records the ones picked, so that a restart reuses them.
func (f *Federation) start(m *member, parentURLs []string) (runner, error) {
	if f.cfg.Mode == ModeFeDist {
		return f.startFeDist(m, parentURLs)
	}
	return f.startNATS(m, parentURLs)
}

// brokerConfig returns the broker config both modes share: loopback listeners, the member's
// store and ports, and the parent reached through the emulator.
func (f *Federation) brokerConfig(m *member, parentURLs []string) broker.Config {
	b := broker.DefaultConfig(m.region.ID, m.node, m.dir)
	b.ClientPort, b.LeafPort = m.clientPort, m.leafPort
	b.ParentURLs = parentURLs
	b.LeafIgnoreDiscovered = true // ParentURLs are the emulator's; never go around it
	b.LeafReconnect = f.cfg.LeafReconnect
	b.LeafDialTimeout = f.cfg.LeafDialTimeout
	b.Log = f.cfg.Log
	if len(m.routes) > 0 {
		b.ClusterHost, b.ClusterPort, b.Routes = "127.0.0.1", m.clusterPort, m.routes
	}
	return b
}

type fedistRunner struct{ n *node.Node }

func (f *Federation) startFeDist(m *member, parentURLs []string) (runner, error) {
	cfg := f.cfg.NodeConfig(f.brokerConfig(m, parentURLs), m.region)
	from := m.region.ID
	// Shortcuts cross the emulated WAN like the tree links, and each region keeps its own clock.
	cfg.ShortcutDialer = func(peer regions.RegionID) nats.CustomDialer { return f.net.Dialer(from, peer) }
	if f.cfg.Skew != nil {
		if skew := f.cfg.Skew[from]; skew != 0 {
			cfg.Clock = func() time.Time { return time.Now().Add(skew) }
		}
	}
	n, err := node.Start(cfg)
	if err != nil {
		return nil, err
	}
	return fedistRunner{n}, nil
}

func (r fedistRunner) server() *server.Server { return r.n.Broker().Server() }
func (r fedistRunner) ports() (int, int) {
	return urlPort(r.n.Broker().ClientURL()), urlPort(r.n.Broker().LeafURL())
}
func (r fedistRunner) fedistNode() *node.Node              { return r.n }
func (r fedistRunner) waitReady(ctx context.Context) error { return r.n.WaitReady(ctx) }
func (r fedistRunner) shutdown(ctx context.Context) error  { return r.n.Shutdown(ctx) }

type natsRunner struct {
	srv    *server.Server
	opts   *server.Options // nats-server writes the ports it picked back into these
	parent bool            // whether it has a leafnode remote to wait for
}

// startNATS starts a plain nats-server with the options broker.Start would give a FeDist node of
// the same region: JetStream in the region's domain with the same limits, compression off, and
// the same leafnode and route listeners. Unlike the FeDist broker it ignores the leafnode URLs a
// parent advertises, so reconnects keep going through the emulator.
func (f *Federation) startNATS(m *member, parentURLs []string) (runner, error) {
	b := f.brokerConfig(m, parentURLs)
	o := &server.Options{
		ServerName:         "nats-" + m.region.ID.String() + "-" + m.node,
		Host:               b.ClientHost,
		Port:               b.ClientPort,
		NoSigs:             true,
		JetStream:          true,
		JetStreamDomain:    broker.Domain(m.region.ID),
		JetStreamMaxMemory: b.MaxMemory,
		JetStreamMaxStore:  b.MaxStore,
		StoreDir:           b.StoreDir,
		PingInterval:       b.PingInterval, // dead links are dropped as fast as in FeDist
		MaxPingsOut:        b.MaxPingsOut,
	}
	off := server.CompressionOpts{Mode: server.CompressionOff}
	o.LeafNode.Host, o.LeafNode.Port, o.LeafNode.Compression = b.LeafHost, b.LeafPort, off
	o.LeafNode.ReconnectInterval, o.LeafNode.DialTimeout = b.LeafReconnect, b.LeafDialTimeout
	if len(parentURLs) > 0 {
		remote := &server.RemoteLeafOpts{Compression: off, DialTimeout: b.LeafDialTimeout, IgnoreDiscoveredServers: true}
		for _, s := range parentURLs {
			u, err := parseURL("nats-leaf", s)
			if err != nil {
				return nil, err
			}
			remote.URLs = append(remote.URLs, u)
		}
		o.LeafNode.Remotes = []*server.RemoteLeafOpts{remote}
	}
	if b.ClusterPort != 0 {
		o.Cluster.Name = "nats-" + m.region.ID.String()
		o.Cluster.Host, o.Cluster.Port = b.ClusterHost, b.ClusterPort
		o.Cluster.Compression = off
		for _, s := range b.Routes {
			u, err := parseURL("nats-route", s)
			if err != nil {
				return nil, err
			}
			o.Routes = append(o.Routes, u)
		}
	}
	srv, err := server.NewServer(o)
	if err != nil {
		return nil, fmt.Errorf("nats server %s: %w", o.ServerName, err)
	}
	srv.SetLoggerV2(&natsLog{f.cfg.Log.With().Str("nats", o.ServerName).Logger()}, false, false, false)
	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, fmt.Errorf("nats server %s did not start", o.ServerName)
	}
	return natsRunner{srv: srv, opts: o, parent: len(parentURLs) > 0}, nil
}

func (r natsRunner) server() *server.Server { return r.srv }
func (r natsRunner) fedistNode() *node.Node { return nil }
func (r natsRunner) ports() (int, int) {
	return r.srv.Addr().(*net.TCPAddr).Port, r.opts.LeafNode.Port
}

// waitReady waits until JetStream is healthy and, below the root, the link to the parent is up.
func (r natsRunner) waitReady(ctx context.Context) error {
	for {
		h := r.srv.Healthz(&server.HealthzOptions{})
		up := !r.parent || spokeUp(r.srv)
		if h.Status == "ok" && up {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats server %s not ready (health %q, parent link up %v): %w", r.srv.Name(), h.Status, up, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r natsRunner) shutdown(context.Context) error {
	r.srv.Shutdown()
	r.srv.WaitForShutdown()
	return nil
}

func spokeUp(srv *server.Server) bool {
	lz, err := srv.Leafz(nil)
	if err != nil {
		return false
	}
	for _, l := range lz.Leafs {
		if l.IsSpoke {
			return true
		}
	}
	return false
}

func parseURL(scheme, s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = scheme + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: URL %q: %v", ErrConfig, s, err)
	}
	return u, nil
}

// urlPort returns the port of a URL like nats://127.0.0.1:4222, or -1.
func urlPort(s string) int {
	u, err := url.Parse(s)
	if err != nil {
		return -1
	}
	p, err := strconv.Atoi(u.Port())
	if err != nil {
		return -1
	}
	return p
}

// natsLog adapts zerolog to nats-server's logger, for plain servers.
type natsLog struct{ l zerolog.Logger }

func (z *natsLog) Noticef(format string, v ...any) { z.l.Info().Msgf(format, v...) }
func (z *natsLog) Warnf(format string, v ...any)   { z.l.Warn().Msgf(format, v...) }
func (z *natsLog) Errorf(format string, v ...any)  { z.l.Error().Msgf(format, v...) }
func (z *natsLog) Fatalf(format string, v ...any)  { z.l.Error().Bool("fatal", true).Msgf(format, v...) }
func (z *natsLog) Debugf(format string, v ...any)  { z.l.Debug().Msgf(format, v...) }
func (z *natsLog) Tracef(format string, v ...any)  { z.l.Trace().Msgf(format, v...) }
