package fed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// appClient connects an application client to region r.
func appClient(t *testing.T, f *Federation, r regions.RegionID) *client.Client {
	t.Helper()
	c, err := client.Connect(ctxFor(t, 20*time.Second), strings.Join(f.ClientURLs(r), ","))
	if err != nil {
		t.Fatalf("client of %s: %v", r, err)
	}
	t.Cleanup(c.Close)
	return c
}

// lookupPath makes one lookup from c of a record of region to and returns the relay path the
// answer reports (overlay.HeaderPath; empty when the request took the tree only). It bypasses
// replicas, so that every lookup crosses the links under test.
func lookupPath(ctx context.Context, c *client.Client, to regions.RegionID) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := c.LookupMsg(ctx, "users", regions.NewID(to, 7), client.Fresh())
	if err != nil {
		return "", err
	}
	return m.Header.Get(overlay.HeaderPath), nil
}

// TestShortcutCarriesTraffic: lookups from A1 to B, whose tree path (A1-A-root-B, 12 ms) is four
// times the direct RTT (3 ms), move to a shortcut A1→B; while they use it, the tree links carry
// none of their bytes; when the shortcut is cut, lookups go back to the tree and keep succeeding.
func TestShortcutCarriesTraffic(t *testing.T) {
	f := startFed(t, smallTopo(t), ModeFeDist)
	src, dst := appClient(t, f, a1ID), appClient(t, f, bID)
	payload := make([]byte, 4096)
	if _, err := dst.Serve("users", func(context.Context, regions.ID) ([]byte, error) { return payload, nil }); err != nil {
		t.Fatal(err)
	}
	if err := dst.WaitServe(ctxFor(t, 20*time.Second), "users", a1ID); err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t, 2*time.Minute)
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		p, err := lookupPath(ctx, src, bID)
		if err != nil {
			return err
		}
		if p != "00a1:s,00b0:t" {
			return fmt.Errorf("path %q, want the shortcut 00a1:s,00b0:t", p)
		}
		return nil
	})

	tree := [][2]regions.RegionID{{a1ID, aID}, {aID, rootID}, {bID, rootID}}
	treeBytes := func() int64 {
		var n int64
		for _, l := range tree {
			s := f.Net().Stats(l[0], l[1])
			n += s.BytesUp + s.BytesDown
		}
		return n
	}
	scBytes := func() int64 { s := f.Net().Stats(a1ID, bID); return s.BytesUp + s.BytesDown }
	const n = 200
	t0, s0 := treeBytes(), scBytes()
	for i := range n {
		p, err := lookupPath(ctx, src, bID)
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if p != "00a1:s,00b0:t" {
			t.Fatalf("lookup %d took %q while the shortcut is open", i, p)
		}
	}
	dt, ds := treeBytes()-t0, scBytes()-s0
	t.Logf("%d lookups of 4 KiB: shortcut %d bytes, tree links %d bytes (probes, adverts, registry)", n, ds, dt)
	if ds < n*int64(len(payload)) {
		t.Errorf("the shortcut carried %d bytes, less than the %d bytes of answers", ds, n*len(payload))
	}
	if dt > n*int64(len(payload))/20 {
		for _, l := range tree {
			s := f.Net().Stats(l[0], l[1])
			t.Logf("tree link %s-%s: up %d down %d", l[0], l[1], s.BytesUp, s.BytesDown)
		}
		t.Errorf("tree links carried %d bytes during %d shortcut lookups of %d bytes: shortcut traffic shows on the tree", dt, n, len(payload))
	}

	// The other way, B's lookups of A1's records take the same connection: B's relay publishes into
	// the shortcut's namespace on its own server. B opens nothing itself.
	if _, err := src.Serve("users", func(context.Context, regions.ID) ([]byte, error) { return payload, nil }); err != nil {
		t.Fatal(err)
	}
	if err := src.WaitServe(ctx, "users", bID); err != nil {
		t.Fatal(err)
	}
	switchStart := time.Now()
	logged := false
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if !logged && time.Since(switchStart) > 2*time.Second {
			logged = true
			for _, r := range []regions.RegionID{a1ID, bID} {
				for _, rt := range f.Nodes(r)[0].Routes() {
					t.Logf("%s route %s", r, rt)
				}
				t.Logf("%s links %+v", r, f.Nodes(r)[0].Links())
				t.Logf("%s shortcuts %+v", r, f.Nodes(r)[0].Shortcuts())
			}
		}
		p, err := lookupPath(ctx, dst, a1ID)
		if err != nil {
			return err
		}
		if p != "00b0:s,00a1:t" {
			return fmt.Errorf("path %q, want the shortcut A1 opened, used from B: 00b0:s,00a1:t", p)
		}
		return nil
	})
	t.Logf("B→A1 took the inbound shortcut after %v", time.Since(switchStart).Round(time.Millisecond))
	if st := f.Nodes(bID)[0].Shortcuts(); len(st.Opened) != 0 || st.Accepted != 1 {
		t.Fatalf("B's shortcuts: %+v, want none opened and A1's accepted", st)
	}
	// Cut the shortcut's link: the engine marks it down and routes over the tree again.
	if err := f.Cut(a1ID, bID); err != nil {
		t.Fatal(err)
	}
	var failed int
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		p, err := lookupPath(ctx, src, bID)
		if err != nil {
			failed++
			return err
		}
		if strings.Contains(p, ":s") {
			return fmt.Errorf("path %q still uses the cut shortcut", p)
		}
		return nil
	})
	t.Logf("after the cut: %d lookups failed before the tree took over", failed)
	for i := range 20 {
		if _, err := lookupPath(ctx, src, bID); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("lookup %d after the reroute: %v", i, err)
		}
	}
}

// serveUsers answers lookups of kind users in c's region with a small record.
func serveUsers(t *testing.T, c *client.Client) {
	t.Helper()
	if _, err := c.Serve("users", func(context.Context, regions.ID) ([]byte, error) { return []byte("user"), nil }); err != nil {
		t.Fatal(err)
	}
}

// waitPath waits until a lookup from c to region to answers over a path for which ok holds.
func waitPath(ctx context.Context, t *testing.T, c *client.Client, to regions.RegionID, what string, ok func(string) bool) string {
	t.Helper()
	var path string
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		p, err := lookupPath(ctx, c, to)
		if err != nil {
			return err
		}
		if !ok(p) {
			return fmt.Errorf("%s→%s: path %q, want %s", c.Region(), to, p, what)
		}
		path = p
		return nil
	})
	return path
}

// TestTreeCutReroutesOverShortcut: A1's only tree link (to its parent A) is cut while A1 holds a
// shortcut to B. Lookups between A1 and A keep succeeding both ways, over the shortcut and B's
// tree links, although the registry marks A1 down; they return to the tree after the heal.
func TestTreeCutReroutesOverShortcut(t *testing.T) {
	f := startFed(t, smallTopo(t), ModeFeDist)
	ca1, ca, cb := appClient(t, f, a1ID), appClient(t, f, aID), appClient(t, f, bID)
	for _, c := range []*client.Client{ca1, ca, cb} {
		serveUsers(t, c)
	}
	ctx := ctxFor(t, 2*time.Minute)
	for _, c := range []*client.Client{ca1, ca, cb} {
		if err := c.WaitServe(ctx, "users"); err != nil {
			t.Fatal(err)
		}
	}
	// Traffic A1→B opens the shortcut.
	waitPath(ctx, t, ca1, bID, "the shortcut", func(p string) bool { return p == "00a1:s,00b0:t" })
	if p, err := lookupPath(ctx, ca1, aID); err != nil || p != "" {
		t.Fatalf("A1→A before the cut: path %q, %v; want the tree", p, err)
	}

	if err := f.Cut(a1ID, aID); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range []regions.RegionID{a1ID, rootID, bID} {
				for _, rt := range f.Nodes(r)[0].Routes() {
					t.Logf("%s route %s", r, rt)
				}
				t.Logf("%s links %+v", r, f.Nodes(r)[0].Links())
			}
		}
	})
	up := waitPath(ctx, t, ca1, aID, "a path over the shortcut", func(p string) bool { return strings.HasPrefix(p, "00a1:s,") })
	down := waitPath(ctx, t, ca, a1ID, "a path over the shortcut", func(p string) bool { return strings.Contains(p, ":s") })
	t.Logf("after cutting A1-A: A1→A %s, A→A1 %s, both within %v", up, down, time.Since(start).Round(time.Millisecond))
	if err := f.WaitStatus(ctx, a1ID, regions.StatusDown, rootID); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := lookupPath(ctx, ca, a1ID); err != nil {
			t.Fatalf("lookup %d A→A1 while the registry says A1 is down: %v", i, err)
		}
		if _, err := lookupPath(ctx, ca1, aID); err != nil {
			t.Fatalf("lookup %d A1→A during the cut: %v", i, err)
		}
	}

	if err := f.Heal(a1ID, aID); err != nil {
		t.Fatal(err)
	}
	waitPath(ctx, t, ca1, aID, "the tree again", func(p string) bool { return p == "" })
}

// TestShortcutClosesWhenIdle: a shortcut that carries nothing for IdleClose is closed at both
// ends, and traffic reopens one.
func TestShortcutClosesWhenIdle(t *testing.T) {
	f := startEdited(t, smallTopo(t), func(c *node.Config) { c.Costs.IdleClose = 2 * time.Second })
	src, dst := appClient(t, f, a1ID), appClient(t, f, bID)
	serveUsers(t, dst)
	ctx := ctxFor(t, 2*time.Minute)
	if err := dst.WaitServe(ctx, "users", a1ID); err != nil {
		t.Fatal(err)
	}
	waitPath(ctx, t, src, bID, "the shortcut", func(p string) bool { return p == "00a1:s,00b0:t" })
	a1, b := f.Nodes(a1ID)[0], f.Nodes(bID)[0]
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if s := a1.Shortcuts(); len(s.Opened) != 0 {
			return fmt.Errorf("A1 still holds %v", s.Opened)
		}
		if s := b.Shortcuts(); s.Accepted != 0 {
			return fmt.Errorf("B still counts %d accepted", s.Accepted)
		}
		return nil
	})
	waitPath(ctx, t, src, bID, "a reopened shortcut", func(p string) bool { return p == "00a1:s,00b0:t" })
}

// TestShortcutUsedByPeerStaysOpen: A1 and B share a shortcut one of them opened; the opener stops
// sending while the other end keeps looking its records up over it. The shortcut is the opener's
// to close, and it carries traffic: it must outlive IdleClose several times over. (It once did
// not: the opener counted only its own messages, closed it as idle after IdleClose, and the
// peer's route broke. Since the plan, the peer's advertised demand keeps the pair planned.)
func TestShortcutUsedByPeerStaysOpen(t *testing.T) {
	const idle = 2 * time.Second
	f := startEdited(t, smallTopo(t), func(c *node.Config) { c.Costs.IdleClose = idle })
	ca1, cb := appClient(t, f, a1ID), appClient(t, f, bID)
	serveUsers(t, ca1)
	serveUsers(t, cb)
	ctx := ctxFor(t, 2*time.Minute)
	for _, w := range []struct {
		c  *client.Client
		to regions.RegionID
	}{{cb, a1ID}, {ca1, bID}} {
		if err := w.c.WaitServe(ctx, "users", w.to); err != nil {
			t.Fatal(err)
		}
	}
	waitPath(ctx, t, ca1, bID, "the shortcut", func(p string) bool { return p == "00a1:s,00b0:t" })
	waitPath(ctx, t, cb, a1ID, "the shortcut", func(p string) bool { return p == "00b0:s,00a1:t" })
	// One of them opened it and the other accepted it; both route over it. The opener now sends
	// nothing, and the other end looks up every 100 ms for 4 × IdleClose.
	opener, user, from, to := f.Nodes(a1ID)[0], cb, bID, a1ID
	if s := opener.Shortcuts(); !slices.Contains(s.Opened, bID) {
		opener, user, from, to = f.Nodes(bID)[0], ca1, a1ID, bID
	}
	if s := opener.Shortcuts(); !slices.Contains(s.Opened, from) {
		t.Fatalf("neither end holds the shortcut as opened: %+v", s)
	}
	deadline := time.Now().Add(4 * idle)
	for time.Now().Before(deadline) {
		if _, err := lookupPath(ctx, user, to); err != nil {
			t.Fatalf("%s → %s lookup: %v", from, to, err)
		}
		if s := opener.Shortcuts(); !slices.Contains(s.Opened, from) {
			t.Fatalf("%s closed its shortcut to %s (it holds %v) while %s's lookups crossed it", to, from, s.Opened, from)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRouteChangeLosesNothing: a stream of publishes from A1 to a subscriber in B while the
// engine moves the destination from the tree to a shortcut. Every message arrives exactly once.
// Messages sent over the shortcut overtake the last ones still on the (four times longer) tree
// path, so order is not kept across the switch; the test counts those.
func TestRouteChangeLosesNothing(t *testing.T) {
	f := startFed(t, smallTopo(t), ModeFeDist)
	src, dst := appClient(t, f, a1ID), appClient(t, f, bID)
	ctx := ctxFor(t, time.Minute)
	const subject = "fd.00b0.seq"
	var mu sync.Mutex
	got := map[uint64]int{}
	var last uint64
	var reordered, viaShortcut int
	if _, err := dst.Subscribe(subject, "", func(m *nats.Msg) {
		seq, _ := strconv.ParseUint(string(m.Data), 10, 64)
		mu.Lock()
		defer mu.Unlock()
		got[seq]++
		if seq < last {
			reordered++
		}
		last = max(last, seq)
		if strings.Contains(m.Header.Get(overlay.HeaderPath), ":s") {
			viaShortcut++
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := dst.WaitInterest(ctx, subject, a1ID); err != nil {
		t.Fatal(err)
	}
	var sent uint64
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		sent++
		if err := src.Publish(subject, []byte(strconv.FormatUint(sent, 10))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		switched := viaShortcut > 200
		mu.Unlock()
		if switched {
			break
		}
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if uint64(len(got)) != sent {
			return fmt.Errorf("%d of %d messages arrived", len(got), sent)
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if viaShortcut == 0 {
		t.Fatalf("the route never changed: all %d messages took the tree", sent)
	}
	for seq, n := range got {
		if n != 1 {
			t.Errorf("message %d arrived %d times", seq, n)
		}
	}
	t.Logf("%d messages, %d over the shortcut after the switch, none lost or duplicated, %d overtook an earlier one", sent, viaShortcut, reordered)
}
