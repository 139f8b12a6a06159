package fault

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestPartitionHub cuts the link between the hub A (the parent of A1) and the root while lookups
// run inside A's subtree and across the cut, and the writers join regions under the root and
// write Zyx records on both sides. A and A1 are marked down at the root (as seen from B), the
// subtree keeps serving its own lookups, lookups across the cut fail fast, and after the heal every
// registry copy converges to active and lookups cross again; no acknowledged write is lost.
//
// A's link to the root runs through a LeafProxy (see there why not linkemu). Shortcuts are off
// (-shortcuts 0): a shortcut is a direct connection between two regions' nodes
// that the cut would not touch, so with them the partition would not be one.
func TestPartitionHub(t *testing.T) {
	skipShort(t)
	ctx := testCtx(t, 3*time.Minute)
	var link *LeafProxy
	tr := startTree(t, ctx, treeOpts{flags: []string{"-shortcuts", "0"}, hubParent: func(rootLeaf string) string {
		var err error
		if link, err = NewLeafProxy(hostPort(t, rootLeaf)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = link.Close() })
		return "nats-leaf://" + link.Addr()
	}})
	ca, ca1, cb := connect(t, ctx, tr.a), connect(t, ctx, tr.a1), connect(t, ctx, tr.b)
	serveIDs(t, ctx, ca, treeRegions...)
	serveIDs(t, ctx, ca1, treeRegions...)
	za1, zb, reader := startZyx(t, ctx, tr.a1), startZyx(t, ctx, tr.b), startZyx(t, ctx, tr.root)

	h := NewHistory()
	inA1 := startLooker(t, "a1→a", ca1, regions.NewID(aID, 1))
	inA := startLooker(t, "a→a1", ca, regions.NewID(a1ID, 1))
	across := startLooker(t, "b→a1", cb, regions.NewID(a1ID, 1))
	for _, l := range []*looker{inA1, inA, across} {
		l.waitOutcome(t, ctx, 20*time.Second, time.Now(), outOK)
	}
	jw := startJoinWriter(t, h, 0x0c01, tr.root.LeafURL)
	zw := startZyxWriter(t, h, za1, zb)
	waitAcks(t, ctx, h, "join", 2)
	waitAcks(t, ctx, h, "zyx-post", 2)
	waitPastGrace(t, ctx, tr.root, aID, a1ID)

	h.Mark("cut a–root")
	cut := time.Now()
	link.Cut()
	downAt := firstTimes(t, ctx, 20*time.Second, cut, map[string]func() error{
		"a":  func() error { return viewStatus(cb.Registry(), aID, regions.StatusDown) },
		"a1": func() error { return viewStatus(cb.Registry(), a1ID, regions.StatusDown) },
		"root": func() error {
			return statusesAt(ctx, tr.root.URL(), map[regions.RegionID]regions.Status{aID: regions.StatusDown, a1ID: regions.StatusDown})
		},
	})
	h.Mark("a, a1 down at b")
	failed := across.waitOutcome(t, ctx, 20*time.Second, cut, fastFail...)
	// The partition lasts until lookups inside the subtree have gone on after the root marked it down.
	detected := time.Now()
	inA1.waitOutcome(t, ctx, 20*time.Second, detected, outOK)
	inA.waitOutcome(t, ctx, 20*time.Second, detected, outOK)
	across.waitOutcome(t, ctx, 20*time.Second, detected, outRegionDown)
	// The cut holds: A keeps redialing its parent and is turned away, and stays down meanwhile.
	waitFor(t, ctx, 20*time.Second, "a redialing the root through the cut link", func() error {
		if err := viewStatus(cb.Registry(), aID, regions.StatusDown); err != nil {
			t.Fatalf("a came back while its link to the root is cut (a bypass of the link?): %v; link %+v", err, link.Stats())
		}
		if s := link.Stats(); s.Refused < 3 || s.Active != 0 {
			return fmt.Errorf("link a–root: %+v, want a few connections refused and none active", s)
		}
		return nil
	})

	h.Mark("heal a–root")
	healed := time.Now()
	link.Heal()
	upAt := firstTimes(t, ctx, 30*time.Second, healed, map[string]func() error{
		"a":  func() error { return viewStatus(cb.Registry(), aID, regions.StatusActive) },
		"a1": func() error { return viewStatus(cb.Registry(), a1ID, regions.StatusActive) },
	})
	across.waitOutcome(t, ctx, 30*time.Second, healed, outOK)
	converge := time.Since(healed)
	h.Mark("a1 reached from b again")
	for _, d := range tr.all() {
		waitFor(t, ctx, 20*time.Second, "converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), allActive) })
	}
	for _, l := range []*looker{inA1, inA, across} {
		l.stop()
	}
	for _, l := range []*looker{inA1, inA} {
		recs := l.between(cut, healed)
		logSlow(t, l.name, recs, cut)
		if n := len(recs) - count(recs, outOK); n > 0 {
			t.Errorf("%s: %d of %d lookups inside the cut-off subtree failed (%s), want none", l.name, n, len(recs), tally(recs))
		}
	}
	across.noTimeoutsAfter(t, failed.end, healed)
	crossed := across.between(cut, healed)
	t.Logf("during the partition: a1→a %s; a→a1 %s; b→a1 %s", tally(inA1.between(cut, healed)), tally(inA.between(cut, healed)), tally(crossed))
	t.Logf("link a–root: %+v", link.Stats())

	jw.stop()
	zw.stop()
	jw.checkCrashes(t)
	v := verifyWrites(t, ctx, h, checker(map[string]func(context.Context, Op) error{
		"join": joinPresent(tr.root.URL(), tr.a1.URL()), "zyx-user": zyxPresent(reader), "zyx-post": zyxPresent(reader),
	}))
	figures(t, "partition-hub", "detect_ms", ms(downAt["a"]), "detect_a1_ms", ms(downAt["a1"]), "detect_root_ms", ms(downAt["root"]),
		"fastfail_ms", ms(failed.end.Sub(cut)), "converge_ms", ms(converge), "active_a_ms", ms(upAt["a"]), "active_a1_ms", ms(upAt["a1"]),
		"subtree_lookups", len(inA1.between(cut, healed))+len(inA.between(cut, healed)), "cross_lookups", len(crossed),
		"cross_timeouts", count(crossed, outTimeout), "acked", v.Acked, "failed", v.Failed, "unknown", v.Unknown, "lost", len(v.Lost))
}
