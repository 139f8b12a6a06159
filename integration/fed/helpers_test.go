package fed

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

// natsStragglers are nats-server goroutines that outlive Server.WaitForShutdown by design: a mirror's
// consumer setup waits for its reply with a plain timer (5-30 s) and no quit channel. They hold no
// socket and end by themselves.
var natsStragglers = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*stream).setupMirrorConsumer.func3"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natsStragglers...) }

const (
	rootID regions.RegionID = 0x0001
	aID    regions.RegionID = 0x00a0
	a1ID   regions.RegionID = 0x00a1
	bID    regions.RegionID = 0x00b0
)

// smallTopo is root ← A ← A1 and root ← B, with RTTs of a few ms and a fast direct A1-B link.
func smallTopo(t testing.TB) *topo.Topology { return smallTopoLinks(t, nil, 1) }

// smallTopoLinks is smallTopo with the given allowed links (nil: all) and nodes in A and B.
func smallTopoLinks(t testing.TB, links *topo.Links, nodes int) *topo.Topology {
	t.Helper()
	m, err := topo.LoadRTT("../testdata/small-rtt.csv") // shared with the lab tests
	if err != nil {
		t.Fatal(err)
	}
	top, err := topo.New([]topo.Region{
		{ID: rootID, Name: "root", Nodes: 1},
		{ID: aID, Name: "a", Parent: rootID, Nodes: nodes},
		{ID: a1ID, Name: "a1", Parent: aID, Nodes: 1},
		{ID: bID, Name: "b", Parent: rootID, Nodes: nodes},
	}, m, links)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

// startFed starts a federation of top with test timings and closes it when the test ends.
func startFed(t testing.TB, top *topo.Topology, mode Mode) *Federation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := DefaultConfig(top, mode)
	if os.Getenv("FEDIST_TEST_LOG") != "" { // FEDIST_TEST_LOG=1 go test -run … shows the nodes' logs
		cfg.Log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	f, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start %s federation: %v", mode, err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return f
}

func checkFor(t testing.TB, total, step time.Duration, fn func() error) {
	t.Helper()
	testutil.CheckFor(t, total, step, fn)
}

func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
