package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// users is a tiny store in region B: seq 1..3 exist.
func users(_ context.Context, id regions.ID) ([]byte, error) {
	if id.Seq() > 3 {
		return nil, ErrNotFound
	}
	return fmt.Appendf(nil, "user-%d", id.Seq()), nil
}

func TestLookupsFromEveryRegion(t *testing.T) {
	f := startTree(t)
	srv := f.connect(t, bID)
	if _, err := srv.Serve("users", users); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, f, overlay.LookupSubject("users", bID.FirstID()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, r := range []regions.RegionID{a1ID, aID, rootID, bID} {
		c := f.connect(t, r)
		got, err := c.Lookup(ctx, "users", regions.NewID(bID, 2))
		if err != nil || string(got) != "user-2" {
			t.Fatalf("lookup from %s: %q, %v", r, got, err)
		}
		_, err = c.Lookup(ctx, "users", regions.NewID(bID, 99))
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("lookup of a missing record from %s: %v, want ErrNotFound", r, err)
		}
	}
	// And back: B looks up a record served in A1.
	a1 := f.connect(t, a1ID)
	if _, err := a1.Serve("users", users); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, f, overlay.LookupSubject("users", a1ID.FirstID()))
	got, err := f.connect(t, bID).Lookup(ctx, "users", regions.NewID(a1ID, 1))
	if err != nil || string(got) != "user-1" {
		t.Fatalf("lookup B→A1: %q, %v", got, err)
	}
}

// TestFastFailures checks each failure the contract promises, through the client API and through a
// plain nats.go connection, which must see "no responders".
func TestFastFailures(t *testing.T) {
	f := startTree(t)
	c := f.connect(t, a1ID)
	plain, _ := f.plain(t, a1ID)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cases := []struct {
		name  string
		id    regions.ID
		want  error
		setup func()
	}{
		{"unknown region", regions.NewID(0x0bad, 1), ErrUnknownRegion, nil},
		{"active region, no responder", regions.NewID(bID, 1), ErrNoResponder, nil},
		{"down region", regions.NewID(bID, 1), ErrRegionDown, func() {
			if err := f.nodes[bID].Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
				if st, _ := c.Registry().Status(bID); st != regions.StatusDown {
					return fmt.Errorf("B is %q in A1's client", st)
				}
				return nil
			})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			start := time.Now()
			_, err := c.Lookup(ctx, "users", tc.id)
			if !errors.Is(err, tc.want) {
				t.Fatalf("client: %v, want %v", err, tc.want)
			}
			t.Logf("client: %v after %v", err, time.Since(start))
			start = time.Now()
			_, err = plain.RequestWithContext(ctx, overlay.LookupSubject("users", tc.id), nil)
			if !errors.Is(err, nats.ErrNoResponders) {
				t.Fatalf("plain nats: %v, want no responders", err)
			}
			t.Logf("plain nats: %v after %v", err, time.Since(start))
		})
	}
}

func TestPermissions(t *testing.T) {
	f := startTree(t)
	nc, errs := f.plain(t, a1ID)
	// Another region's subjects, and wildcards that would cover them, are refused.
	for _, subj := range []string{"fd.00b0.>", "fd.*.events", ">"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errs:
			if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(err.Error(), subj) {
				t.Fatalf("subscribe %s: %v, want a permissions violation", subj, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("subscribe %s on A1 was not refused", subj)
		}
	}
	// Its own region's subjects are fine, and so is publishing anywhere.
	if _, err := nc.SubscribeSync("fd.00a1.>"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("fd.00b0.events", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("allowed operations raised %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	// The client API refuses before asking the server.
	c := f.connect(t, a1ID)
	if _, err := c.Subscribe("fd.00b0.events", "", func(*nats.Msg) {}); !errors.Is(err, ErrOtherRegion) {
		t.Fatalf("client subscribe to another region: %v", err)
	}
}

// TestRelayAndHopLimit sends a lookup through B's relay endpoint, then one that has used up its
// hops, which the relay drops and counts.
func TestRelayAndHopLimit(t *testing.T) {
	f := startTree(t)
	b := f.nodes[bID]
	srv := f.connect(t, a1ID)
	if _, err := srv.Serve("users", users); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, f, overlay.LookupSubject("users", a1ID.FirstID()))
	// B's relay carries a lookup for A1 from B into the tree and brings the answer back.
	via, err := overlay.RelaySubject(bID, overlay.LookupSubject("users", regions.NewID(a1ID, 2)))
	if err != nil {
		t.Fatal(err)
	}
	c := f.connect(t, bID)
	// Raw replies: nats.go's Request would turn the 503 statuses below into ErrNoResponders.
	replies := make(chan *nats.Msg, 4)
	inbox := c.Conn().NewInbox()
	if _, err := c.Conn().Subscribe(inbox, func(m *nats.Msg) { replies <- m }); err != nil {
		t.Fatal(err)
	}
	request := func(m *nats.Msg) (*nats.Msg, error) {
		m.Reply = inbox
		if err := c.Conn().PublishMsg(m); err != nil {
			return nil, err
		}
		select {
		case r := <-replies:
			return r, nil
		case <-time.After(5 * time.Second):
			return nil, errors.New("no reply")
		}
	}
	reply, err := request(&nats.Msg{Subject: via})
	if err != nil || string(reply.Data) != "user-2" {
		t.Fatalf("relayed lookup: %v %v", reply, err)
	}
	// Through the relay, a lookup nobody serves fails fast with a status, not a timeout.
	none, _ := overlay.RelaySubject(bID, overlay.LookupSubject("nothing", regions.NewID(a1ID, 2)))
	reply, err = request(&nats.Msg{Subject: none})
	if err != nil || overlay.ReplyStatus(reply) != overlay.StatusNoResponder {
		t.Fatalf("relayed lookup without responder: %v %v", reply, err)
	}
	// A message that has crossed MaxHops relays is dropped and counted.
	m := nats.NewMsg(via)
	m.Header.Set(overlay.HeaderHops, "4")
	reply, err = request(m)
	if err != nil {
		t.Fatal(err)
	}
	if st := overlay.ReplyStatus(reply); st != overlay.StatusHopLimit {
		t.Fatalf("status %q, want %q", st, overlay.StatusHopLimit)
	}
	// A relay answers only inboxes: a request whose reply names anything else (here a JetStream
	// call the relay's own connection could make) is refused and counted, and nothing happens.
	if err := c.Conn().PublishMsg(&nats.Msg{Subject: via, Reply: "$JS.API.STREAM.DELETE.KV_fedist-registry"}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if b.Overlay().Stats().BadReply == 0 {
			return fmt.Errorf("request with a forged reply not refused yet")
		}
		return nil
	})
	st := b.Overlay().Stats()
	if st.HopDrops != 1 || st.Relayed != 2 || st.NoResponder != 1 || st.BadReply != 1 {
		t.Fatalf("relay stats %+v, want 2 relayed, 1 no-responder, 1 hop drop, 1 bad reply", st)
	}
}

// TestServeTooLargeAnswer: an answer the server would refuse comes back as an error at once.
func TestServeTooLargeAnswer(t *testing.T) {
	f := startTree(t)
	srv := f.connect(t, bID)
	if _, err := srv.Serve("big", func(context.Context, regions.ID) ([]byte, error) {
		return make([]byte, 2<<20), nil // over the default 1 MiB max payload
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := f.connect(t, bID).Lookup(ctx, "big", regions.NewID(bID, 1))
	if !errors.Is(err, ErrRemote) {
		t.Fatalf("lookup of a too-large answer: %v, want ErrRemote", err)
	}
	t.Logf("%v after %v", err, time.Since(start))
}
