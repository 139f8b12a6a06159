package daemon

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nuid"
	"github.com/rs/zerolog"
)

// Options are the daemon settings, one per flag. JSON names match the flag names.
type Options struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Node        string `json:"node"`
	Listen      string `json:"listen"`
	Advertise   string `json:"advertise"`
	LeafToken   string `json:"leaf-token"`
	LeafListen  string `json:"leaf-listen"`
	HTTP        string `json:"http"`
	Store       string `json:"store"`
	Parent      string `json:"parent"`
	Cluster     string `json:"cluster"`
	Routes      string `json:"routes"`
	Replicas    int    `json:"replicas"`
	Shortcuts   int    `json:"shortcuts"`
	Compression bool   `json:"compression"`
	ParentOnly  bool   `json:"parent-only"`
	WAN         bool   `json:"wan"`
	LeaveOnExit bool   `json:"leave-on-exit"`
	LogLevel    string `json:"log-level"`
	NATSLog     string `json:"nats-log"`
	LogJSON     bool   `json:"log-json"`

	TLSCA       string        `json:"tls-ca"`
	TLSCert     string        `json:"tls-cert"`
	TLSKey      string        `json:"tls-key"`
	NoClientTLS bool          `json:"no-client-tls"`
	Insecure    bool          `json:"insecure"`
	JoinTimeout Duration      `json:"join-timeout"`
	Users       []broker.User `json:"users"` // config file only: [{"name":"alice","password":"…"}, {"nkey":"U…"}]
}

// Kind tells the flag set which daemon it serves.
type Kind int

// The two daemons.
const (
	Root Kind = iota
	Child
)

// NewFlagSet registers every flag of the daemon kind into a fresh FlagSet bound to o, which holds
// the defaults on entry. configPath receives -c.
func NewFlagSet(name string, kind Kind, o *Options, configPath *string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(configPath, "c", "", "config file (JSON, keys are the flag names); flags override it")
	fs.StringVar(&o.ID, "id", o.ID, "region ID, 4 lowercase hex digits (0001-ffff)")
	fs.StringVar(&o.Name, "name", o.Name, "region name, e.g. eu-west-1 (the same on every node of the region)")
	fs.StringVar(&o.Node, "node", o.Node, "node name, unique within the region (default: <name>-<client port>)")
	fs.StringVar(&o.Listen, "listen", o.Listen, "client listener host:port (port -1 = any free port)")
	fs.StringVar(&o.Advertise, "advertise", o.Advertise, "host, or host:port, other machines reach this node at, for the URLs in the registry; a port replaces the client port in the client URL only, e.g. a published container port (default: the listen host, or the hostname for 0.0.0.0)")
	fs.StringVar(&o.LeafToken, "leaf-token", o.LeafToken, "password of the leafnode links between regions; the same on every node (the default is for development only)")
	fs.StringVar(&o.LeafListen, "leaf-listen", o.LeafListen, "leafnode listener for child regions, host:port (\"\" = none)")
	fs.StringVar(&o.HTTP, "http", o.HTTP, "monitoring listener host:port for /healthz and /registry (\"\" = none)")
	fs.StringVar(&o.Store, "store", o.Store, "JetStream directory (default: ./fedist-data/<id>-<node>)")
	if kind == Child {
		fs.StringVar(&o.Parent, "parent", o.Parent, "parent region's leafnode URL(s), comma separated, e.g. nats-leaf://127.0.0.1:7422")
	}
	fs.StringVar(&o.Cluster, "cluster", o.Cluster, "route listener host:port for the other nodes of this region (\"\" = single node)")
	fs.StringVar(&o.Routes, "routes", o.Routes, "route URLs of every node of this region, comma separated (this node's own may be included)")
	fs.IntVar(&o.Replicas, "replicas", o.Replicas, "JetStream replicas of the region's buckets (3 with three or more nodes, else 1)")
	fs.IntVar(&o.Shortcuts, "shortcuts", o.Shortcuts, "most shortcut connections this node holds to other regions' nodes, opened and accepted (0: route over the tree only)")
	fs.BoolVar(&o.Compression, "compression", o.Compression, "S2-compress leafnode links (worth it across a WAN, ~5.5 MiB per link)")
	fs.BoolVar(&o.ParentOnly, "parent-only", o.ParentOnly, "reach the parent only through the -parent URLs, never the leafnode URLs it advertises (set it when -parent is a proxy, load balancer or NAT address)")
	fs.BoolVar(&o.WAN, "wan", o.WAN, "use WAN timings for reports and down detection")
	fs.BoolVar(&o.LeaveOnExit, "leave-on-exit", o.LeaveOnExit, "on SIGINT/SIGTERM, drain and remove the region instead of leaving it to be marked down")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "FeDist log level: debug, info, warn, error")
	fs.StringVar(&o.NATSLog, "nats-log", o.NATSLog, "embedded nats-server log level: trace, debug, info, warn, error")
	fs.BoolVar(&o.LogJSON, "log-json", o.LogJSON, "log JSON lines instead of console text")
	fs.StringVar(&o.TLSCA, "tls-ca", o.TLSCA, "federation CA certificate (fedist-root certs init); with -tls-cert and -tls-key turns on mutual TLS between servers")
	fs.StringVar(&o.TLSCert, "tls-cert", o.TLSCert, "this node's certificate (fedist-root certs node)")
	fs.StringVar(&o.TLSKey, "tls-key", o.TLSKey, "this node's private key")
	fs.BoolVar(&o.NoClientTLS, "no-client-tls", o.NoClientTLS, "with -tls-*, leave the client port plaintext (by default it offers TLS with the node's certificate, and client certificates of the federation name the user)")
	if kind == Child {
		fs.Var(&o.JoinTimeout, "join-timeout", "give up when the leafnode link to the parent is not up after this long, e.g. 2m (default 0: wait for ever)")
	}
	fs.BoolVar(&o.Insecure, "insecure", o.Insecure, "allow non-loopback listeners without TLS, and clients without credentials (anyone who reaches a port gets in)")
	return fs
}

// Defaults returns the defaults of a daemon kind.
func Defaults(kind Kind) Options {
	o := Options{LogLevel: "info", NATSLog: "warn", Replicas: 1, Shortcuts: 4, HTTP: "127.0.0.1:8222"}
	if kind == Root {
		o.ID, o.Name = "0001", "root"
		o.Listen, o.LeafListen = "127.0.0.1:4222", "127.0.0.1:7422"
	} else {
		o.Listen, o.LeafListen, o.HTTP = "127.0.0.1:-1", "127.0.0.1:-1", ""
	}
	return o
}

// Parse parses args over the defaults and the config file: flags win over the file.
func Parse(name string, kind Kind, args []string) (Options, error) {
	o := Defaults(kind)
	var path string
	fs := NewFlagSet(name, kind, &o, &path)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	if path == "" {
		return o, nil
	}
	// Load the file over the defaults, then apply the flags again so they win.
	o = Defaults(kind)
	if err := loadFile(path, &o); err != nil {
		return o, err
	}
	fs2 := NewFlagSet(name, kind, &o, &path)
	_ = fs2.Parse(args) // already parsed once without error
	return o, nil
}

func loadFile(path string, o *Options) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("config %s:%d: %v", path, lineOf(data, se.Offset), err)
		case errors.As(err, &te):
			return fmt.Errorf("config %s:%d: key %q wants a %s", path, lineOf(data, te.Offset), te.Field, te.Type)
		default:
			return fmt.Errorf("config %s:%d: %v (keys are the flag names, see -h)", path, lineOf(data, dec.InputOffset()), err)
		}
	}
	return nil
}

func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// splitHostPort parses host:port where port may be -1 (any free port). Empty gives port 0 (off).
func splitHostPort(what, s string) (string, int, error) {
	if s == "" {
		return "", 0, nil
	}
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("-%s %q: want host:port: %v", what, s, err)
	}
	p, err := strconv.Atoi(ps)
	if err != nil || p < -1 || p > 65535 {
		return "", 0, fmt.Errorf("-%s %q: port must be -1..65535", what, s)
	}
	if p == 0 {
		p = -1
	}
	return host, p, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// defaultNodeName names a node after its region and client port: two processes of one region on one
// machine then never share a name (a second process claiming a running node's name would knock its
// leafnode link off the parent in turns), while a restart on the same port is the same node. With
// an any-free-port listener it takes a random suffix instead.
func defaultNodeName(region string, port int) string {
	if port > 0 {
		return region + "-" + strconv.Itoa(port)
	}
	return region + "-" + nuid.Next()[:6]
}

// NodeConfig turns options into a node config, with log as the FeDist logger.
func (o *Options) NodeConfig(kind Kind, log zerolog.Logger) (node.Config, error) {
	id, err := regions.ParseRegion(o.ID)
	if err != nil {
		return node.Config{}, fmt.Errorf("-id: %w", err)
	}
	if o.Name == "" {
		return node.Config{}, fmt.Errorf("-name is required: the region's name, e.g. eu-west-1")
	}
	b := broker.DefaultConfig(id, "", "")
	if b.ClientHost, b.ClientPort, err = splitHostPort("listen", o.Listen); err != nil {
		return node.Config{}, err
	}
	nodeName := o.Node
	if nodeName == "" {
		nodeName = defaultNodeName(o.Name, b.ClientPort)
	}
	store := o.Store
	if store == "" {
		store = filepath.Join("fedist-data", id.String()+"-"+nodeName)
	}
	b.Node, b.StoreDir = nodeName, store
	if b.ClientPort == 0 {
		return node.Config{}, fmt.Errorf("-listen is required")
	}
	if b.LeafHost, b.LeafPort, err = splitHostPort("leaf-listen", o.LeafListen); err != nil {
		return node.Config{}, err
	}
	if b.ClusterHost, b.ClusterPort, err = splitHostPort("cluster", o.Cluster); err != nil {
		return node.Config{}, err
	}
	b.Routes = splitList(o.Routes)
	b.Advertise = o.Advertise
	if o.LeafToken != "" {
		b.LeafToken = o.LeafToken
	}
	b.Compression = o.Compression
	b.LeafIgnoreDiscovered = o.ParentOnly
	b.TLS.CA, b.TLS.Cert, b.TLS.Key = o.TLSCA, o.TLSCert, o.TLSKey
	b.Insecure = o.Insecure
	b.Users = o.Users
	tlsOn := o.TLSCA != "" || o.TLSCert != "" || o.TLSKey != ""
	b.ClientTLS = tlsOn && !o.NoClientTLS
	// Clients without credentials: always on loopback without TLS (the demo), never with TLS
	// unless -insecure says so, and never when users are configured.
	b.NoAuthApps = len(o.Users) == 0 && (!tlsOn || o.Insecure)
	if kind == Child {
		b.ParentURLs = splitList(o.Parent)
		if len(b.ParentURLs) == 0 {
			return node.Config{}, fmt.Errorf("-parent is required: the parent region's leafnode URL, e.g. nats-leaf://127.0.0.1:7422")
		}
	}
	natsLevel, err := zerolog.ParseLevel(o.NATSLog)
	if err != nil {
		return node.Config{}, fmt.Errorf("-nats-log %q: %v", o.NATSLog, err)
	}
	b.Log = log.Level(max(natsLevel, log.GetLevel()))
	b.Debug = natsLevel <= zerolog.DebugLevel
	b.Trace = natsLevel <= zerolog.TraceLevel
	cfg := node.DefaultConfig(b, o.Name, 0)
	if o.WAN {
		cfg = node.DefaultWANConfig(b, o.Name, 0)
		b.LeafDialTimeout = 5 * time.Second
		cfg.Broker = b
	}
	cfg.Log = log
	cfg.Replicas = o.Replicas
	cfg.Costs.K = o.Shortcuts
	if o.JoinTimeout < 0 {
		return node.Config{}, fmt.Errorf("-join-timeout %v: must not be negative", time.Duration(o.JoinTimeout))
	}
	cfg.JoinTimeout = time.Duration(o.JoinTimeout)
	if fi, err := os.Stat(store); err == nil && !fi.IsDir() {
		return node.Config{}, fmt.Errorf("-store %q is a file, not a directory", store)
	}
	return cfg, cfg.Validate()
}

// Duration is a time.Duration that reads "2m" both as a flag and in the JSON config file.
type Duration time.Duration

func (d *Duration) String() string { return time.Duration(*d).String() }

// Set parses a flag value.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON reads "2m" (or a number of nanoseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("want a duration such as \"2m\"")
		}
		*d = Duration(n)
		return nil
	}
	return d.Set(s)
}
