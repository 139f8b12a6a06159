package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// testCtx returns a context that ends after d or when the test ends: the bound of a whole test.
func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// poll calls fn every step until it returns nil, and returns fn's last error once total has passed
// or ctx has ended. It returns nil and how long it took on success.
func poll(ctx context.Context, total, step time.Duration, fn func() error) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, total)
	defer cancel()
	for {
		err := fn()
		if err == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("not within %v: %w", time.Since(start).Round(time.Millisecond), err)
		case <-time.After(step):
		}
	}
}

// waitFor is poll that fails the test, saying what it waited for.
func waitFor(t *testing.T, ctx context.Context, total time.Duration, what string, fn func() error) time.Duration {
	t.Helper()
	d, err := poll(ctx, total, 20*time.Millisecond, fn)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return d
}

// httpGet returns the status and body of a GET, bounded by ctx and a short timeout of its own.
func httpGet(ctx context.Context, url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// ready reports nil once the daemon's /healthz?ready answers 200.
func (d *daemon) ready(ctx context.Context) error {
	if p := d.proc(); p.exited() {
		return fmt.Errorf("%s exited: %v\n%s", d.name, p.err, tail(p.out.String(), 5))
	}
	code, body, err := httpGet(ctx, d.HTTP()+"/healthz?ready")
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s /healthz?ready: %d %s", d.name, code, body)
	}
	return nil
}

// waitReady waits until the daemon is ready (joined, link to its parent up).
func (d *daemon) waitReady(t *testing.T, ctx context.Context) {
	t.Helper()
	waitFor(t, ctx, 30*time.Second, d.name+" ready", func() error { return d.ready(ctx) })
}

// registryAt reads every registry entry from the copy at the node whose client URL is url, the way
// `nats kv ls fedist-registry` would: a plain connection with the region's inbox prefix.
func registryAt(ctx context.Context, url string) (map[regions.RegionID]*regions.Entry, error) {
	probe, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return nil, err
	}
	r, _, ok := regions.ParseServerName(probe.ConnectedServerName())
	probe.Close()
	if !ok {
		return nil, fmt.Errorf("%s is not a FeDist node", url)
	}
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect(), nats.CustomInboxPrefix(overlay.InboxPrefix(r)))
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	reg, err := regions.OpenRegistry(ctx, js)
	if err != nil {
		return nil, err
	}
	list, err := reg.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[regions.RegionID]*regions.Entry, len(list))
	for _, e := range list {
		out[e.ID] = e
	}
	return out, nil
}

// statusesAt reports nil when every region of want has its status in the registry copy at url.
func statusesAt(ctx context.Context, url string, want map[regions.RegionID]regions.Status) error {
	got, err := registryAt(ctx, url)
	if err != nil {
		return fmt.Errorf("registry at %s: %w", url, err)
	}
	for id, st := range want {
		e := got[id]
		switch {
		case e == nil:
			return fmt.Errorf("%s missing from the registry at %s", id, url)
		case e.Status != st:
			return fmt.Errorf("%s is %s at %s, want %s", id, e.Status, url, st)
		}
	}
	return nil
}

// viewStatus reports nil when a client's live registry copy shows region r with status st.
func viewStatus(v *regions.View, r regions.RegionID, st regions.Status) error {
	got, ok := v.Status(r)
	if !ok {
		return fmt.Errorf("%s not in the client's registry copy", r)
	}
	if got != st {
		return fmt.Errorf("%s is %s in the client's registry copy, want %s", r, got, st)
	}
	return nil
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// logRoutes logs how the daemon's cost engine routes to every region (GET /routes), so a run's log
// shows whether traffic took a shortcut or the tree.
func logRoutes(t *testing.T, ctx context.Context, d *daemon) {
	t.Helper()
	_, body, err := httpGet(ctx, d.HTTP()+"/api/routes")
	if err != nil {
		t.Logf("%s routes: %v", d.name, err)
		return
	}
	var b bytes.Buffer
	if json.Compact(&b, []byte(body)) == nil {
		body = b.String()
	}
	t.Logf("%s routes: %s", d.name, body)
}

// firstTimes polls every condition every 10 ms until each has held once, and returns how long after
// from each first held. A condition that has not held within total fails the test.
func firstTimes(t *testing.T, ctx context.Context, total time.Duration, from time.Time, conds map[string]func() error) map[string]time.Duration {
	t.Helper()
	got := map[string]time.Duration{}
	last := map[string]error{}
	_, err := poll(ctx, total, 10*time.Millisecond, func() error {
		for name, cond := range conds {
			if _, done := got[name]; done {
				continue
			}
			if last[name] = cond(); last[name] == nil {
				got[name] = time.Since(from)
			}
		}
		if len(got) < len(conds) {
			return fmt.Errorf("%d of %d conditions held", len(got), len(conds))
		}
		return nil
	})
	if err != nil {
		for name, e := range last {
			if _, done := got[name]; !done {
				t.Errorf("%s: %v", name, e)
			}
		}
		t.Fatalf("waiting: %v", err)
	}
	return got
}

// downGrace is how long after admitting a region the root leaves it active without a live link
// (node.Config.DownGrace of the daemons' default config).
var downGrace = node.DefaultConfig(broker.Config{}, "", 0).DownGrace

// waitPastGrace waits until the root admitted each of rs more than downGrace ago (by the entry's
// Updated time in the root's registry), so that a fault measures steady-state detection rather
// than the grace of a region that has only just joined.
func waitPastGrace(t *testing.T, ctx context.Context, root *daemon, rs ...regions.RegionID) {
	t.Helper()
	waitFor(t, ctx, 2*downGrace+10*time.Second, "the root's down grace over", func() error {
		reg, err := registryAt(ctx, root.URL())
		if err != nil {
			return err
		}
		for _, r := range rs {
			e := reg[r]
			if e == nil {
				return fmt.Errorf("%s not in the registry", r)
			}
			at, err := time.Parse(time.RFC3339Nano, e.Updated)
			if err != nil {
				return fmt.Errorf("%s updated %q: %v", r, e.Updated, err)
			}
			if since := time.Since(at); since <= downGrace {
				return fmt.Errorf("%s written %v ago", r, since.Round(time.Millisecond))
			}
		}
		return nil
	})
}
