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
// the tree.
func smallTopo(t testing.TB) *topo.Topology {
	t.Helper()
	m, err := topo.NewMatrix([]string{"root", "a", "a1", "b"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		a, b string
		ms   float64
	}{{"root", "a", 4}, {"a", "a1", 2}, {"root", "b", 6}, {"a1", "b", 3}, {"root", "a1", 6}, {"a", "b", 8}} {
		if err := m.Set(l.a, l.b, l.ms); err != nil {
			t.Fatal(err)
		}
	}
	top, err := topo.New([]topo.Region{
		{ID: 0x0001, Name: "root", Nodes: 1},
		{ID: 0x00a0, Name: "a", Parent: 0x0001, Nodes: 1},
		{ID: 0x00a1, Name: "a1", Parent: 0x00a0, Nodes: 1},
		{ID: 0x00b0, Name: "b", Parent: 0x0001, Nodes: 1},
	}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	return top
}

func id(top *topo.Topology, name string) regions.RegionID {
	r, _ := top.ByName(name)
	return r.ID
}
