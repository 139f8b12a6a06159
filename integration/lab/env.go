package lab

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// labKind is the record kind of the lab's lookups: fd.<r>.get.lab.<id>.
const labKind = "lab"

// lookupEnv is one federation's lookup endpoints: in every region a responder for
// fd.<r>.get.lab.*, and the connection the region's lookups leave from. In ModeNATS both are one
// plain nats.Conn. In ModeFeDist both are one application client (client.Client): its requests go
// where the region's route hints send them, and its responder (Client.Serve) copies the Fd-Path
// header into the answer, so the lab sees which relays a request crossed.
type lookupEnv struct {
	f       *fed.Federation
	cfg     *Config
	conns   map[regions.RegionID]*nats.Conn
	clients map[regions.RegionID]*client.Client
}

// newLookupEnv connects to every region and starts its responder. In ModeFeDist it then waits, as
// an application should, until every region knows every responder (Client.WaitServe), bounded by
// Config.WarmupTimeout; a region that does not shows up as a pair that never answered.
func newLookupEnv(ctx context.Context, f *fed.Federation, cfg *Config) (*lookupEnv, error) {
	env := &lookupEnv{f: f, cfg: cfg, conns: map[regions.RegionID]*nats.Conn{}, clients: map[regions.RegionID]*client.Client{}}
	for _, r := range f.Topology().Regions() {
		if err := env.connect(ctx, r.ID); err != nil {
			env.close()
			return nil, err
		}
	}
	if env.fedist() {
		wctx, cancel := context.WithTimeout(ctx, cfg.WarmupTimeout)
		defer cancel()
		var wg sync.WaitGroup
		for _, c := range env.clients {
			wg.Go(func() { _ = c.WaitServe(wctx, labKind) })
		}
		wg.Wait()
	}
	return env, nil
}

func (env *lookupEnv) connect(ctx context.Context, r regions.RegionID) error {
	if !env.fedist() {
		nc, err := env.f.Connect(r)
		if err != nil {
			return err
		}
		env.conns[r] = nc
		// The responder: any NATS client in region r may answer r's lookups.
		if _, err := nc.Subscribe(fmt.Sprintf("fd.%s.get.%s.*", r, labKind), func(m *nats.Msg) { _ = m.Respond(lookupAnswer) }); err != nil {
			return err
		}
		return nc.Flush()
	}
	cctx, cancel := context.WithTimeout(ctx, env.cfg.WarmupTimeout)
	defer cancel()
	c, err := client.Connect(cctx, strings.Join(env.f.ClientURLs(r), ","), nats.Name("fedist-lab in "+env.f.Topology().Name(r)))
	if err != nil {
		return fmt.Errorf("client of %s: %w", env.f.Topology().Name(r), err)
	}
	env.clients[r] = c
	_, err = c.Serve(labKind, func(context.Context, regions.ID) ([]byte, error) { return lookupAnswer, nil })
	return err
}

func (env *lookupEnv) fedist() bool { return env.f.Mode() == fed.ModeFeDist }

// close closes the application clients; the federation closes the plain connections.
func (env *lookupEnv) close() {
	for _, c := range env.clients {
		c.Close()
	}
}

// timeout bounds one lookup of p: Config.RequestTimeout, or 2 s plus three tree path RTTs.
func (env *lookupEnv) timeout(p Pair) time.Duration {
	if env.cfg.RequestTimeout > 0 {
		return env.cfg.RequestTimeout
	}
	tree, _ := env.f.Topology().TreeRTT(p.From.ID, p.To.ID)
	return 2*time.Second + 3*topo.Ms(tree)
}

// lookup makes one lookup from p.From of record seq of p.To, as an application would (bypassing
// replicas), and returns
// the answer's Fd-Path header ("" for the tree, and always in ModeNATS).
func (env *lookupEnv) lookup(ctx context.Context, p Pair, seq uint64, timeout time.Duration) (string, error) {
	subject := lookupSubject(p.To.ID, seq)
	if !env.fedist() {
		_, err := env.conns[p.From.ID].Request(subject, nil, timeout)
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// Fresh: the cost engine's figures are about paths, so no replica may answer.
	m, err := env.clients[p.From.ID].LookupMsg(ctx, "lab", regions.NewID(p.To.ID, seq), client.Fresh())
	if err != nil {
		return "", err
	}
	return m.Header.Get(overlay.HeaderPath), nil
}

// counts is how many lookups were sent and how many of them failed, the last with LastErr.
type counts struct {
	Sent, Failed int
	LastErr      string
}

// background sends each pair one lookup per interval until stopped and, in ModeFeDist, counts
// the seconds in which the route tables changed.
type background struct {
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	sent, failed atomic.Int64
	changes      atomic.Int64
	lastErr      atomic.Pointer[string]
	heldMax      map[string]int // per node (server name): the most shortcuts held, polled every second; owned by the poller until stop
}

func startBackground(ctx context.Context, env *lookupEnv, pairs []Pair, every time.Duration) *background {
	ctx, cancel := context.WithCancel(ctx)
	bg := &background{cancel: cancel, heldMax: map[string]int{}}
	if every > 0 {
		for _, p := range pairs {
			bg.wg.Go(func() {
				// Spread the pairs over the interval so that they do not send in step.
				phase := time.Duration(rand.Int64N(int64(every)))
				if !sleepCtx(ctx, phase) {
					return
				}
				for seq := uint64(1 << 40); ; seq++ {
					next := time.Now().Add(every)
					_, err := env.lookup(ctx, p, seq, env.timeout(p))
					if ctx.Err() != nil {
						return
					}
					bg.sent.Add(1)
					if err != nil {
						bg.failed.Add(1)
						msg := err.Error()
						bg.lastErr.Store(&msg)
					}
					if !sleepCtx(ctx, time.Until(next)) {
						return
					}
				}
			})
		}
	}
	if env.fedist() {
		bg.wg.Go(func() {
			last := routeSignature(env.f)
			for sleepCtx(ctx, time.Second) {
				if s := routeSignature(env.f); s != last {
					bg.changes.Add(1)
					last = s
				}
				for _, r := range env.f.Topology().Regions() {
					for _, n := range env.f.Nodes(r.ID) {
						sc := n.Shortcuts()
						name := n.Broker().Name()
						bg.heldMax[name] = max(bg.heldMax[name], len(sc.Opened)+sc.Accepted)
					}
				}
			}
		})
	}
	return bg
}

// stop ends the background lookups, waits for them and returns the seconds with route changes
// and the lookups' counts. bg.heldMax is the caller's afterwards.
func (bg *background) stop() (int, counts) {
	bg.cancel()
	bg.wg.Wait()
	c := counts{Sent: int(bg.sent.Load()), Failed: int(bg.failed.Load())}
	if e := bg.lastErr.Load(); e != nil {
		c.LastErr = *e
	}
	return int(bg.changes.Load()), c
}

// sleepCtx sleeps for d, and reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
