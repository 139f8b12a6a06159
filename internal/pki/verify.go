package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"sync"
	"time"
)

// Defaults of a Verifier whose fields are zero.
const (
	// DefaultMaxSkew is the default of Verifier.MaxSkew. Region clocks run NTP and agree within
	// well under a second; two minutes tolerates a badly synced one and a slow path of several hops,
	// while keeping the replay cache small.
	DefaultMaxSkew = 2 * time.Minute
	// DefaultMaxNonces is the default of Verifier.MaxNonces. Joins and other control messages are
	// rare; 65536 is ~270 per second sustained over a 4-minute window.
	DefaultMaxNonces = 1 << 16
	// MaxEnvelopeSize is the largest envelope Verify decodes: NATS's default max payload (1 MiB).
	MaxEnvelopeSize = 1 << 20
)

// Verifier checks envelopes made by Signer.Sign: that the certificate chains to Roots and names a
// node, that the timestamp is within MaxSkew of now, that the signature covers this subject, and
// that the nonce was not seen before. Set the exported fields before the first Verify and do not
// change them afterwards. It is safe for concurrent use; do not copy it.
type Verifier struct {
	// Roots are the CAs whose node certificates are trusted. Required: a nil pool trusts nobody
	// (never the system roots).
	Roots *x509.CertPool
	// MaxSkew is how far an envelope's timestamp may lie from now, either way; 0 means
	// DefaultMaxSkew. A nonce is remembered for 2*MaxSkew at most, after which its envelope is stale.
	MaxSkew time.Duration
	// MaxNonces bounds the replay cache; 0 means DefaultMaxNonces. When the cache is full of
	// nonces that are still fresh, Verify refuses new envelopes (ErrReplay) rather than forget one.
	MaxNonces int

	mu     sync.Mutex                // guards seen, latest, pruned
	seen   map[[nonceSize]byte]int64 // nonce → envelope timestamp (Unix ns), for fresh envelopes
	latest time.Time                 // the latest now seen; envelopes older than latest-MaxSkew are stale
	pruned time.Time                 // when seen was last pruned
}

// Verify checks an envelope signed for subject and returns the signer's identity and the payload.
// Errors wrap ErrMalformed, ErrUntrusted (with ErrNotNode for a user's certificate), ErrStale,
// ErrBadSignature or ErrReplay. Verify never panics, whatever data holds.
func (v *Verifier) Verify(subject string, data []byte, now time.Time) (Identity, []byte, error) {
	fail := func(err error) (Identity, []byte, error) {
		return Identity{}, nil, fmt.Errorf("verify envelope on %s: %w", subject, err)
	}
	env, err := decodeEnvelope(data)
	if err != nil {
		return fail(err)
	}
	skew := v.skew()
	ts := time.Unix(0, env.TS)
	if d := ts.Sub(now); d > skew || d < -skew {
		return fail(fmt.Errorf("signed at %s, %v from now (max ±%v): %w", ts.UTC().Format(time.RFC3339Nano), d, skew, ErrStale))
	}
	leaf, err := x509.ParseCertificate(env.Cert)
	if err != nil {
		return fail(fmt.Errorf("certificate: %v: %w", err, ErrMalformed))
	}
	id, err := v.trust(leaf, now)
	if err != nil {
		return fail(err)
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fail(fmt.Errorf("%s has a %T key, want ECDSA: %w", id, leaf.PublicKey, ErrUntrusted))
	}
	if !ecdsa.VerifyASN1(pub, digest(subject, env.Cert, env.TS, env.Nonce, env.Payload), env.Sig) {
		return fail(fmt.Errorf("from %s: %w", id, ErrBadSignature))
	}
	if err := v.remember([nonceSize]byte(env.Nonce), env.TS, now, skew); err != nil {
		return fail(fmt.Errorf("from %s: %w", id, err))
	}
	if env.Payload == nil {
		env.Payload = []byte{} // "payload":null or no payload: the signature covered an empty one
	}
	return id, env.Payload, nil
}

// decodeEnvelope parses one JSON envelope of the current version, with no unknown fields and
// nothing after it.
func decodeEnvelope(data []byte) (*envelope, error) {
	if len(data) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%d bytes, max %d: %w", len(data), MaxEnvelopeSize, ErrMalformed)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var env envelope
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the envelope: %w", ErrMalformed)
	}
	switch {
	case env.V != EnvelopeVersion:
		return nil, fmt.Errorf("version %d, want %d: %w", env.V, EnvelopeVersion, ErrMalformed)
	case len(env.Nonce) != nonceSize:
		return nil, fmt.Errorf("nonce of %d bytes, want %d: %w", len(env.Nonce), nonceSize, ErrMalformed)
	case len(env.Cert) == 0 || len(env.Sig) == 0:
		return nil, fmt.Errorf("no certificate or no signature: %w", ErrMalformed)
	}
	return &env, nil
}

// trust verifies the leaf against Roots at now, for client authentication, and returns its node
// identity.
func (v *Verifier) trust(leaf *x509.Certificate, now time.Time) (Identity, error) {
	if v.Roots == nil {
		return Identity{}, fmt.Errorf("verifier has no roots: %w", ErrUntrusted)
	}
	if leaf.IsCA {
		return Identity{}, fmt.Errorf("%q is a CA certificate: %w", leaf.Subject.CommonName, ErrUntrusted)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots:       v.Roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return Identity{}, fmt.Errorf("%q: %v: %w", leaf.Subject.CommonName, err, ErrUntrusted)
	}
	id, err := IdentityOf(leaf)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	if !id.IsNode() {
		return Identity{}, fmt.Errorf("%s: %w: %w", id, ErrUntrusted, ErrNotNode)
	}
	return id, nil
}

func (v *Verifier) skew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}

func (v *Verifier) maxNonces() int {
	if v.MaxNonces > 0 {
		return v.MaxNonces
	}
	return DefaultMaxNonces
}

// remember records a nonce of a verified envelope, or refuses it if it was seen before. An
// envelope older than latest-skew is refused as stale even if now says otherwise, because its nonce
// may already have been pruned.
func (v *Verifier) remember(nonce [nonceSize]byte, ts int64, now time.Time, skew time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if now.After(v.latest) {
		v.latest = now
	}
	if ts < v.latest.Add(-skew).UnixNano() {
		return fmt.Errorf("signed more than %v before the latest verification: %w", skew, ErrStale)
	}
	if v.seen == nil {
		v.seen = make(map[[nonceSize]byte]int64)
	}
	if _, dup := v.seen[nonce]; dup {
		return fmt.Errorf("nonce %x seen before: %w", nonce, ErrReplay)
	}
	if len(v.seen) >= v.maxNonces() || v.latest.Sub(v.pruned) > skew/2 {
		v.pruneLocked(skew)
	}
	if len(v.seen) >= v.maxNonces() {
		return fmt.Errorf("replay cache full (%d fresh nonces); refusing rather than forgetting one: %w", len(v.seen), ErrReplay)
	}
	v.seen[nonce] = ts
	return nil
}

// pruneLocked forgets the nonces of envelopes that are stale by now: no replay of them can pass
// the timestamp check.
func (v *Verifier) pruneLocked(skew time.Duration) {
	oldest := v.latest.Add(-skew).UnixNano()
	for n, ts := range v.seen {
		if ts < oldest {
			delete(v.seen, n)
		}
	}
	v.pruned = v.latest
}
