package broker

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// Config describes one node's embedded server. Ports use nats-server conventions: 0 means "off"
// where a listener is optional, -1 means "any free port".
type Config struct {
	// Region is the region this node belongs to. Required.
	Region regions.RegionID
	// Node names this node inside its region; it must be unique there. The server name becomes
	// ServerName(Region, Node), which is how a parent tells which region a leafnode belongs to.
	Node string

	// ClientHost and ClientPort are the listener for applications and the nats CLI.
	ClientHost string
	ClientPort int
	// Advertise is what other machines dial to reach this node: a host, or host:port. The host goes
	// into the client, leafnode and route URLs the node reports (the client and leafnode URLs go into
	// the registry), each with its own listen port. A port replaces the listen port in the client URL
	// only: it is for a client port published under another number (a container's published port, a
	// NAT). The leafnode and route URLs keep their listen ports, because child regions and peers are
	// given those addresses (-parent, -routes) and do not read them from the registry. Empty means the
	// listen host, or this machine's hostname when listening on all interfaces.
	Advertise string
	// LeafHost and LeafPort are the leafnode listener that child regions join. 0 disables it.
	LeafHost string
	LeafPort int
	// ParentURLs are the parent region's leafnode URLs (nats-leaf://host:port). Empty for the root.
	ParentURLs []string
	// LeafDeny lists subjects that never cross the link to the parent, in either direction. It is
	// enforced on this (spoke) side, the only side where nats-server applies leafnode deny lists.
	LeafDeny []string
	// AppLeafDeny is added to LeafDeny on the applications' link only: what an application's
	// account keeps to its own region (its JetStream, buckets, ID ranges).
	AppLeafDeny []string
	// ChildExports lists, per account, the only subjects a child region's leafnode link may send
	// to this node; the parent enforces it, so a child cannot lift it. Subjects are checked after
	// nats-server's JetStream domain mapping ($JS.<this domain>.API.X arrives as $JS.API.X). An
	// account without an entry is unrestricted.
	ChildExports map[string][]string
	// ChildExportsFor, when set, adds subjects for one child region to ChildExports' list of the
	// account: the child is the region of the link's node certificate (with TLS) or of the server
	// name it announces (insecure mode, where nothing is verified anyway). A child may thus reach
	// its own registry feed at the parent and no other child's.
	ChildExportsFor func(account string, child regions.RegionID) []string
	// PingInterval and MaxPingsOut bound how long a silently dead link (a partition, not a closed
	// socket) stays up: it is dropped after about PingInterval × MaxPingsOut.
	PingInterval time.Duration
	MaxPingsOut  int
	// LeafIgnoreDiscovered makes the link to the parent use only ParentURLs, never the leafnode URLs
	// the parent advertises. Set it when ParentURLs are not the parent's own addresses (a proxy, a
	// load balancer, the WAN emulator); otherwise the first reconnect goes around them.
	LeafIgnoreDiscovered bool
	// LeafReconnect is the pause between attempts to reach the parent.
	LeafReconnect time.Duration
	// LeafDialTimeout bounds one TCP dial to the parent; WAN links need more than the 1 s default.
	LeafDialTimeout time.Duration
	// Compression turns on S2 compression of leafnode links. It costs ~5.5 MiB heap per link and
	// saves nothing on loopback, so it is off by default; turn it on across real WAN links.
	Compression bool

	// ClusterHost and ClusterPort are the route listener for the other nodes of this region. 0
	// disables clustering. Routes are the other nodes' route URLs (nats-route://host:port).
	ClusterHost string
	ClusterPort int
	Routes      []string

	// TLS holds the node's credential: the federation CA and this node's certificate and key
	// (made with `fedist-root certs`). When set, every link between servers (leafnodes to the parent
	// and from children, cluster routes) runs mutual TLS, and a peer is admitted only with a
	// certificate of the federation that names it. Empty means insecure mode: every listener must be
	// on loopback unless Insecure is set.
	TLS pki.TLSFiles
	// ClientTLS offers TLS on the client port with the node's certificate; client certificates of
	// the federation (`fedist-root certs client`) are verified when presented and name the user.
	ClientTLS bool
	// Insecure allows non-loopback listeners without TLS. Anyone who reaches such a port can join
	// the federation as a leafnode with LeafToken, or connect as an application without credentials.
	Insecure bool

	// Users are the application users of the client port. Each is put into the application account
	// with the permissions AppPermissions returns. A client without credentials becomes the user
	// NoAuthUser only when NoAuthApps is set, which is allowed only in insecure mode.
	Users      []User
	NoAuthApps bool
	// AppPermissions returns the permissions of an application user. nil means full permissions in
	// the application account (tests of plain routing only).
	AppPermissions func(user string) *server.Permissions
	// ShortcutPermissions returns the permissions of a shortcut connection that node of region peer
	// opened to this node's client port (package overlay's shortcut namespace). nil refuses every
	// shortcut connection. With TLS a shortcut presents its node certificate (the identity decides
	// peer and node); in insecure mode it presents user ShortcutUser(peer, node) and LeafToken.
	ShortcutPermissions func(peer regions.RegionID, node string) *server.Permissions
	// ShortcutAdmit is asked before a shortcut connection is accepted; an error refuses it and is
	// logged (the cost engine refuses beyond its K shortcuts per node).
	ShortcutAdmit func(peer regions.RegionID, node string) error
	// LeafToken is the password every leafnode link of the federation presents. In insecure mode it
	// is the only gate; with TLS the certificate is, and the token is checked as well when set.
	LeafToken string

	// StoreDir is where JetStream keeps its files. Required.
	StoreDir string
	// MaxMemory and MaxStore cap JetStream's memory and file usage, in bytes.
	MaxMemory int64
	MaxStore  int64

	// Log receives nats-server's log. Debug and Trace turn on its verbose levels.
	Log   zerolog.Logger
	Debug bool
	Trace bool
}

// DefaultConfig returns a config for one node of region r on loopback with random ports.
func DefaultConfig(r regions.RegionID, node, storeDir string) Config {
	return Config{
		Region:          r,
		Node:            node,
		ClientHost:      "127.0.0.1",
		ClientPort:      -1, // any free port; read it back with ClientURL
		LeafHost:        "127.0.0.1",
		LeafPort:        -1,
		LeafReconnect:   time.Second,     // nats-server's default; a restarted parent is found within ~1 s
		PingInterval:    2 * time.Second, // nats-server's 2 min default left a partitioned child "active" for ~8 min
		MaxPingsOut:     3,
		LeafDialTimeout: 2 * time.Second,
		StoreDir:        storeDir,
		LeafToken:       DevLeafToken,
		NoAuthApps:      true,     // insecure loopback default; secure nodes configure Users
		MaxMemory:       64 << 20, // registry mirror and ID blocks are tiny; leave room for applications
		MaxStore:        1 << 30,
		Log:             zerolog.Nop(),
	}
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("broker config")

// Validate checks the config and says what to change.
func (c *Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	if !c.Region.Valid() {
		return bad("region: %v", regions.ErrReservedRegion)
	}
	if c.Node == "" || strings.ContainsAny(c.Node, " .*>\t\n") {
		return bad("node name %q must be non-empty, without spaces, dots or wildcards", c.Node)
	}
	if c.StoreDir == "" {
		return bad("store dir is required (JetStream keeps the registry mirror and ID blocks there)")
	}
	for _, p := range []struct {
		name string
		port int
	}{{"client", c.ClientPort}, {"leafnode", c.LeafPort}, {"cluster", c.ClusterPort}} {
		if p.port < -1 || p.port > 65535 {
			return bad("%s port %d out of range (-1 = any free port)", p.name, p.port)
		}
	}
	if err := checkTLS(c.TLS, c.Region, c.Node); err != nil {
		return bad("%v", err)
	}
	if c.ClientTLS && c.TLS.CA == "" {
		return bad("client TLS needs the node's certificate (-tls-ca, -tls-cert, -tls-key)")
	}
	if c.TLS.CA == "" && !c.Insecure {
		for _, l := range c.listeners() {
			if !isLoopback(l.host) {
				return bad("%s listener on %q without TLS: give the node a certificate (-tls-ca, -tls-cert, -tls-key), or -insecure to accept anyone who reaches the port", l.name, l.host)
			}
		}
	}
	if c.NoAuthApps && !c.Insecure && c.TLS.CA != "" {
		return bad("clients without credentials are accepted only in insecure mode; configure users")
	}
	if c.TLS.CA == "" && c.LeafToken == "" {
		return bad("insecure mode needs a leaf token: it is the only thing a leafnode link presents")
	}
	for i, u := range c.Users {
		if err := u.check(); err != nil {
			return bad("user %d: %v", i+1, err)
		}
	}
	if _, _, err := splitAdvertise(c.Advertise); err != nil {
		return bad("%v", err)
	}
	if c.ClientPort == 0 {
		return bad("client port 0: the client listener cannot be disabled (use -1 for any free port)")
	}
	for _, u := range c.ParentURLs {
		if _, err := parseURL(u, "nats-leaf"); err != nil {
			return bad("parent URL: %v", err)
		}
	}
	for _, u := range c.Routes {
		if _, err := parseURL(u, "nats-route"); err != nil {
			return bad("route URL: %v", err)
		}
	}
	if len(c.Routes) > 0 && c.ClusterPort == 0 {
		return bad("routes given but no cluster port: set a cluster listener so the other nodes can reach this one")
	}
	return nil
}

// parseURL accepts host:port (with the given default scheme) or a full URL.
func parseURL(s, scheme string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = scheme + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q: %v", s, err)
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return nil, fmt.Errorf("%q: want host:port: %v", s, err)
	}
	return u, nil
}

// splitAdvertise parses Advertise: "" (nothing advertised), a host, or host:port. port is 0 when s
// names no port. An IPv6 address is a host alone ("::1", "[::1]") or bracketed with a port.
func splitAdvertise(s string) (host string, port int, err error) {
	if s == "" {
		return "", 0, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("-advertise %q: %s; want a host, or host:port to publish another client port, e.g. 127.0.0.1:14222", s, why)
	}
	if strings.Contains(s, "://") {
		return "", 0, bad("a URL")
	}
	if h := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"); strings.Contains(h, ":") && net.ParseIP(h) != nil {
		if strings.HasPrefix(s, "[") != strings.HasSuffix(s, "]") {
			return "", 0, bad("unbalanced brackets")
		}
		return h, 0, nil // an IPv6 address without a port
	}
	host = s
	if strings.Contains(s, ":") {
		var ps string
		if host, ps, err = net.SplitHostPort(s); err != nil {
			return "", 0, bad(err.Error())
		}
		if port, err = strconv.Atoi(ps); err != nil || port < 1 || port > 65535 {
			return "", 0, bad("the port must be 1-65535")
		}
	}
	if host == "" || strings.ContainsAny(host, " \t\n/@?#[]") {
		return "", 0, bad("not a host name or address")
	}
	return host, port, nil
}

// Accounts and users of the embedded server.
const (
	// AppAccount carries application traffic (region subjects, inboxes, relays), the applications'
	// own JetStream, and the read-only registry copy applications watch.
	AppAccount = "APP"
	// FedistAccount holds FeDist's own state and control: the registry, the ID counters, joins and
	// link reports. No application user belongs to it and it exports nothing, so no NATS feature
	// an application can use reaches it.
	FedistAccount = "FEDIST"
	// NoAuthUser is the user a client without credentials becomes in insecure mode.
	NoAuthUser = "app"
	// DevLeafToken is the default leaf password of insecure mode.
	DevLeafToken = "fedist-dev"

	internalUser   = "fedist-internal" // the node's own in-process connections, per account
	leafUserPrefix = "fedist-leaf-"    // a leafnode link names the account it binds: fedist-leaf-APP
	shortcutUser   = "fedist-shortcut" // a shortcut connection: fedist-shortcut-<rrrr>-<node> in insecure mode
)

// Domain returns the JetStream domain of region r. Every node of a region shares it.
func Domain(r regions.RegionID) string { return "fd-" + r.String() }

// ServerName returns the nats-server name of a node: fd-<rrrr>-<node> (see regions.ServerName).
func ServerName(r regions.RegionID, node string) string { return regions.ServerName(r, node) }

// ParseServerName splits a server name made by ServerName. ok is false for other servers.
func ParseServerName(name string) (r regions.RegionID, node string, ok bool) {
	return regions.ParseServerName(name)
}

type listener struct{ name, host string }

// listeners returns the listeners that are on.
func (c *Config) listeners() []listener {
	var out []listener
	for _, l := range []struct {
		listener
		port int
	}{{listener{"client", c.ClientHost}, c.ClientPort}, {listener{"leafnode", c.LeafHost}, c.LeafPort}, {listener{"cluster", c.ClusterHost}, c.ClusterPort}} {
		if l.port != 0 {
			out = append(out, l.listener)
		}
	}
	return out
}

// isLoopback reports whether a listen host is on loopback only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTLS accepts all three files or none, and a certificate only of this node.
func checkTLS(f pki.TLSFiles, r regions.RegionID, node string) error {
	set := 0
	for _, v := range []string{f.CA, f.Cert, f.Key} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		return fmt.Errorf("TLS needs all of -tls-ca, -tls-cert and -tls-key (have ca=%q cert=%q key=%q)", f.CA, f.Cert, f.Key)
	}
	if set == 3 {
		if _, err := f.ServerConfig(); err != nil {
			return fmt.Errorf("TLS: %v", err)
		}
		pair, err := pki.LoadKeyPair(f.Cert, f.Key)
		if err != nil {
			return fmt.Errorf("TLS: %v", err)
		}
		id, err := pki.IdentityOf(pair.Leaf)
		if err != nil {
			return fmt.Errorf("TLS certificate %s: %v", f.Cert, err)
		}
		if !id.IsNode() || id.Region != r || id.Node != node {
			return fmt.Errorf("TLS certificate %s is for %s, but this is node %s of region %s: make one with `fedist-root certs node -id %s -name %s`, or start with -id %s -node %s",
				f.Cert, id, node, r, r, node, id.Region, id.Node)
		}
	}
	return nil
}

// ShortcutUser returns the user name a shortcut connection of node (region peer) presents. With
// TLS the name is informational and the certificate decides.
func ShortcutUser(peer regions.RegionID, node string) string {
	return shortcutUser + "-" + peer.String() + "-" + node
}

// ParseShortcutUser reads region and node from a ShortcutUser name.
func ParseShortcutUser(user string) (regions.RegionID, string, bool) {
	rest, ok := strings.CutPrefix(user, shortcutUser+"-")
	if !ok || len(rest) < 6 || rest[4] != '-' {
		return 0, "", false
	}
	r, err := regions.ParseRegion(rest[:4])
	return r, rest[5:], err == nil
}
