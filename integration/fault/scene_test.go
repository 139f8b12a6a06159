package fault

import (
	"context"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/regions"
)

// scene is the set-up the scenarios share: the tree, b serving IDs of every region and a1 looking
// them up (and, two-way, the reverse), both writers running, and the regions the fault will take
// past the root's grace so that losing them is detected at once.
type scene struct {
	tr      *tree
	cb, ca1 *client.Client
	reader  *zyx // reads back every acknowledged Zyx write, from a region the fault spares
	h       *History
	lk      *looker // a1 → b
	toA1    *looker // b → a1, two-way scenes only
	jw      *joinWriter
	zw      *zyxWriter
}

// sceneOpts vary the scene: daemon flags, lookups both ways, where the Zyx reader runs (default
// a), and the regions to wait past the grace for (default b).
type sceneOpts struct {
	flags  []string
	twoWay bool
	reader func(*tree) *daemon
	grace  []regions.RegionID
}

func startScene(t *testing.T, ctx context.Context, o sceneOpts) *scene {
	t.Helper()
	s := &scene{tr: startTree(t, ctx, treeOpts{flags: o.flags})}
	s.cb, s.ca1 = connect(t, ctx, s.tr.b), connect(t, ctx, s.tr.a1)
	serveIDs(t, ctx, s.cb, treeRegions...)
	if o.twoWay {
		serveIDs(t, ctx, s.ca1, treeRegions...)
	}
	zb, za1 := startZyx(t, ctx, s.tr.b), startZyx(t, ctx, s.tr.a1)
	reader := s.tr.a
	if o.reader != nil {
		reader = o.reader(s.tr)
	}
	s.reader = startZyx(t, ctx, reader)
	s.h = NewHistory()
	s.lk = startLooker(t, "a1→b", s.ca1, regions.NewID(bID, 1))
	lookers := []*looker{s.lk}
	if o.twoWay {
		s.toA1 = startLooker(t, "b→a1", s.cb, regions.NewID(a1ID, 1))
		lookers = append(lookers, s.toA1)
	}
	for _, l := range lookers {
		l.waitOutcome(t, ctx, 20*time.Second, time.Now(), outOK)
	}
	s.jw = startJoinWriter(t, s.h, 0x0c01, s.tr.root.LeafURL)
	s.zw = startZyxWriter(t, s.h, zb, za1)
	waitAcks(t, ctx, s.h, "join", 2)
	waitAcks(t, ctx, s.h, "zyx-post", 2)
	grace := o.grace
	if grace == nil {
		grace = []regions.RegionID{bID}
	}
	waitPastGrace(t, ctx, s.tr.root, grace...)
	return s
}

// waitBBack waits, after b came back at since, until a1's registry copy has b active, a1's
// lookups of b succeed again and every daemon shows every region active; it returns how long b
// took to serve again, and stops the a1 → b looker.
func (s *scene) waitBBack(t *testing.T, ctx context.Context, since time.Time) time.Duration {
	t.Helper()
	s.tr.b.waitReady(t, ctx)
	waitFor(t, ctx, 30*time.Second, "b active in a1's registry copy", func() error {
		return viewStatus(s.ca1.Registry(), bID, regions.StatusActive)
	})
	s.lk.waitOutcome(t, ctx, 30*time.Second, since, outOK)
	converge := time.Since(since)
	s.h.Mark("b serving again")
	for _, d := range s.tr.all() {
		waitFor(t, ctx, 20*time.Second, "converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), allActive) })
	}
	s.lk.stop()
	return converge
}

// verify stops the writers and checks every acknowledged write is still there.
func (s *scene) verify(t *testing.T, ctx context.Context) Verdict {
	t.Helper()
	s.jw.stop()
	s.zw.stop()
	s.jw.checkCrashes(t)
	return verifyWrites(t, ctx, s.h, checker(map[string]func(context.Context, Op) error{
		"join": joinPresent(s.tr.root.URL(), s.tr.a1.URL()), "zyx-user": zyxPresent(s.reader), "zyx-post": zyxPresent(s.reader),
	}))
}
