package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

const joinSubject = "fedist.root.join"

// edit decodes an envelope, lets fn change it, and encodes it again.
func edit(t *testing.T, data []byte, fn func(*envelope)) []byte {
	t.Helper()
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	fn(&env)
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signRaw builds an envelope with any certificate and key, for cases Signer refuses to make.
func signRaw(t *testing.T, key crypto.Signer, certDER []byte, subject string, ts int64, payload []byte) []byte {
	t.Helper()
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce)
	sig, err := key.Sign(rand.Reader, digest(subject, certDER, ts, nonce, payload), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(envelope{V: 1, Cert: certDER, TS: ts, Nonce: nonce, Payload: payload, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerify(t *testing.T) {
	f := newFixture(t)
	node, user, other := mustSigner(t, f.node), mustSigner(t, f.user), mustSigner(t, f.otherNode)
	n2 := mustSigner(t, mustNode(t, f.dir, testRegion, "n2"))
	ca, err := loadAuthority(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	leaf := mustLeaf(t, f.node)
	now := time.Now()
	payload := []byte(`{"region":"00a3","name":"us-east"}`)
	sign := func(s *Signer, subject string, at time.Time) []byte {
		data, err := s.Sign(subject, payload, at)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	good := sign(node, joinSubject, now)
	for _, tc := range []struct {
		name    string
		data    []byte
		subject string    // joinSubject when empty
		at      time.Time // now when zero
		roots   bool      // use f.roots; false means a nil pool
		want    []error   // nil for success
	}{
		{name: "valid", data: good, roots: true},
		{name: "signed slightly ahead", data: sign(node, joinSubject, now.Add(time.Minute)), roots: true},
		{name: "signed slightly behind", data: sign(node, joinSubject, now.Add(-time.Minute)), roots: true},
		{name: "other CA", data: sign(other, joinSubject, now), roots: true, want: []error{ErrUntrusted}},
		{name: "no roots", data: good, roots: false, want: []error{ErrUntrusted}},
		{name: "user certificate", data: sign(user, joinSubject, now), roots: true, want: []error{ErrUntrusted, ErrNotNode}},
		{name: "CA certificate", data: signRaw(t, ca.key, ca.cert.Raw, joinSubject, now.UnixNano(), payload), roots: true,
			want: []error{ErrUntrusted}},
		{name: "tampered payload", data: edit(t, good, func(e *envelope) { e.Payload[2] ^= 1 }), roots: true,
			want: []error{ErrBadSignature}},
		{name: "payload dropped", data: edit(t, good, func(e *envelope) { e.Payload = nil }), roots: true,
			want: []error{ErrBadSignature}},
		{name: "tampered ts", data: edit(t, good, func(e *envelope) { e.TS++ }), roots: true, want: []error{ErrBadSignature}},
		{name: "tampered nonce", data: edit(t, good, func(e *envelope) { e.Nonce[0] ^= 1 }), roots: true,
			want: []error{ErrBadSignature}},
		{name: "tampered signature", data: edit(t, good, func(e *envelope) { e.Sig[len(e.Sig)-1] ^= 1 }), roots: true,
			want: []error{ErrBadSignature}},
		{name: "certificate of another node", data: edit(t, good, func(e *envelope) { e.Cert = n2.cert }), roots: true,
			want: []error{ErrBadSignature}},
		{name: "other subject", data: good, subject: "fedist.root.leave", roots: true, want: []error{ErrBadSignature}},
		{name: "subject prefix", data: good, subject: "fedist.root.joi", roots: true, want: []error{ErrBadSignature}},
		{name: "old", data: sign(node, joinSubject, now.Add(-DefaultMaxSkew-time.Second)), roots: true, want: []error{ErrStale}},
		{name: "future", data: sign(node, joinSubject, now.Add(DefaultMaxSkew+time.Second)), roots: true, want: []error{ErrStale}},
		{name: "certificate expired", data: sign(node, joinSubject, leaf.NotAfter.Add(time.Second)), at: leaf.NotAfter.Add(time.Second),
			roots: true, want: []error{ErrUntrusted}},
		{name: "certificate not yet valid", data: sign(node, joinSubject, leaf.NotBefore.Add(-time.Second)),
			at: leaf.NotBefore.Add(-time.Second), roots: true, want: []error{ErrUntrusted}},
		{name: "certificate garbage", data: edit(t, good, func(e *envelope) { e.Cert = []byte("garbage") }), roots: true,
			want: []error{ErrMalformed}},
		{name: "version 2", data: edit(t, good, func(e *envelope) { e.V = 2 }), roots: true, want: []error{ErrMalformed}},
		{name: "short nonce", data: edit(t, good, func(e *envelope) { e.Nonce = e.Nonce[:8] }), roots: true, want: []error{ErrMalformed}},
		{name: "no signature", data: edit(t, good, func(e *envelope) { e.Sig = nil }), roots: true, want: []error{ErrMalformed}},
		{name: "trailing data", data: append(slices.Clone(good), " {}"...), roots: true, want: []error{ErrMalformed}},
		{name: "unknown field", data: append([]byte(`{"x":1,`), good[1:]...), roots: true, want: []error{ErrMalformed}},
		{name: "empty", data: nil, roots: true, want: []error{ErrMalformed}},
		{name: "null", data: []byte("null"), roots: true, want: []error{ErrMalformed}},
		{name: "not JSON", data: []byte("\x00\xff"), roots: true, want: []error{ErrMalformed}},
		{name: "too large", data: bytes.Repeat([]byte(" "), MaxEnvelopeSize+1), roots: true, want: []error{ErrMalformed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := &Verifier{}
			if tc.roots {
				v.Roots = f.roots
			}
			subject, at := tc.subject, tc.at
			if subject == "" {
				subject = joinSubject
			}
			if at.IsZero() {
				at = now
			}
			id, got, err := v.Verify(subject, tc.data, at)
			if tc.want == nil {
				if err != nil || id != node.Identity() || !bytes.Equal(got, payload) {
					t.Fatalf("Verify = %+v, %q, %v; want %+v, %q", id, got, err, node.Identity(), payload)
				}
				return
			}
			for _, want := range tc.want {
				if !errors.Is(err, want) {
					t.Errorf("Verify error %v, want %v", err, want)
				}
			}
			if id != (Identity{}) || got != nil {
				t.Errorf("a refused envelope returned %+v, %q", id, got)
			}
		})
	}
}

func TestEnvelopeFormat(t *testing.T) {
	f := newFixture(t)
	s := mustSigner(t, f.node)
	if want := (Identity{Region: testRegion, Node: testNode}); s.Identity() != want {
		t.Errorf("Identity() = %+v, want %+v", s.Identity(), want)
	}
	now := time.Unix(1_900_000_000, 123)
	a, err := s.Sign(joinSubject, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(a, &fields); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	if want := []string{"cert", "nonce", "payload", "sig", "ts", "v"}; !slices.Equal(keys, want) {
		t.Errorf("envelope keys %v, want %v", keys, want)
	}
	if string(fields["v"]) != "1" || string(fields["ts"]) != "1900000000000000123" || string(fields["payload"]) != `""` {
		t.Errorf("v %s ts %s payload %s", fields["v"], fields["ts"], fields["payload"])
	}
	b, _ := s.Sign(joinSubject, nil, now)
	var ea, eb envelope
	_ = json.Unmarshal(a, &ea)
	_ = json.Unmarshal(b, &eb)
	if len(ea.Nonce) != nonceSize || bytes.Equal(ea.Nonce, eb.Nonce) {
		t.Errorf("nonces %x and %x: want two different %d-byte nonces", ea.Nonce, eb.Nonce, nonceSize)
	}
}

func TestNewSignerRefuses(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name      string
		cert, key string
		want      error
	}{
		{"key of another certificate", f.node.Cert, f.user.Key, ErrBadPEM},
		{"CA certificate", filepath.Join(f.dir, CACertFile), filepath.Join(f.dir, CAKeyFile), ErrNoIdentity},
		{"missing", filepath.Join(f.dir, "nope.crt"), f.node.Key, nil},
	} {
		_, err := NewSigner(tc.cert, tc.key)
		if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: NewSigner = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestReplay(t *testing.T) {
	f := newFixture(t)
	s := mustSigner(t, f.node)
	now := time.Now()
	data, err := s.Sign(joinSubject, []byte("x"), now)
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Roots: f.roots}
	if _, _, err := v.Verify(joinSubject, data, now); err != nil {
		t.Fatal(err)
	}
	if _, _, err := v.Verify(joinSubject, data, now.Add(time.Second)); !errors.Is(err, ErrReplay) {
		t.Fatalf("second Verify = %v, want ErrReplay", err)
	}
	// A refused envelope does not spend its nonce: the genuine one still verifies elsewhere.
	other := &Verifier{Roots: f.roots}
	tampered := edit(t, data, func(e *envelope) { e.Payload = []byte("y") })
	if _, _, err := other.Verify(joinSubject, tampered, now); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered Verify = %v, want ErrBadSignature", err)
	}
	if _, _, err := other.Verify(joinSubject, data, now); err != nil {
		t.Fatalf("Verify after a tampered copy = %v, want success", err)
	}
}

func TestReplayConcurrent(t *testing.T) {
	f := newFixture(t)
	data, err := mustSigner(t, f.node).Sign(joinSubject, []byte("x"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v := &Verifier{Roots: f.roots}
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, _, errs[i] = v.Verify(joinSubject, data, time.Now()) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrReplay):
			t.Errorf("concurrent Verify = %v, want success or ErrReplay", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent Verify calls succeeded, want exactly 1", ok, n)
	}
}

func TestReplayCacheBounded(t *testing.T) {
	f := newFixture(t)
	s := mustSigner(t, f.node)
	const skew = time.Minute
	v := &Verifier{Roots: f.roots, MaxSkew: skew, MaxNonces: 4}
	t0 := time.Now()
	sign := func(at time.Time) []byte {
		data, err := s.Sign(joinSubject, nil, at)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var first []byte
	for i := range 4 {
		data := sign(t0)
		if i == 0 {
			first = data
		}
		if _, _, err := v.Verify(joinSubject, data, t0); err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
	}
	if _, _, err := v.Verify(joinSubject, sign(t0), t0); !errors.Is(err, ErrReplay) {
		t.Fatalf("fifth fresh envelope with a full cache = %v, want ErrReplay (refuse, never forget)", err)
	}
	later := t0.Add(skew + time.Second) // the first four are stale now and may be forgotten
	if _, _, err := v.Verify(joinSubject, sign(later), later); err != nil {
		t.Fatalf("fresh envelope after the old ones went stale: %v", err)
	}
	if n := len(v.seen); n != 1 {
		t.Errorf("replay cache holds %d nonces, want 1 after pruning", n)
	}
	if _, _, err := v.Verify(joinSubject, first, later); !errors.Is(err, ErrStale) {
		t.Errorf("replay of a forgotten envelope = %v, want ErrStale", err)
	}
}

func TestVerifyNowGoesBack(t *testing.T) {
	f := newFixture(t)
	s := mustSigner(t, f.node)
	v := &Verifier{Roots: f.roots, MaxSkew: time.Minute}
	t0 := time.Now()
	a, _ := s.Sign(joinSubject, nil, t0.Add(90*time.Second))
	if _, _, err := v.Verify(joinSubject, a, t0.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Fresh by its own now, but older than the latest now minus MaxSkew: its nonce could already
	// have been pruned, so it is stale.
	b, _ := s.Sign(joinSubject, nil, t0)
	if _, _, err := v.Verify(joinSubject, b, t0); !errors.Is(err, ErrStale) {
		t.Fatalf("Verify with now behind the latest = %v, want ErrStale", err)
	}
}
