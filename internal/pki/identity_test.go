package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

func TestIdentityRoundTrip(t *testing.T) {
	now := time.Now()
	ca := mustAuthority(t, now)
	for _, tc := range []struct {
		id         Identity
		serverName string
		uri        string
	}{
		{Identity{Region: 0x00a3, Node: "n1"}, "fd-00a3-n1", "fedist://region/00a3/node/n1"},
		{Identity{Region: 0x0001, Node: "global-4222"}, "fd-0001-global-4222", "fedist://region/0001/node/global-4222"},
		{Identity{Region: 0xffff, Node: "N_9"}, "fd-ffff-N_9", "fedist://region/ffff/node/N_9"},
		{Identity{Region: 0x00a3, User: "alice"}, "", "fedist://region/00a3/user/alice"},
		{Identity{Region: 0x00e1, User: "bob.smith@example.com"}, "", "fedist://region/00e1/user/bob.smith@example.com"},
	} {
		t.Run(tc.uri, func(t *testing.T) {
			var tmpl *x509.Certificate
			var err error
			if tc.id.IsNode() {
				tmpl, err = nodeTemplate(tc.id, nil)
			} else {
				tmpl, err = clientTemplate(tc.id)
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := IdentityOf(memCert(t, ca, tmpl, now).Leaf)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.id || got.ServerName() != tc.serverName || got.String() != tc.uri {
				t.Errorf("IdentityOf = %+v (server name %q, %s), want %+v (%q, %s)", got, got.ServerName(), got, tc.id, tc.serverName, tc.uri)
			}
		})
	}
}

func TestIdentityOfRejects(t *testing.T) {
	now := time.Now()
	ca := mustAuthority(t, now)
	node := Identity{Region: testRegion, Node: testNode}
	uri := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	for _, tc := range []struct {
		name string
		edit func(*x509.Certificate)
		ok   bool
	}{
		{"as issued", func(*x509.Certificate) {}, true},
		{"extra non-fedist URI", func(c *x509.Certificate) { c.URIs = append(c.URIs, uri("spiffe://example/x")) }, true},
		{"no URI", func(c *x509.Certificate) { c.URIs = nil }, false},
		{"only another scheme", func(c *x509.Certificate) { c.URIs = []*url.URL{uri("spiffe://example/x")} }, false},
		{"two fedist URIs", func(c *x509.Certificate) { c.URIs = append(c.URIs, uri("fedist://region/00a3/node/n2")) }, false},
		{"CN of another node", func(c *x509.Certificate) { c.Subject.CommonName = "fd-00a3-n2" }, false},
		{"CN of another region", func(c *x509.Certificate) { c.Subject.CommonName = "fd-00a4-n1" }, false},
		{"CN is the bare node name", func(c *x509.Certificate) { c.Subject.CommonName = "n1" }, false},
		{"user OU on a node", func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{UserOU} }, false},
		{"no OU", func(c *x509.Certificate) { c.Subject.OrganizationalUnit = nil }, false},
		{"two OUs", func(c *x509.Certificate) { c.Subject.OrganizationalUnit = []string{NodeOU, UserOU} }, false},
		{"user URI on a node CN", func(c *x509.Certificate) { c.URIs = []*url.URL{uri("fedist://region/00a3/user/n1")} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := nodeTemplate(node, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(tmpl)
			id, err := IdentityOf(memCert(t, ca, tmpl, now).Leaf)
			switch {
			case tc.ok && (err != nil || id != node):
				t.Errorf("IdentityOf = %+v, %v; want %+v", id, err, node)
			case !tc.ok && !errors.Is(err, ErrNoIdentity):
				t.Errorf("IdentityOf = %+v, %v; want ErrNoIdentity", id, err)
			}
		})
	}
	if _, err := IdentityOf(nil); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("IdentityOf(nil) = %v, want ErrNoIdentity", err)
	}
	if _, err := IdentityOf(&x509.Certificate{Subject: pkix.Name{CommonName: "fd-00a3-n1"}}); !errors.Is(err, ErrNoIdentity) {
		t.Errorf("IdentityOf(CN only) = %v, want ErrNoIdentity", err)
	}
}

func TestParseIdentityURI(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Identity
	}{
		{"fedist://region/00a3/node/n1", Identity{Region: 0x00a3, Node: "n1"}},
		{"fedist://region/00a3/user/alice", Identity{Region: 0x00a3, User: "alice"}},
		{"fedist://region/00A3/node/n1", Identity{}},
		{"fedist://region/0000/node/n1", Identity{}},
		{"fedist://region/a3/node/n1", Identity{}},
		{"fedist://region/00a3/node/n1/", Identity{}},
		{"fedist://region/00a3/node/", Identity{}},
		{"fedist://region/00a3/node", Identity{}},
		{"fedist://region//00a3/node/n1", Identity{}},
		{"fedist://region/00a3/admin/n1", Identity{}},
		{"fedist://region/00a3/node/n%31", Identity{}},
		{"fedist://region/00a3/node/a.b", Identity{}},
		{"fedist://region/00a3/node/n1?x=1", Identity{}},
		{"fedist://region/00a3/node/n1?", Identity{}},
		{"fedist://region/00a3/node/n1#f", Identity{}},
		{"fedist://x@region/00a3/node/n1", Identity{}},
		{"fedist://region:1/00a3/node/n1", Identity{}},
		{"fedist://REGION/00a3/node/n1", Identity{}},
		{"fedist://other/00a3/node/n1", Identity{}},
		{"fedist:region/00a3/node/n1", Identity{}},
		{"fedist://region/00a3/user/.x", Identity{}},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", tc.in, err)
		}
		got, err := parseIdentityURI(u)
		if got != tc.want || (err == nil) != (tc.want != Identity{}) || (err != nil && !errors.Is(err, ErrNoIdentity)) {
			t.Errorf("parseIdentityURI(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestIdentityValidate(t *testing.T) {
	for _, tc := range []struct {
		id   Identity
		want error
	}{
		{Identity{Region: 1, Node: "n"}, nil},
		{Identity{Region: 1, User: "u"}, nil},
		{Identity{Region: 0, Node: "n"}, regions.ErrReservedRegion},
		{Identity{Region: 1}, ErrBadName},
		{Identity{Region: 1, Node: "n", User: "u"}, ErrBadName},
		{Identity{Region: 1, Node: "n.1"}, ErrBadName},
		{Identity{Region: 1, User: "u 1"}, ErrBadName},
	} {
		if err := tc.id.validate(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%+v.validate() = %v, want %v", tc.id, err, tc.want)
		}
	}
}
