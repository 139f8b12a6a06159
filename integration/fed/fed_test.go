package fed

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// lookupSubject is the public lookup subject of a record of region r.
func lookupSubject(r regions.RegionID) string {
	return fmt.Sprintf("fd.%s.get.lab.%s", r, regions.NewID(r, 42))
}

// serve answers lookups for region r from a plain client connected in r, the way any NATS client
// may, and returns the connection.
func serve(t *testing.T, f *Federation, r regions.RegionID) *nats.Conn {
	t.Helper()
	nc, err := f.Connect(r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Subscribe(fmt.Sprintf("fd.%s.get.lab.*", r), func(m *nats.Msg) {
		_ = m.Respond([]byte("from " + f.Topology().Name(r)))
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return nc
}

// lookupWorks polls until a lookup from -> to is answered by to, and returns the fastest of a few
// round trips once it is.
func lookupWorks(t *testing.T, f *Federation, from, to regions.RegionID) time.Duration {
	t.Helper()
	nc, err := f.Connect(from)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	want := "from " + f.Topology().Name(to)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		m, err := nc.Request(lookupSubject(to), nil, time.Second)
		if err != nil {
			return err
		}
		if string(m.Data) != want {
			return fmt.Errorf("answer %q, want %q", m.Data, want)
		}
		return nil
	})
	best := time.Hour
	for range 5 {
		start := time.Now()
		if _, err := nc.Request(lookupSubject(to), nil, time.Second); err != nil {
			t.Fatal(err)
		}
		best = min(best, time.Since(start))
	}
	return best
}

func TestFederationBothModes(t *testing.T) {
	for _, mode := range []Mode{ModeFeDist, ModeNATS} {
		t.Run(string(mode), func(t *testing.T) {
			top := smallTopo(t)
			f := startFed(t, top, mode)
			if err := f.WaitConverged(ctxFor(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := f.CheckLinks(); err != nil {
				t.Fatal(err)
			}
			if mode == ModeFeDist {
				// Every mirror holds every region, with the real client URLs.
				for _, r := range top.Regions() {
					for _, n := range f.Nodes(r.ID) {
						e, _ := n.View().Get(bID)
						if e == nil || len(e.ClientURLs) != 1 || e.ClientURLs[0] != f.ClientURLs(bID)[0] {
							t.Fatalf("B's entry in %s's mirror: %+v, want client URL %v", r.Name, e, f.ClientURLs(bID))
						}
					}
				}
			}
			serve(t, f, bID)
			rtt := lookupWorks(t, f, a1ID, bID)
			tree, _ := top.TreeRTT(a1ID, bID)
			t.Logf("%s: lookup A1→B best of 5: %v (tree path %v ms)", mode, rtt, tree)
			// Not a timing assertion: a round trip cannot beat the emulated links it crosses, so a
			// faster one means the emulator is not in the path.
			if rtt < time.Duration(tree*float64(time.Millisecond)) {
				t.Fatalf("lookup took %v, less than the tree path's %v ms: a link is bypassed", rtt, tree)
			}
			// FeDist keeps two leafnode connections per link, one for its own account and one for
			// the applications'; plain NATS keeps one.
			want := 1
			if mode == ModeFeDist {
				want = 2
			}
			for _, l := range [][2]regions.RegionID{{a1ID, aID}, {aID, rootID}, {bID, rootID}} {
				if s := f.Net().Stats(l[0], l[1]); s.Active != want || s.BytesUp == 0 {
					t.Errorf("link %s→%s: %+v, want %d busy connection(s)", top.Name(l[0]), top.Name(l[1]), s, want)
				}
			}
		})
	}
}

// TestConnectFrom reaches B's server from A1 over the direct A1-B link, as a shortcut would.
func TestConnectFrom(t *testing.T) {
	top := smallTopo(t)
	f := startFed(t, top, ModeNATS)
	serve(t, f, bID)
	nc, err := f.ConnectFrom(a1ID, bID)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := nc.Request(lookupSubject(bID), nil, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if s := f.Net().Stats(a1ID, bID); s.Conns != 1 || s.BytesUp == 0 {
		t.Fatalf("A1→B link: %+v, want the connection through it", s)
	}
	if took < 3*time.Millisecond {
		t.Fatalf("request over the 3 ms A1-B link took %v", took)
	}
	if _, err := f.ConnectFrom(aID, aID); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("ConnectFrom(a, a) = %v, want ErrNotAllowed", err)
	}
}

// TestTwoNodeRegions runs A and B on two clustered nodes each: A1 reaches A through one link per
// node of A, and lookups still cross.
func TestTwoNodeRegions(t *testing.T) {
	for _, mode := range []Mode{ModeFeDist, ModeNATS} {
		t.Run(string(mode), func(t *testing.T) {
			top := smallTopoLinks(t, nil, 2)
			f := startFed(t, top, mode)
			if n := len(f.Servers(bID)); n != 2 {
				t.Fatalf("B runs %d servers", n)
			}
			if err := f.WaitConverged(ctxFor(t, 10*time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := f.CheckLinks(); err != nil {
				t.Fatal(err)
			}
			if got := f.Net().LinkAddrs(a1ID, aID); len(got) != 2 {
				t.Fatalf("A1→A links %v, want one per node of A", got)
			}
			serve(t, f, bID)
			lookupWorks(t, f, a1ID, bID)
		})
	}
}
