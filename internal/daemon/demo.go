package daemon

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// demoRegion is one region of the demo federation. Its nodes listen on ports[i] for clients and
// ports[i]+3200 for child regions' leafnodes (the README's 4222/7422 pattern).
type demoRegion struct {
	id     regions.RegionID
	name   string
	parent regions.RegionID
	ports  []int
}

// demoTree is the federation the README's examples use: root ← a ← a1 and root ← b, with a on two
// clustered nodes, on the README's client ports.
var demoTree = []demoRegion{
	{0x0001, "root", 0, []int{4222}},
	{0x00a0, "a", 0x0001, []int{4232, 4233}},
	{0x00a1, "a1", 0x00a0, []int{4242}},
	{0x00b0, "b", 0x0001, []int{4252}},
}

// leafPortOffset turns a demo client port into its leafnode port.
const leafPortOffset = 7422 - 4222

// Demo is a running in-process demo federation.
type Demo struct {
	Nodes map[regions.RegionID][]*node.Node
	store string
	keep  bool
}

// RunDemo starts the demo federation, prints how to use it, and runs until ctx ends.
func RunDemo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fedist-root -demo", flag.ContinueOnError)
	logLevel := fs.String("log-level", "warn", "FeDist log level")
	natsLog := fs.String("nats-log", "fatal", "embedded nats-server log level (the demo's start-up route and meta-leader warnings are expected)")
	store := fs.String("store", "", "JetStream directory for all demo nodes (default: a temporary one, removed on exit)")
	ports := fs.String("ports", "fixed", "fixed: the README's ports (client 4222, 4232-4233, 4242, 4252; leafnode +3200), so its examples run as written; random: any free ports")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := NewLogger(out, *logLevel, false)
	if err != nil {
		return err
	}
	start := time.Now()
	natsLevel, err := zerolog.ParseLevel(*natsLog)
	if err != nil {
		return fmt.Errorf("-nats-log %q: %v", *natsLog, err)
	}
	fmt.Fprintln(out, "starting the FeDist demo federation (a two-node region needs a few seconds to elect a JetStream leader)...")
	if *ports != "fixed" && *ports != "random" {
		return fmt.Errorf("%w: -ports %q: want fixed or random", errUsage, *ports)
	}
	d, err := StartDemo(ctx, *store, *ports == "fixed", log, natsLevel)
	if err != nil {
		return err
	}
	fmt.Fprint(out, d.Describe(time.Since(start)))
	<-ctx.Done()
	fmt.Fprintln(out, "\nstopping the demo federation")
	return d.Shutdown()
}

// StartDemo starts every demo node and waits until all are ready. fixed puts the nodes on the
// README's ports; otherwise they take any free ones.
func StartDemo(ctx context.Context, store string, fixed bool, log zerolog.Logger, natsLevel zerolog.Level) (*Demo, error) {
	d := &Demo{Nodes: map[regions.RegionID][]*node.Node{}, store: store, keep: store != ""}
	if store == "" {
		dir, err := os.MkdirTemp("", "fedist-demo-")
		if err != nil {
			return nil, err
		}
		d.store = dir
	}
	for _, r := range demoTree {
		if err := d.startRegion(r, fixed, log, natsLevel); err != nil {
			_ = d.Shutdown()
			return nil, err
		}
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		for _, n := range d.Nodes[r.id] {
			err := n.WaitReady(wctx)
			if err != nil {
				cancel()
				_ = d.Shutdown()
				return nil, fmt.Errorf("demo region %s (%s): %w", r.id, r.name, err)
			}
		}
		cancel()
	}
	return d, nil
}

func (d *Demo) startRegion(r demoRegion, fixed bool, log zerolog.Logger, natsLevel zerolog.Level) error {
	var routes []string
	if len(r.ports) > 1 {
		for range r.ports {
			p, err := freePort()
			if err != nil {
				return err
			}
			routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", p))
		}
	}
	for i, port := range r.ports {
		nodeName := defaultNodeName(r.name, port) // as the daemons name them: a-4232
		b := broker.DefaultConfig(r.id, nodeName, filepath.Join(d.store, r.id.String()+"-"+nodeName))
		if fixed {
			b.ClientPort, b.LeafPort = port, port+leafPortOffset
			for _, p := range []int{b.ClientPort, b.LeafPort} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					return fmt.Errorf("demo region %s (%s): port %d is taken (another demo or daemon running?): stop it, or run the demo with -ports random", r.id, r.name, p)
				}
				_ = l.Close()
			}
		}
		b.Log = log.Level(natsLevel)
		if r.parent != 0 {
			for _, pn := range d.Nodes[r.parent] {
				b.ParentURLs = append(b.ParentURLs, pn.Broker().LeafURL())
			}
		}
		if routes != nil {
			b.ClusterHost = "127.0.0.1"
			if _, err := fmt.Sscanf(routes[i][strings.LastIndex(routes[i], ":")+1:], "%d", &b.ClusterPort); err != nil {
				return fmt.Errorf("demo route %s: %w", routes[i], err)
			}
			b.Routes = routes
		}
		cfg := node.DefaultConfig(b, r.name, r.parent)
		cfg.Log = log
		n, err := node.Start(cfg)
		if err != nil {
			return fmt.Errorf("demo region %s (%s): %w", r.id, r.name, err)
		}
		d.Nodes[r.id] = append(d.Nodes[r.id], n)
	}
	return nil
}

func freePort() (int, error) { return broker.PickPort("127.0.0.1") }

// Describe tells a person what runs and what to try.
func (d *Demo) Describe(took time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "FeDist demo federation: %d regions up in %v (store %s)\n\n", len(demoTree), took.Round(time.Millisecond), d.store)
	fmt.Fprintf(&sb, "%-6s %-10s %-8s %s\n", "region", "name", "parent", "client URL(s)")
	for _, r := range demoTree {
		parent := "-"
		if r.parent != 0 {
			parent = r.parent.String()
		}
		var urls []string
		for _, n := range d.Nodes[r.id] {
			urls = append(urls, n.Broker().ClientURL())
		}
		fmt.Fprintf(&sb, "%-6s %-10s %-8s %s\n", r.id, r.name, parent, strings.Join(urls, " "))
	}
	deep := d.Nodes[0x00a1][0].Broker().ClientURL()
	other := d.Nodes[0x00b0][0].Broker().ClientURL()
	root := d.Nodes[0x0001][0].Broker().ClientURL()
	// A client may receive replies only on its region's inboxes: requests and KV reads from a1
	// (00a1) use its prefix. The README's section "Talk to other regions" has the same lines.
	deepIn := fmt.Sprintf("--server %s --inbox-prefix %s", deep, overlay.InboxPrefix(0x00a1))
	fmt.Fprintf(&sb, "\nTry (stock nats CLI; a client receives replies only on its region's inboxes, _INBOX.<region>):\n")
	fmt.Fprintf(&sb, "  nats %s kv watch fedist-registry     # the registry, from a1's copy\n", deepIn)
	fmt.Fprintf(&sb, "  nats %s kv get fedist-registry region.00b0 --raw\n", deepIn)
	fmt.Fprintf(&sb, "  nats --server %s reply 'fd.00b0.get.users.*' alice     # a lookup responder in b\n", other)
	fmt.Fprintf(&sb, "  nats %s req fd.00b0.get.users.00b0000000000001 ''   # ...asked from a1\n", deepIn)
	fmt.Fprintf(&sb, "  nats --server %s sub 'fd.00b0.>'   then   nats --server %s pub fd.00b0.events hello\n", other, root)
	fmt.Fprintf(&sb, "\nPress Ctrl-C to stop.\n")
	return sb.String()
}

// Shutdown stops every node, children first, and removes a temporary store.
func (d *Demo) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for i := len(demoTree) - 1; i >= 0; i-- {
		for _, n := range d.Nodes[demoTree[i].id] {
			errs = append(errs, n.Shutdown(ctx))
		}
	}
	if !d.keep {
		errs = append(errs, os.RemoveAll(d.store))
	}
	return errors.Join(errs...)
}
