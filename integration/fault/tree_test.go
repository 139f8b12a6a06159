package fault

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/regions"
)

// The regions of the test tree: root ← a ← a1 and root ← b. A is the hub: the relay between A1
// and the rest of the tree.
const (
	rootID regions.RegionID = 0x0001
	aID    regions.RegionID = 0x00a0
	a1ID   regions.RegionID = 0x00a1
	bID    regions.RegionID = 0x00b0
)

// allActive is the registry of the tree once it has converged.
var allActive = map[regions.RegionID]regions.Status{
	rootID: regions.StatusActive, aID: regions.StatusActive, a1ID: regions.StatusActive, bID: regions.StatusActive,
}

// tree is the four daemons of the test tree, each a separate process.
type tree struct {
	root, a, a1, b *daemon
}

// treeOpts changes how the tree is started.
type treeOpts struct {
	// flags are added to every daemon's flags, e.g. "-shortcuts", "0".
	flags []string
	// hubParent, if set, returns the -parent URL of A given the root's leafnode URL: the partition
	// test puts its proxy there.
	hubParent func(rootLeaf string) string
}

// startTree starts root ← a ← a1 and root ← b and waits until every daemon is ready.
func startTree(t *testing.T, ctx context.Context, o treeOpts) *tree {
	t.Helper()
	flags := func(f ...string) []string { return append(f, o.flags...) }
	tr := &tree{root: newDaemon(t, "fedist-root", "root", flags("-id", "0001", "-name", "root", "-node", "root-1")...)}
	tr.root.start(t)
	tr.root.waitReady(t, ctx)
	hubParent := tr.root.LeafURL()
	if o.hubParent != nil {
		hubParent = o.hubParent(hubParent)
	}
	tr.a = newDaemon(t, "fedist-node", "a", flags("-id", "00a0", "-name", "a", "-node", "a-1", "-parent", hubParent)...)
	tr.b = newDaemon(t, "fedist-node", "b", flags("-id", "00b0", "-name", "b", "-node", "b-1", "-parent", tr.root.LeafURL())...)
	tr.a.start(t)
	tr.b.start(t)
	tr.a.waitReady(t, ctx)
	tr.a1 = newDaemon(t, "fedist-node", "a1", flags("-id", "00a1", "-name", "a1", "-node", "a1-1", "-parent", tr.a.LeafURL())...)
	tr.a1.start(t)
	tr.b.waitReady(t, ctx)
	tr.a1.waitReady(t, ctx)
	for _, d := range tr.all() {
		waitFor(t, ctx, 20*time.Second, "the tree converged at "+d.name, func() error { return statusesAt(ctx, d.URL(), allActive) })
	}
	return tr
}

func (tr *tree) all() []*daemon { return []*daemon{tr.root, tr.a, tr.a1, tr.b} }

// connect returns a FeDist client of the daemon's region, closed when the test ends.
func connect(t *testing.T, ctx context.Context, d *daemon) *client.Client {
	t.Helper()
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	c, err := client.Connect(cctx, d.URL())
	if err != nil {
		t.Fatalf("connect to %s: %v", d.name, err)
	}
	t.Cleanup(c.Close)
	return c
}

// kindIDs is the lookup kind the test responders serve.
const kindIDs = "ids"

// treeRegions are the regions of the test tree.
var treeRegions = []regions.RegionID{rootID, aID, a1ID, bID}

// serveIDs answers every lookup of kindIDs in c's region with the record ID itself, and waits until
// every region of in reaches the responder.
func serveIDs(t *testing.T, ctx context.Context, c *client.Client, in ...regions.RegionID) {
	t.Helper()
	if _, err := c.Serve(kindIDs, func(_ context.Context, id regions.ID) ([]byte, error) {
		return []byte(id.String()), nil
	}); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := c.WaitServe(wctx, kindIDs, in...); err != nil {
		t.Fatalf("responder of region %s not reached from %v: %v", c.Region(), in, err)
	}
}

// rootLeafURLs joins leafnode URLs for a -parent flag.
func rootLeafURLs(ds ...*daemon) string {
	var urls []string
	for _, d := range ds {
		urls = append(urls, d.LeafURL())
	}
	return strings.Join(urls, ",")
}
