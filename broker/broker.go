package broker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// ErrNotReady is returned when the server does not accept connections in time.
var ErrNotReady = errors.New("nats-server did not become ready")

// Broker is one running embedded nats-server.
type Broker struct {
	cfg      Config
	internal string // password of the internal users
	opts     *server.Options
	srv      *server.Server

	closeOnce sync.Once
	stop      chan struct{} // closed at shutdown: ends sweepAppMappings
	wg        sync.WaitGroup
}

// Start validates cfg, starts the server and waits until it accepts clients.
func Start(cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts, err := serverOptions(&cfg)
	if err != nil {
		return nil, err
	}
	auth := &authenticator{cfg: &cfg, internal: nuid.Next(), log: cfg.Log.With().Str("nats", opts.ServerName).Logger()}
	opts.CustomClientAuthentication = auth
	opts.CustomRouterAuthentication = routeAuth{auth}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker %s: %w", opts.ServerName, err)
	}
	auth.srv = srv
	log := &zlog{l: cfg.Log.With().Str("nats", opts.ServerName).Logger()}
	srv.SetLoggerV2(log, cfg.Debug, cfg.Trace, false)
	srv.Start()
	for deadline := time.Now().Add(30 * time.Second); !srv.ReadyForConnections(50 * time.Millisecond); {
		if fatal := log.lastFatal(); fatal != "" || !srv.Running() || time.Now().After(deadline) {
			srv.Shutdown()
			if fatal == "" {
				fatal = "see the nats log lines above"
			}
			return nil, fmt.Errorf("broker %s: %w: %s", opts.ServerName, ErrNotReady, fatal)
		}
	}
	if fatal := log.lastFatal(); fatal != "" {
		srv.Shutdown()
		return nil, fmt.Errorf("broker %s: %w: %s", opts.ServerName, ErrNotReady, fatal)
	}
	// nats-server enables JetStream at start only for accounts configured with limits, which the
	// options struct cannot express for named accounts; enabling them now also recovers their
	// streams from StoreDir.
	for _, name := range []string{FedistAccount, AppAccount} {
		acc, err := srv.LookupAccount(name)
		if err == nil {
			err = acc.EnableJetStream(nil, nil)
		}
		if err != nil {
			srv.Shutdown()
			return nil, fmt.Errorf("broker %s: JetStream for account %s: %w", opts.ServerName, name, err)
		}
	}
	if cfg.TLS.CA == "" && cfg.Insecure {
		for _, l := range cfg.listeners() {
			if !isLoopback(l.host) {
				cfg.Log.Warn().Str("listener", l.name).Str("host", l.host).
					Msg("insecure: listening beyond loopback without TLS; anyone who reaches this port can join the federation or connect as an application")
			}
		}
	}
	b := &Broker{cfg: cfg, internal: auth.internal, opts: opts, srv: srv, stop: make(chan struct{})}
	if app, err := srv.LookupAccount(AppAccount); err == nil {
		b.sweepAppMappings(app, b.stop)
	}
	return b, nil
}

func serverOptions(c *Config) (*server.Options, error) {
	o := &server.Options{
		ServerName:         ServerName(c.Region, c.Node),
		Host:               c.ClientHost,
		Port:               c.ClientPort,
		NoSigs:             true,
		JetStream:          true,
		JetStreamDomain:    Domain(c.Region),
		JetStreamMaxMemory: c.MaxMemory,
		JetStreamMaxStore:  c.MaxStore,
		StoreDir:           c.StoreDir,
		PingInterval:       c.PingInterval,
		MaxPingsOut:        c.MaxPingsOut,
		Debug:              c.Debug,
		Trace:              c.Trace,
		Accounts:           []*server.Account{server.NewAccount(AppAccount), server.NewAccount(FedistAccount)},
	}
	for _, u := range c.Users {
		if u.Nkey != "" {
			o.AlwaysEnableNonce = true // nkey users sign the nonce of the server's INFO
		}
	}
	tlsOn := c.TLS.CA != ""
	if c.ClientTLS {
		tc, err := c.TLS.ClientPortConfig()
		if err != nil {
			return nil, fmt.Errorf("%w: client TLS: %v", ErrConfig, err)
		}
		o.TLS, o.TLSConfig, o.TLSTimeout = true, tc, tlsTimeout
	}
	compression := server.CompressionOpts{Mode: server.CompressionOff}
	if c.Compression {
		compression = server.CompressionOpts{Mode: server.CompressionS2Auto}
	}
	if c.LeafPort != 0 {
		o.LeafNode.Host = c.LeafHost
		o.LeafNode.Port = c.LeafPort
		o.LeafNode.Compression = compression
		if tlsOn {
			tc, err := c.TLS.ServerConfig()
			if err != nil {
				return nil, fmt.Errorf("%w: leafnode TLS: %v", ErrConfig, err)
			}
			o.LeafNode.TLSConfig, o.LeafNode.TLSTimeout = tc, tlsTimeout
		}
	}
	o.LeafNode.ReconnectInterval = c.LeafReconnect
	o.LeafNode.DialTimeout = c.LeafDialTimeout
	if len(c.ParentURLs) > 0 {
		// One link per account: FeDist's control plane and the applications' traffic never share a
		// connection, so nothing an application does on its link reaches FeDist's account.
		for _, acc := range []string{FedistAccount, AppAccount} {
			deny := c.LeafDeny
			if acc == AppAccount {
				deny = append(slices.Clone(c.LeafDeny), c.AppLeafDeny...)
			}
			remote := &server.RemoteLeafOpts{
				LocalAccount:            acc,
				IgnoreDiscoveredServers: c.LeafIgnoreDiscovered,
				DenyImports:             deny,
				DenyExports:             deny,
				Compression:             compression,
				DialTimeout:             c.LeafDialTimeout,
			}
			if tlsOn {
				tc, err := c.TLS.LinkClientConfig() // any node of the parent, by identity (tlsconfig.go)
				if err != nil {
					return nil, fmt.Errorf("%w: leafnode TLS: %v", ErrConfig, err)
				}
				remote.TLS, remote.TLSConfig, remote.TLSTimeout = true, tc, tlsTimeout
			}
			for _, s := range c.ParentURLs {
				u, err := parseURL(s, "nats-leaf")
				if err != nil {
					return nil, fmt.Errorf("%w: parent URL: %v", ErrConfig, err)
				}
				u.User = url.UserPassword(leafUserPrefix+acc, c.LeafToken)
				remote.URLs = append(remote.URLs, u)
			}
			o.LeafNode.Remotes = append(o.LeafNode.Remotes, remote)
		}
	}
	if c.ClusterPort != 0 {
		o.Cluster.Name = "fd-" + c.Region.String()
		o.Cluster.Host = c.ClusterHost
		o.Cluster.Port = c.ClusterPort
		o.Cluster.Compression = server.CompressionOpts{Mode: server.CompressionOff}
		if tlsOn {
			tc, err := c.TLS.ServerConfig()
			if err != nil {
				return nil, fmt.Errorf("%w: cluster TLS: %v", ErrConfig, err)
			}
			// nats-server uses one config for both ends of a route: it presents the node's
			// certificate when dialing and requires the peer's when accepting.
			tc.RootCAs = tc.ClientCAs
			o.Cluster.TLSConfig, o.Cluster.TLSTimeout = tc, tlsTimeout
		}
		for _, s := range c.Routes {
			u, err := parseURL(s, "nats-route")
			if err != nil {
				return nil, fmt.Errorf("%w: route URL: %v", ErrConfig, err)
			}
			o.Routes = append(o.Routes, u)
		}
	}
	return o, nil
}

// tlsTimeout bounds a TLS handshake, in seconds (nats-server's unit). WAN links need more than the
// 2 s default of nats-server when a handshake crosses a slow link.
const tlsTimeout = 5

// Config returns the config the broker was started with.
func (b *Broker) Config() Config { return b.cfg }

// Server returns the embedded nats-server, for callers that manage mappings or read monitoring data.
func (b *Broker) Server() *server.Server { return b.srv }

// Name returns the server name, fd-<rrrr>-<node>.
func (b *Broker) Name() string { return b.opts.ServerName }

// Account returns the named account (AppAccount or FedistAccount), or nil.
func (b *Broker) Account(name string) *server.Account {
	acc, err := b.srv.LookupAccount(name)
	if err != nil {
		return nil
	}
	return acc
}

// ClientURL returns nats://host:port of the client listener, with the advertised host.
func (b *Broker) ClientURL() string {
	a, ok := b.srv.Addr().(*net.TCPAddr)
	if !ok {
		return b.srv.ClientURL()
	}
	port := a.Port
	if _, p, _ := splitAdvertise(b.cfg.Advertise); p != 0 {
		port = p // the client port as published, e.g. by Docker
	}
	return (&url.URL{Scheme: "nats", Host: b.hostPort(b.cfg.ClientHost, port)}).String()
}

// LeafURL returns nats-leaf://host:port of the leafnode listener, or "" when it is off.
func (b *Broker) LeafURL() string {
	if b.cfg.LeafPort == 0 {
		return ""
	}
	return (&url.URL{Scheme: "nats-leaf", Host: b.hostPort(b.cfg.LeafHost, b.opts.LeafNode.Port)}).String()
}

// ClusterURL returns nats-route://host:port of the route listener, or "" when it is off.
func (b *Broker) ClusterURL() string {
	a := b.srv.ClusterAddr()
	if a == nil {
		return ""
	}
	return (&url.URL{Scheme: "nats-route", Host: b.hostPort(b.cfg.ClusterHost, a.Port)}).String()
}

// hostPort joins the host others should dial with port: Advertise's host if set, else the listen
// host, or this machine's hostname for a wildcard listen address.
func (b *Broker) hostPort(listen string, port int) string {
	host, _, _ := splitAdvertise(b.cfg.Advertise) // Start validated it
	if host == "" {
		host = listen
		if host == "" || host == "0.0.0.0" || host == "::" {
			if h, err := os.Hostname(); err == nil && h != "" {
				host = h
			} else {
				host = "127.0.0.1"
			}
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// Connect opens an in-process client connection with full permissions in account (AppAccount or
// FedistAccount). It costs no socket.
func (b *Broker) Connect(name, account string, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.Name(name), nats.InProcessServer(b.srv), nats.MaxReconnects(-1),
		nats.UserInfo(internalUser+"-"+account, b.internal)}, opts...)
	return nats.Connect("", opts...)
}

// Parent returns the region and node of the parent server this node's leafnode link reaches, and
// whether that link is up.
func (b *Broker) Parent() (regions.RegionID, string, bool) {
	lz, err := b.srv.Leafz(&server.LeafzOptions{Account: FedistAccount})
	if err != nil {
		return 0, "", false
	}
	for _, l := range lz.Leafs {
		if l.IsSpoke {
			r, node, ok := ParseServerName(l.Name)
			return r, node, ok
		}
	}
	return 0, "", false
}

// LeafPeers returns the regions this node has a leafnode connection with, its parent's and its
// children's, in one read of the server's leafnode list.
func (b *Broker) LeafPeers() map[regions.RegionID]bool {
	out := map[regions.RegionID]bool{}
	lz, err := b.srv.Leafz(nil)
	if err != nil {
		return out
	}
	for _, l := range lz.Leafs {
		if r, _, ok := ParseServerName(l.Name); ok {
			out[r] = true
		}
	}
	return out
}

// AppInterest reports whether some connection of this server subscribes, in the applications'
// account, to a subject matching subject.
func (b *Broker) AppInterest(subject string) bool {
	acc, err := b.srv.LookupAccount(AppAccount)
	return err == nil && acc.SubscriptionInterest(subject)
}

// LinkAccounts says which of a child node's two leafnode links (FeDist's account, the
// applications') reach this node.
type LinkAccounts uint8

// The accounts of LinkAccounts.
const (
	LinkFedist LinkAccounts = 1 << iota
	LinkApp
	LinkBoth = LinkFedist | LinkApp
)

// ChildLinks returns, for every child region with a leafnode link to this node, its nodes and
// which of their two links arrive here. A child's two links are separate leafnode remotes, so in
// a parent region of several nodes they may land on different nodes: each then sees one.
func (b *Broker) ChildLinks() map[regions.RegionID]map[string]LinkAccounts {
	out := make(map[regions.RegionID]map[string]LinkAccounts)
	lz, err := b.srv.Leafz(nil)
	if err != nil {
		return out
	}
	for _, l := range lz.Leafs {
		var acc LinkAccounts
		switch {
		case l.IsSpoke:
			continue
		case l.Account == FedistAccount:
			acc = LinkFedist
		case l.Account == AppAccount:
			acc = LinkApp
		default:
			continue
		}
		if r, node, ok := ParseServerName(l.Name); ok {
			if out[r] == nil {
				out[r] = map[string]LinkAccounts{}
			}
			out[r][node] |= acc
		}
	}
	return out
}

// Routes returns the server names this node has cluster routes to.
func (b *Broker) Routes() []string {
	rz, err := b.srv.Routez(nil)
	if err != nil {
		return nil
	}
	var out []string
	for _, r := range rz.Routes {
		out = append(out, r.RemoteName)
	}
	return out
}

// Shutdown stops the server and waits for it. It is idempotent. nats-server's own shutdown is
// bounded (it closes every connection and flushes JetStream), so ctx is only checked before starting.
func (b *Broker) Shutdown(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broker %s shutdown: %w", b.Name(), err)
	}
	b.closeOnce.Do(func() {
		close(b.stop)
		b.srv.Shutdown()
	})
	b.wg.Wait()
	b.srv.WaitForShutdown()
	return nil
}
