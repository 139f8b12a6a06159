package pki

import (
	"crypto/x509"
	"errors"
	"net/url"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary bytes to Verify. It must not panic, must refuse with one of the
// package's sentinels, and may accept only a node's envelope. The seeds are genuine envelopes and
// edits of them, so the fuzzer starts from inputs that get past the JSON decoder.
func FuzzVerify(f *testing.F) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	ca := mustAuthority(f, now)
	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	nodeTmpl, err := nodeTemplate(Identity{Region: testRegion, Node: testNode}, nil)
	if err != nil {
		f.Fatal(err)
	}
	userTmpl, err := clientTemplate(Identity{Region: testRegion, User: testUser})
	if err != nil {
		f.Fatal(err)
	}
	for _, tmpl := range []*x509.Certificate{nodeTmpl, userTmpl} {
		s, err := NewSignerFromCert(memCert(f, ca, tmpl, now))
		if err != nil {
			f.Fatal(err)
		}
		for _, payload := range []string{"", `{"region":"00a3"}`} {
			data, err := s.Sign(joinSubject, []byte(payload), now)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	for _, s := range []string{"", "{}", "null", `{"v":1}`, `{"v":1,"nonce":"AAAAAAAAAAAAAAAAAAAAAA==","cert":"AA==","sig":"AA=="}`} {
		f.Add([]byte(s))
	}
	v := &Verifier{Roots: roots}
	sentinels := []error{ErrMalformed, ErrUntrusted, ErrBadSignature, ErrStale, ErrReplay}
	f.Fuzz(func(t *testing.T, data []byte) {
		id, payload, err := v.Verify(joinSubject, data, now)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("Verify error %v wraps none of the sentinels", err)
		}
		if !id.IsNode() || id.validate() != nil || payload == nil {
			t.Fatalf("Verify accepted %+v with payload %q", id, payload)
		}
	})
}

// FuzzParseIdentityURI checks that an identity has exactly one URI: whatever parses formats back
// to the same text.
func FuzzParseIdentityURI(f *testing.F) {
	for _, s := range []string{"fedist://region/00a3/node/n1", "fedist://region/00a3/user/alice@x.org",
		"fedist://region/00A3/node/n1", "fedist://region/00a3/node/n%31", "fedist://region/00a3/node/n1?", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := url.Parse(s)
		if err != nil {
			return
		}
		id, err := parseIdentityURI(u)
		if err != nil {
			if !errors.Is(err, ErrNoIdentity) {
				t.Fatalf("parseIdentityURI(%q) = %v, want ErrNoIdentity", s, err)
			}
			return
		}
		if id.validate() != nil || id.String() != s {
			t.Fatalf("parseIdentityURI(%q) = %+v, which formats as %q", s, id, id.String())
		}
	})
}
