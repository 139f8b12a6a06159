package fault

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
)

// TestKillRootNodeHA runs the root region on three clustered fedist-root processes (-cluster,
// -routes, -replicas 3, a store each) with regions A and B under it (-parent naming all three root
// nodes' leafnode URLs), and kills one root node with SIGKILL at a time, a ready one first, while
// the writers join regions and write Zyx records and A looks B's records up. While each node is
// down, joins are still acknowledged and lookups cross the root; the node rejoins after a restart
// on its store; no acknowledged write is lost.
func TestKillRootNodeHA(t *testing.T) {
	skipShort(t)
	ctx := testCtx(t, 4*time.Minute)
	roots := startHARoot(t, ctx)
	parent := rootLeafURLs(roots...)
	a := newDaemon(t, "fedist-node", "a", "-id", "00a0", "-name", "a", "-node", "a-1", "-parent", parent)
	b := newDaemon(t, "fedist-node", "b", "-id", "00b0", "-name", "b", "-node", "b-1", "-parent", parent)
	a.start(t)
	b.start(t)
	a.waitReady(t, ctx)
	b.waitReady(t, ctx)
	haRegions := []regions.RegionID{rootID, aID, bID}
	active := map[regions.RegionID]regions.Status{rootID: regions.StatusActive, aID: regions.StatusActive, bID: regions.StatusActive}
	all := append(append([]*daemon{}, roots...), a, b)
	for _, d := range all {
		waitFor(t, ctx, 30*time.Second, "registry converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), active) })
	}
	ca, cb := connect(t, ctx, a), connect(t, ctx, b)
	serveIDs(t, ctx, cb, haRegions...)
	za, zb := startZyx(t, ctx, a), startZyx(t, ctx, b)

	h := NewHistory()
	lk := startLooker(t, "a→b", ca, regions.NewID(bID, 1))
	lk.waitOutcome(t, ctx, 20*time.Second, time.Now(), outOK)
	jw := startJoinWriter(t, h, 0x0c01, func() string { return parent })
	zw := startZyxWriter(t, h, za, zb)
	waitAcks(t, ctx, h, "join", 2)
	waitAcks(t, ctx, h, "zyx-post", 2)

	killed := map[*daemon]bool{}
	for turn := 1; turn <= len(roots); turn++ {
		victim := pickReady(t, ctx, roots, killed)
		killed[victim] = true
		h.Mark("kill -9 " + victim.name)
		at := time.Now()
		victim.kill9(t)
		// Joins go on: one started after the kill is acknowledged while the node is down.
		var join Op
		joinAfter := waitFor(t, ctx, 60*time.Second, "a join acknowledged with "+victim.name+" down", func() error {
			if join = firstAck(h, "join", at); join.Key == "" {
				return fmt.Errorf("none since the kill:\n%s", h.Summary(5))
			}
			return nil
		})
		lk.waitOutcome(t, ctx, 30*time.Second, at, outOK)
		outage := lk.between(at, time.Time{})
		h.Mark("restart " + victim.name)
		restarted := time.Now()
		victim.start(t)
		victim.waitReady(t, ctx)
		for _, d := range all {
			waitFor(t, ctx, 30*time.Second, "registry converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), active) })
		}
		figures(t, "kill9-root-node", "node", victim.name, "turn", turn, "join_acked_ms", ms(joinAfter),
			"lookups", len(outage), "ok", count(outage, outOK), "fastfail", count(outage, fastFail...), "timeouts", count(outage, outTimeout),
			"rejoin_ms", ms(time.Since(restarted)))
	}
	lk.stop()

	jw.stop()
	zw.stop()
	jw.checkCrashes(t)
	urls := make([]string, 0, len(all))
	for _, d := range all {
		urls = append(urls, d.URL())
	}
	v := verifyWrites(t, ctx, h, checker(map[string]func(context.Context, Op) error{
		"join": joinPresent(urls...), "zyx-user": zyxPresent(za), "zyx-post": zyxPresent(za),
	}))
	figures(t, "kill9-root-node-writes", "acked", v.Acked, "failed", v.Failed, "unknown", v.Unknown, "lost", len(v.Lost))
}

// startHARoot starts the root region on three clustered nodes and waits until all are ready.
func startHARoot(t *testing.T, ctx context.Context) []*daemon {
	t.Helper()
	var routes []string
	ports := make([]int, 3)
	for i := range ports {
		p, err := broker.PickPort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(p))
	}
	var roots []*daemon
	for i, p := range ports {
		name := fmt.Sprintf("r%d", i+1)
		d := newDaemon(t, "fedist-root", "root-"+name, "-id", "0001", "-name", "root", "-node", name,
			"-cluster", "127.0.0.1:"+strconv.Itoa(p), "-routes", strings.Join(routes, ","), "-replicas", "3")
		d.start(t)
		roots = append(roots, d)
	}
	for _, d := range roots {
		d.waitReady(t, ctx)
	}
	return roots
}

// pickReady returns a root node not killed yet whose /healthz?ready answers 200: the elected
// registry writer if it is one of them (by its last "registry writer" log line), else the first.
func pickReady(t *testing.T, ctx context.Context, roots []*daemon, killed map[*daemon]bool) *daemon {
	t.Helper()
	var got *daemon
	waitFor(t, ctx, 30*time.Second, "a ready root node to kill", func() error {
		got = nil
		for _, d := range roots {
			if killed[d] || d.ready(ctx) != nil {
				continue
			}
			if got == nil || isWriter(d) {
				got = d
			}
		}
		if got == nil {
			return fmt.Errorf("no root node left that is ready")
		}
		return nil
	})
	t.Logf("killing %s (registry writer: %v)", got.name, isWriter(got))
	return got
}

// isWriter reports whether a root node's log says it is the elected registry writer now.
func isWriter(d *daemon) bool {
	last := ""
	for _, line := range strings.Split(d.proc().out.String(), "\n") {
		if i := strings.Index(line, "registry writer"); i >= 0 {
			last = line
		}
	}
	return strings.Contains(last, "elected registry writer")
}
