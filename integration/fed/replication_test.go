package fed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// records is a small record store for one region's lookup responder.
type records struct {
	mu sync.Mutex
	m  map[regions.ID][]byte
}

func (r *records) set(id regions.ID, v []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v == nil {
		delete(r.m, id)
	} else {
		r.m[id] = v
	}
}

func (r *records) serve(_ context.Context, id regions.ID) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[id]; ok {
		return v, nil
	}
	return nil, client.ErrNotFound
}

// lookupFrom looks id up from c and says whether a replica answered.
func lookupFrom(ctx context.Context, c *client.Client, id regions.ID, opts ...client.LookupOption) (string, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	m, err := c.LookupMsg(ctx, "users", id, opts...)
	if err != nil {
		return "", false, err
	}
	return string(m.Data), m.Header.Get(overlay.HeaderReplica) != "", nil
}

// waitValue waits until lookups of id from c return want, from a replica when replica is set.
func waitValue(ctx context.Context, t *testing.T, c *client.Client, id regions.ID, want string, replica bool) {
	t.Helper()
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		v, rep, err := lookupFrom(ctx, c, id)
		if err != nil {
			return err
		}
		if v != want || rep != replica {
			return fmt.Errorf("lookup of %s: %q (replica %v), want %q (replica %v)", id, v, rep, want, replica)
		}
		return nil
	})
}

// startEdited starts a FeDist federation on top whose nodes have FastNodeConfig changed by edit,
// logging to stderr when FEDIST_TEST_LOG is set; it is closed when the test ends.
func startEdited(t *testing.T, top *topo.Topology, edit ...func(*node.Config)) *Federation {
	t.Helper()
	cfg := DefaultConfig(top, ModeFeDist)
	cfg.NodeConfig = func(b broker.Config, r topo.Region) node.Config {
		c := FastNodeConfig(b, r)
		for _, e := range edit {
			e(&c)
		}
		return c
	}
	if os.Getenv("FEDIST_TEST_LOG") != "" {
		cfg.Log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).With().Timestamp().Logger()
	}
	f, err := Start(ctxFor(t, time.Minute), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// startReplicated starts the small federation with a users responder in B holding one record, and
// returns the federation, a client of A1 and one of B, B's records and the record's ID.
func startReplicated(t *testing.T, edit ...func(*node.Config)) (*Federation, *client.Client, *client.Client, *records, regions.ID) {
	return startReplicatedOn(t, smallTopo(t), edit...)
}

// startReplicatedOn is startReplicated on the topology top.
func startReplicatedOn(t *testing.T, top *topo.Topology, edit ...func(*node.Config)) (*Federation, *client.Client, *client.Client, *records, regions.ID) {
	f := startEdited(t, top, edit...)
	src, dst := appClient(t, f, a1ID), appClient(t, f, bID)
	id := regions.NewID(bID, 42)
	recs := &records{m: map[regions.ID][]byte{id: []byte("v1")}}
	if _, err := dst.Serve("users", recs.serve); err != nil {
		t.Fatal(err)
	}
	if err := dst.WaitServe(ctxFor(t, 20*time.Second), "users", a1ID); err != nil {
		t.Fatal(err)
	}
	return f, src, dst, recs, id
}

// TestReplicaServesAndFollowsChanges: a record A1 keeps reading is replicated into A1 and answered
// there; an update at the owner reaches the replica, a fresh lookup bypasses it, and a delete
// removes it. The owner measures the lag from the acknowledgements.
func TestReplicaServesAndFollowsChanges(t *testing.T) {
	f, src, dst, recs, id := startReplicated(t)
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)

	recs.set(id, []byte("v2"))
	if err := dst.Changed(ctx, "users", id, []byte("v2")); err != nil {
		t.Fatal(err)
	}
	waitValue(ctx, t, src, id, "v2", true)
	if v, rep, err := lookupFrom(ctx, src, id, client.Fresh()); err != nil || rep || v != "v2" {
		t.Fatalf("fresh lookup: %q replica %v, %v; want v2 from the owner", v, rep, err)
	}

	st := f.Nodes(a1ID)[0].ReplicationStats(5)
	if st.Hits == 0 || st.Store.Entries != 1 || st.Holding != 1 || len(st.Top) == 0 || st.Top[0].ID != id.String() {
		t.Fatalf("A1's replication stats: %+v", st)
	}
	if ost := f.Nodes(bID)[0].ReplicationStats(0); ost.Holds != 1 || ost.LagSamples == 0 || ost.LagP99Ms <= 0 {
		t.Fatalf("B's replication stats: %+v", ost)
	}

	recs.set(id, nil)
	if err := dst.Deleted(ctx, "users", id); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		_, _, err := lookupFrom(ctx, src, id)
		if !errors.Is(err, client.ErrNotFound) {
			return fmt.Errorf("lookup after the delete: %v, want not found", err)
		}
		return nil
	})
	if st := f.Nodes(a1ID)[0].ReplicationStats(0); st.Store.Entries != 0 {
		t.Fatalf("A1 still holds %d replicas after the delete", st.Store.Entries)
	}
	if s := f.Nodes(a1ID)[0].Overlay().Stats(); s.Lookups.OK == 0 || s.Lookups.NotFound == 0 || s.FromReplica == 0 {
		t.Fatalf("A1's relay counted lookups %+v and %d replica answers; want some of each", s.Lookups, s.FromReplica)
	}
}

// TestReplicaRefusedWhenOwnerUnheard: when the reader's region is cut off from the owner (A's link
// to the root, and the shortcut A1-B), A1's registry copy still shows B active, but the replica is
// no longer served once StaleAfter has passed without a heartbeat: lookups go to the owner and
// fail, as without replication. After the heal the record is replicated again. (When the registry
// marks the owner down, the client refuses at once with ErrRegionDown.)
func TestReplicaRefusedWhenOwnerUnheard(t *testing.T) {
	f, src, _, _, id := startReplicated(t)
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)

	cut := [][2]regions.RegionID{{aID, rootID}, {a1ID, bID}}
	for _, l := range cut {
		if err := f.Cut(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		v, rep, err := lookupFrom(ctx, src, id)
		if err == nil || errors.Is(err, client.ErrRegionDown) {
			return fmt.Errorf("lookup during the partition answered %q (replica %v)", v, rep)
		}
		t.Logf("lookup during the partition: %v", err)
		return nil
	})
	if st := f.Nodes(a1ID)[0].ReplicationStats(0); st.Stale == 0 {
		t.Fatalf("no lookup was refused as stale: %+v", st)
	}

	for _, l := range cut {
		if err := f.Heal(l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	waitValue(ctx, t, src, id, "v1", true)
}

// TestReplicaAnswersItsRegionOnly: A1's replica does not answer A's lookups (A keeps asking B), a
// client of A cannot send into A1's relay, and a client cannot report changes for another region.
func TestReplicaAnswersItsRegionOnly(t *testing.T) {
	f, src, dst, _, id := startReplicated(t)
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)

	ca := appClient(t, f, aID)
	for range 5 { // below A's own threshold: A has no replica
		v, rep, err := lookupFrom(ctx, ca, id, client.Fresh())
		if err != nil || rep || v != "v1" {
			t.Fatalf("lookup from A: %q replica %v, %v; want the owner's answer", v, rep, err)
		}
	}
	// A client of A may send into A1's relay on fdh (WaitInterest's probes do), but A1's replica
	// neither answers it nor counts it as demand: the owner answers. A1's local subject is refused.
	before := f.Nodes(a1ID)[0].ReplicationStats(0).Lookups
	relayed, _ := overlay.RelaySubject(a1ID, overlay.LookupSubject("users", id))
	m, err := ca.Conn().Request(relayed, nil, 2*time.Second)
	if err != nil || m.Header.Get(overlay.HeaderReplica) != "" || string(m.Data) != "v1" {
		t.Fatalf("A's lookup through A1's relay: %v, %+v; want B's answer, not A1's replica", err, m)
	}
	if after := f.Nodes(a1ID)[0].ReplicationStats(0).Lookups; after != before {
		t.Fatalf("A's lookup through A1's relay counted as A1's demand (%d → %d lookups)", before, after)
	}
	local, _ := overlay.LocalSubject(a1ID, overlay.LookupSubject("users", id))
	if _, err := ca.Conn().Request(local, nil, time.Second); err == nil {
		t.Fatalf("a client of A published on A1's local subject %s", local)
	}
	if err := src.Changed(ctx, "users", id, []byte("forged")); !errors.Is(err, client.ErrOtherRegion) {
		t.Fatalf("A1 changing B's record: %v, want ErrOtherRegion", err)
	}
	if _, err := src.Conn().Request(overlay.ChangesSubject(bID), []byte("forged"), time.Second); err == nil {
		t.Fatal("a client of A1 published on B's changes subject")
	}
	// On its own region's subject, a change of another region's record is refused by the node.
	m, err = dst.Conn().RequestMsg(forgedChange(bID, regions.NewID(a1ID, 9)), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st := overlay.ReplyStatus(m); st == overlay.StatusOK {
		t.Fatalf("B reporting a change of A1's record: status %q, want refused", st)
	}
	waitValue(ctx, t, src, id, "v1", true)
}

func forgedChange(on regions.RegionID, id regions.ID) *nats.Msg {
	m := nats.NewMsg(overlay.ChangesSubject(on))
	m.Header.Set(overlay.HeaderChangeKind, "users")
	m.Header.Set(overlay.HeaderChangeID, id.String())
	m.Header.Set(overlay.HeaderChangeOp, overlay.ChangePut)
	m.Data = []byte("forged")
	return m
}

// TestReplicaExpiresWithoutPush: a change the owner's application committed but never reported
// (no Changed) reaches the replica within MaxAge: a replica still read is refreshed in the
// background once half of MaxAge has passed, and dropped past it.
func TestReplicaExpiresWithoutPush(t *testing.T) {
	f, src, _, recs, id := startReplicated(t, func(c *node.Config) { c.Replication.MaxAge = 2 * time.Second })
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)
	recs.set(id, []byte("v2")) // committed, never reported
	waitValue(ctx, t, src, id, "v2", true)
	if st := f.Nodes(a1ID)[0].ReplicationStats(0); st.Expired+st.Refreshed == 0 {
		t.Fatalf("the replica changed with neither a refresh nor an expiry: %+v", st)
	}
}

// TestReplicaOwnerOfTwoNodes: with two nodes in the owner region B, a change reported through
// either of them (the changes' queue group picks one) reaches A1's replica: every node of B keeps
// A1's holds.
func TestReplicaOwnerOfTwoNodes(t *testing.T) {
	f, src, dst, recs, id := startReplicatedOn(t, smallTopoLinks(t, nil, 2))
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)
	for _, nd := range f.Nodes(bID) {
		if st := nd.ReplicationStats(0); st.Holds != 1 {
			t.Fatalf("a node of B holds %d of A1's holds, want 1", st.Holds)
		}
	}
	for i := range 6 { // the queue group spreads them over both nodes
		v := fmt.Sprintf("v%d", i+2)
		recs.set(id, []byte(v))
		if err := dst.Changed(ctx, "users", id, []byte(v)); err != nil {
			t.Fatal(err)
		}
		waitValue(ctx, t, src, id, v, true)
	}
}

// TestForgedChangeFromParentRegion: an application of the root, B's parent, cannot publish on
// B's changes subject, but JetStream can deliver wherever it is told: it stores a forged change
// (with the change headers) in a stream of its own region and has a push consumer deliver it to
// fdo.00b0.changes. fdo.> crosses no leafnode link (the child link's export list does not carry
// it, and AppLeafDeny denies it besides; measured: either alone stops it), so B's node never sees
// it and A1's replica of B's record keeps B's value.
func TestForgedChangeFromParentRegion(t *testing.T) {
	f, src, _, _, id := startReplicated(t)
	ctx := ctxFor(t, 2*time.Minute)
	waitValue(ctx, t, src, id, "v1", true)

	rootURL := strings.Join(f.ClientURLs(rootID), ",")
	nc := testutil.ConnectRegion(t, rootURL)
	gw, err := jetstream.NewWithAPIPrefix(nc, overlay.JSGatewayAPI(rootID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.CreateStream(ctx, jetstream.StreamConfig{Name: "forger", Subjects: []string{"fd.0001.forger.>"}}); err != nil {
		t.Fatal(err)
	}
	forged := nats.NewMsg("fd.0001.forger.x")
	forged.Header.Set(overlay.HeaderChangeKind, "users")
	forged.Header.Set(overlay.HeaderChangeID, id.String())
	forged.Header.Set(overlay.HeaderChangeOp, overlay.ChangePut)
	forged.Data = []byte("forged")
	if _, err := gw.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	if _, err := js.CreateOrUpdateConsumer(ctx, "forger", jetstream.ConsumerConfig{
		DeliverSubject: overlay.ChangesSubject(bID), AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		v, _, err := lookupFrom(ctx, src, id)
		if err != nil {
			t.Fatal(err)
		}
		if v != "v1" {
			t.Fatalf("A1 reads %q for B's record after the root's forged delivery, want B's v1", v)
		}
	}
}
