package lab

import (
	"testing"

	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
	"go.uber.org/goleak"
)

// natsStragglers are nats-server goroutines that outlive Server.WaitForShutdown by design: a mirror's
// consumer setup waits for its reply with a plain timer (5-30 s) and no quit channel.
var natsStragglers = []goleak.Option{
	goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*stream).setupMirrorConsumer.func3"),
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natsStragglers...) }

// smallTopo is root ← A ← A1 and root ← B with RTTs of a few ms, and a direct A1-B link that beats
// the tree (integration/testdata/small.json, shared with the fed tests).
func smallTopo(t testing.TB) *topo.Topology {
	t.Helper()
	top, err := topo.Load("../testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func id(top *topo.Topology, name string) regions.RegionID {
	r, _ := top.ByName(name)
	return r.ID
}
