package node

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// Node is one running region node. Start returns at once; the join runs in the background and
// WaitReady reports how it ended.
type Node struct {
	cfg   Config
	log   zerolog.Logger
	b     *broker.Broker
	nc    *nats.Conn          // FeDist's account: control, registry, IDs
	js    jetstream.JetStream // FeDist's account, this region's own domain
	anc   *nats.Conn          // the applications' account: relay, ID ranges, registry copy, stream gateway
	ajs   jetstream.JetStream // the applications' account
	ov    *overlay.Overlay
	eng   *engine            // the cost engine's runtime
	reps  *replicas          // replication, reading side; nil when off
	owner *ownerSide         // replication, home side; nil when off
	sec   security           // signs control messages (and checks them at the root); zero in insecure mode
	hwm   jetstream.KeyValue // at the root: every region's ID high-water mark
	beat  beats              // the root's registry beats as received (beat.go)
	view  *regions.View

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // owns every goroutine the node starts

	mu     sync.Mutex // guards phase, err, parent, ids, root
	phase  string
	err    error // set when the node gave up (a refused join); the node then only waits for Shutdown
	parent regions.RegionID
	ids    *regions.Generator
	root   *rootService
	ready  chan struct{} // closed once Ready
	failed chan struct{} // closed when err is set

	stopOnce sync.Once
}

// Start validates cfg, starts the broker, and begins joining in the background.
func Start(cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	bcfg := cfg.Broker
	if !cfg.OpenClients {
		bcfg.AppPermissions = appPermissions(bcfg.Region)
	}
	bcfg.AppLeafDeny = overlay.AppLeafDeny()
	bcfg.ChildExports = map[string][]string{broker.FedistAccount: childControlExports(bcfg.Region), broker.AppAccount: overlay.AppLinkExports()}
	bcfg.ChildExportsFor = func(account string, child regions.RegionID) []string {
		if account != broker.FedistAccount {
			return nil
		}
		return childMirrorExports(bcfg.Region, child)
	}
	n := &Node{cfg: cfg}
	n.eng = newEngine(n)
	if cfg.Costs.K > 0 {
		bcfg.ShortcutPermissions, bcfg.ShortcutAdmit = shortcutPermissions(bcfg.Region), n.eng.admit
	}
	b, err := broker.Start(bcfg)
	if err != nil {
		return nil, err
	}
	sec, err := newSecurity(cfg.Broker.TLS)
	if err != nil {
		_ = b.Shutdown(context.Background())
		return nil, err
	}
	n.b, n.sec = b, sec
	// Before connect: its subscriptions (beats) read the view and log from their first message.
	n.view = regions.NewView()
	n.log = cfg.Log.With().Str("region", cfg.Broker.Region.String()).Str("node", cfg.Broker.Node).Logger()
	if err := n.connect(); err != nil {
		n.closeConns()
		_ = b.Shutdown(context.Background())
		return nil, fmt.Errorf("node %s: %w", b.Name(), err)
	}
	ocfg := cfg.Overlay
	ocfg.Engine = n.eng
	if !cfg.Replication.Off {
		rlog := cfg.Log.With().Str("region", cfg.Broker.Region.String()).Str("node", cfg.Broker.Node).Str("part", "replication").Logger()
		if n.reps, err = newReplicas(n, cfg.Replication, rlog); err != nil {
			n.closeConns()
			_ = b.Shutdown(context.Background())
			return nil, fmt.Errorf("node %s: replication: %w", b.Name(), err)
		}
		n.owner = newOwnerSide(n, cfg.Replication, rlog)
		ocfg.Replicas = n.reps
	}
	ov, err := overlay.Start(n.anc, cfg.Broker.Region, cfg.Broker.Node, ocfg, cfg.Log)
	if err != nil {
		n.closeConns()
		_ = b.Shutdown(context.Background())
		return nil, fmt.Errorf("node %s: overlay: %w", b.Name(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.eng.log = n.log.With().Str("part", "costs").Logger()
	n.ov, n.ctx, n.cancel = ov, ctx, cancel
	n.phase, n.ready, n.failed = "starting", make(chan struct{}), make(chan struct{})
	n.log.Info().Str("client", b.ClientURL()).Str("leaf", b.LeafURL()).Str("cluster", b.ClusterURL()).Msg("broker started")
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.run()
	}()
	return n, nil
}

// connect opens the node's two in-process connections and answers the root's "is this process
// still running?" (see rootService.nodeRunning).
func (n *Node) connect() error {
	var err error
	if n.nc, err = n.b.Connect("fedist-node "+n.b.Name(), broker.FedistAccount); err != nil {
		return fmt.Errorf("in-process connection: %w", err)
	}
	if n.anc, err = n.b.Connect("fedist-node-app "+n.b.Name(), broker.AppAccount); err != nil {
		return fmt.Errorf("in-process connection: %w", err)
	}
	domain := broker.Domain(n.cfg.Broker.Region)
	if n.js, err = jetstream.NewWithDomain(n.nc, domain); err != nil {
		return err
	}
	if n.ajs, err = jetstream.New(n.anc); err != nil {
		return err
	}
	if _, err := n.nc.Subscribe(SubjectInstance+n.b.Server().ID(), func(m *nats.Msg) { _ = m.Respond(nil) }); err != nil {
		return err
	}
	if err := n.listenBeats(); err != nil {
		return err
	}
	return n.startJSGateway()
}

func (n *Node) closeConns() {
	for _, c := range []*nats.Conn{n.nc, n.anc} {
		if c != nil {
			c.Close()
		}
	}
}

func (n *Node) run() {
	var err error
	if n.cfg.IsRoot() {
		err = n.startRoot()
	} else {
		err = n.joinParent()
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			n.fail(err)
		}
		return
	}
	n.setPhase("ready")
	close(n.ready)
	n.log.Info().Msg("ready: region is active in the local registry mirror")
	if err := errors.Join(n.eng.subscribeAdverts(), n.eng.subscribeTraffic()); err != nil {
		n.log.Error().Err(err).Msg("cost engine: cannot take adverts; routing stays on the tree")
	} else {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.eng.run()
		}()
	}
	if n.reps != nil {
		if err := errors.Join(n.reps.subscribe(), n.owner.subscribe()); err != nil {
			n.log.Error().Err(err).Msg("replication: cannot take holds or pushes; lookups go to their home regions")
		} else {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				n.runReplication()
			}()
		}
	}
	n.reportLinks()
}

// runReplication renews holds and sends heartbeats every Heartbeat until the node stops.
func (n *Node) runReplication() {
	tick := time.NewTicker(n.cfg.Replication.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		n.reps.maintain(n.eng.clock())
		n.owner.maintain(time.Now())
	}
}

func (n *Node) fail(err error) {
	n.mu.Lock()
	n.err = err
	n.phase = "failed"
	n.mu.Unlock()
	close(n.failed)
	n.log.Error().Err(err).Msg("node gave up")
}

func (n *Node) setPhase(p string) {
	n.mu.Lock()
	n.phase = p
	n.mu.Unlock()
	n.log.Info().Str("phase", p).Msg("node phase")
}

// WaitReady blocks until the node is ready (nil), gave up (its error, e.g. a *RefusedError), or ctx
// ends.
func (n *Node) WaitReady(ctx context.Context) error {
	select {
	case <-n.ready:
		return nil
	case <-n.failed:
		return n.Err()
	case <-ctx.Done():
		return fmt.Errorf("node %s not ready (phase %s): %w", n.b.Name(), n.Phase(), ctx.Err())
	}
}

// Ready is closed once the node's region shows active in its own registry mirror.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Failed is closed when the node gave up; Err says why.
func (n *Node) Failed() <-chan struct{} { return n.failed }

// Err returns why the node gave up, or nil.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}

// Phase says what the node is doing: starting, connecting, joining, syncing, ready or failed.
func (n *Node) Phase() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.phase
}

// Health returns nil once ready, else an error that says what the node is waiting for.
func (n *Node) Health() error {
	select {
	case <-n.ready:
		return nil
	default:
	}
	if err := n.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrNotJoined, n.Phase())
}

// Broker returns the embedded broker.
func (n *Node) Broker() *broker.Broker { return n.b }

// Conn returns the node's own in-process connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Overlay returns the node's overlay (mappings and lookup egress).
func (n *Node) Overlay() *overlay.Overlay { return n.ov }

// Region returns this node's region.
func (n *Node) Region() regions.RegionID { return n.cfg.Broker.Region }

// Name returns the region's name.
func (n *Node) Name() string { return n.cfg.Name }

// View returns the node's live copy of the registry (its mirror, or the bucket at the root).
func (n *Node) View() *regions.View { return n.view }

// Parent returns the parent region, 0 at the root or before the parent link is first seen.
func (n *Node) Parent() regions.RegionID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.parent
}

// NewID hands out a record ID of this region. It fails with ErrNotJoined before the node is ready.
func (n *Node) NewID(ctx context.Context) (regions.ID, error) {
	n.mu.Lock()
	g := n.ids
	n.mu.Unlock()
	if g == nil {
		return 0, ErrNotJoined
	}
	return g.Next(ctx)
}

// Shutdown stops the node's goroutines and its broker. It is idempotent.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	n.stopOnce.Do(func() {
		n.cancel()
		if oerr := n.ov.Stop(); oerr != nil {
			n.log.Warn().Err(oerr).Msg("overlay stop")
		}
		// Close the connections before waiting: a watch's Stop asks JetStream to delete its
		// consumer, and the last node of a clustered region has no quorum left to answer (the
		// wait would last the 5 s request timeout).
		n.closeConns()
		n.wg.Wait()
		err = n.b.Shutdown(ctx)
		n.log.Info().Msg("node stopped")
	})
	return err
}

// sleep waits d or until the node stops; it reports whether the node is still running.
func (n *Node) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-n.ctx.Done():
		return false
	}
}
