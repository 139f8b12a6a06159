package node

import (
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// TestTLSShortcutAdmission: with TLS a shortcut is admitted by its node certificate of another
// region and nothing else: not a user's certificate, not a node of the same region, not a missing
// certificate, whatever user name the connection presents.
func TestTLSShortcutAdmission(t *testing.T) {
	ca := newTestCA(t)
	cfg := tlsNodeConfig(t, bID, "b1", "b", nil, ca.node(bID, "b1"))
	cfg.Broker.ClientTLS = true
	n := runNode(t, cfg)

	a1Node, sameRegion := ca.node(a1ID, "a11"), ca.node(bID, "b2")
	userCert, userKey := ca.client(bID, "carol")
	user := nats.UserInfo(broker.ShortcutUser(a1ID, "a11"), "")
	cases := []struct {
		name string
		opts []nats.Option
		ok   bool
	}{
		{"node certificate of another region", []nats.Option{user, nats.ClientCert(a1Node.Cert, a1Node.Key)}, true},
		{"no certificate", []nats.Option{user}, false},
		{"user certificate", []nats.Option{user, nats.ClientCert(userCert, userKey)}, false},
		{"node certificate of the same region", []nats.Option{user, nats.ClientCert(sameRegion.Cert, sameRegion.Key)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]nats.Option{nats.RootCAs(ca.caFile()), nats.Timeout(5 * time.Second),
				nats.CustomInboxPrefix(overlay.ShortcutInbox(a1ID, "a11", bID))}, tc.opts...)
			nc, err := nats.Connect(n.Broker().ClientURL(), opts...)
			if !tc.ok {
				if nc != nil {
					nc.Close()
				}
				if !errors.Is(err, nats.ErrAuthorization) {
					t.Fatalf("connect: %v, want an authorization error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer nc.Close()
			if _, err := nc.Request(overlay.ProbeSubject(bID), nil, 5*time.Second); err != nil {
				t.Fatalf("probe over the shortcut: %v", err)
			}
		})
	}
}

// TestAdvertMustBeSignedByItsRegion: with TLS a node takes only adverts signed by a node of the
// region they describe, on that region's subject.
func TestAdvertMustBeSignedByItsRegion(t *testing.T) {
	ca := newTestCA(t)
	sec, err := newSecurity(ca.node(rootID, "r1"))
	if err != nil {
		t.Fatal(err)
	}
	e := &engine{n: &Node{cfg: Config{Broker: broker.Config{Region: rootID, Node: "r1"}}, sec: sec}}
	a1 := ca.node(a1ID, "a11")
	signer := ca.signer(a1.Cert, a1.Key)
	advert := func(r regions.RegionID, node string) []byte {
		a := costs.Advert{Region: r, Node: node, Seq: 1}
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	sign := func(subject string, data []byte) []byte {
		b, err := signer.Sign(subject, data, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if _, err := e.openAdvert("fdc.ls.00a1", sign("fdc.ls.00a1", advert(a1ID, "a11"))); err != nil {
		t.Fatalf("A1's own advert: %v", err)
	}
	for name, tc := range map[string]struct {
		subject string
		data    []byte
	}{
		"unsigned":                         {"fdc.ls.00a1", advert(a1ID, "a11")},
		"signed by A1 for B":               {"fdc.ls.00b0", sign("fdc.ls.00b0", advert(bID, "b1"))},
		"signed by A1, B inside":           {"fdc.ls.00a1", sign("fdc.ls.00a1", advert(bID, "b1"))},
		"signed by A1 for another A1 node": {"fdc.ls.00a1", sign("fdc.ls.00a1", advert(a1ID, "a12"))},
		"replayed on another subject":      {"fdc.ls.00b0", sign("fdc.ls.00a1", advert(a1ID, "a11"))},
	} {
		if _, err := e.openAdvert(tc.subject, tc.data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
