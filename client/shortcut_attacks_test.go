package client

import (
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// TestShortcutNamespacesAreClosedToApps: an application client cannot forge route hints, probe
// other regions' relays, or reach into a shortcut's namespace.
func TestShortcutNamespacesAreClosedToApps(t *testing.T) {
	f := startTree(t)
	nc, errs := f.plain(t, a1ID)
	for _, subj := range []string{
		overlay.RoutesSubject(a1ID),               // forged hints would divert the region's traffic
		overlay.ProbeSubject(bID),                 // probes are the nodes' own
		"fdq.00a1.a11.00b0.r.token",               // a shortcut's wrapped replies
		"fdq.00a1.a11.00b0.h.00b0.get.users.0001", // and anything else in its namespace
		"fdc.ls.00b0",                             // link-state adverts live in FeDist's account
		overlay.TrafficSubject(bID),               // another region's traffic reports
	} {
		if err := nc.Publish(subj, []byte("x")); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	for _, subj := range []string{"fdq.>", "fdq.00a1.>", overlay.RoutesSubject(bID), "fdo.>", overlay.TrafficSubject(a1ID)} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	// Its own region's hints can be read.
	if _, err := nc.SubscribeSync(overlay.RoutesSubject(a1ID)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("reading its own region's route hints: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
}

// shortcutConn connects to region r's node as a shortcut of node name of region from, in insecure
// mode (user and leaf token; with TLS the node certificate decides, see node/tls_test.go).
func (f *fed) shortcutConn(t *testing.T, r, from regions.RegionID, name, token string) (*nats.Conn, chan error, error) {
	errs := make(chan error, 16)
	nc, err := nats.Connect(f.nodes[r].Broker().ClientURL(), nats.UserInfo(broker.ShortcutUser(from, name), token),
		nats.CustomInboxPrefix(overlay.ShortcutInbox(from, name, r)), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err == nil {
		t.Cleanup(nc.Close)
	}
	return nc, errs, err
}

// TestShortcutConnectionsAreBounded: a shortcut connection needs the leaf token, cannot claim the
// node's own region, may only feed this region's relay and read its own namespace, and a node
// takes no more than K of them.
func TestShortcutConnectionsAreBounded(t *testing.T) {
	f := startTreeWith(t, func(c *node.Config) { c.Costs.K = 2 })
	token := broker.DevLeafToken

	if _, _, err := f.shortcutConn(t, bID, a1ID, "a11", "wrong"); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("shortcut with a wrong token: %v, want an authorization error", err)
	}
	if _, _, err := f.shortcutConn(t, bID, bID, "b9", token); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("shortcut claiming the node's own region: %v, want an authorization error", err)
	}

	nc, errs, err := f.shortcutConn(t, bID, a1ID, "a11", token)
	if err != nil {
		t.Fatal(err)
	}
	for _, subj := range []string{
		"fd.00b0.get.users.00b0000000000001", // straight into the region, past its relay
		"fdh.00a0.00b0.x",                    // another region's relay
		"fdc.root.join",
		"$JS.API.STREAM.CREATE.spy",
	} {
		if err := nc.Publish(subj, nil); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	for _, subj := range []string{"fdq.00a0.a1.>", "fd.00b0.>", "_INBOX.>", ">"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	// What a shortcut is for: probe the relay, over its own namespace.
	m, err := nc.Request(overlay.ProbeSubject(bID), nil, 5*time.Second)
	if err != nil {
		t.Fatalf("probe over the shortcut: %v", err)
	}
	if m.Header.Get(overlay.HeaderT2) == "" {
		t.Fatal("probe answer without timestamps")
	}

	// K = 2: a second peer fits, a third is refused.
	if _, _, err := f.shortcutConn(t, bID, aID, "a1", token); err != nil {
		t.Fatalf("second shortcut: %v", err)
	}
	_, _, err = f.shortcutConn(t, bID, rootID, "r1", token)
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("third shortcut with K=2: %v, want it refused", err)
	}
	if st := f.nodes[bID].Shortcuts(); st.Accepted > 2 {
		t.Fatalf("node holds %d accepted shortcuts with K=2", st.Accepted)
	}
}
