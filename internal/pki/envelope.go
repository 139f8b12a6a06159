package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// EnvelopeVersion is the version of the envelope format that Sign writes and Verify accepts.
const EnvelopeVersion = 1

// nonceSize is the length of an envelope's nonce in bytes.
const nonceSize = 16

// envelopeDomain separates the envelope digest from anything else a node key might sign.
const envelopeDomain = "fedist envelope v1\x00"

// envelope is the JSON form of a signed message. []byte fields are base64 (standard, padded).
type envelope struct {
	V       int    `json:"v"`
	Cert    []byte `json:"cert"`    // DER of the signer's leaf certificate
	TS      int64  `json:"ts"`      // signing time, Unix nanoseconds
	Nonce   []byte `json:"nonce"`   // 16 random bytes
	Payload []byte `json:"payload"` // the message
	Sig     []byte `json:"sig"`     // ASN.1 ECDSA signature of digest(...)
}

// digest is the SHA-256 that an envelope's signature covers: a domain tag, then the subject, the
// SHA-256 of the certificate, the timestamp, the nonce and the payload, each variable-length part
// prefixed by its length. An envelope signed for one subject therefore does not verify on another,
// nor with another certificate for the same key.
func digest(subject string, certDER []byte, ts int64, nonce, payload []byte) []byte {
	h := sha256.New()
	var n [8]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte(envelopeDomain))
	put([]byte(subject))
	certSum := sha256.Sum256(certDER)
	h.Write(certSum[:])
	binary.BigEndian.PutUint64(n[:], uint64(ts))
	h.Write(n[:])
	put(nonce)
	put(payload)
	return h.Sum(nil)
}

// Signer signs control messages with a node's (or user's) certificate and key. It is safe for
// concurrent use.
type Signer struct {
	cert []byte        // leaf DER
	key  crypto.Signer // its private key, ECDSA
	id   Identity
}

// NewSigner loads a certificate and its key (as written by IssueNode) into a Signer.
func NewSigner(certFile, keyFile string) (*Signer, error) {
	pair, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("new signer: %w", err)
	}
	s, err := NewSignerFromCert(pair)
	if err != nil {
		return nil, fmt.Errorf("new signer from %s: %w", certFile, err)
	}
	return s, nil
}

// NewSignerFromCert builds a Signer from a loaded key pair, such as the one a TLS config presents.
// The certificate must carry a FeDist identity and an ECDSA key.
func NewSignerFromCert(pair tls.Certificate) (*Signer, error) {
	if len(pair.Certificate) == 0 {
		return nil, fmt.Errorf("key pair has no certificate: %w", ErrBadPEM)
	}
	leaf := pair.Leaf
	if leaf == nil {
		var err error
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parse certificate: %v: %w", err, ErrBadPEM)
		}
	}
	id, err := IdentityOf(leaf)
	if err != nil {
		return nil, err
	}
	key, ok := pair.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("private key is %T, want *ecdsa.PrivateKey: %w", pair.PrivateKey, ErrBadPEM)
	}
	if !publicKeysEqual(leaf.PublicKey, key.Public()) {
		return nil, fmt.Errorf("private key does not match certificate %q: %w", leaf.Subject.CommonName, ErrBadPEM)
	}
	return &Signer{cert: pair.Certificate[0], key: key, id: id}, nil
}

// Identity returns the identity of the signing certificate.
func (s *Signer) Identity() Identity { return s.id }

// Sign wraps payload in an envelope for subject, timestamped now:
// {"v":1,"cert":…,"ts":…,"nonce":…,"payload":…,"sig":…}.
func (s *Signer) Sign(subject string, payload []byte, now time.Time) ([]byte, error) {
	nonce := make([]byte, nonceSize)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	ts := now.UnixNano()
	sig, err := s.key.Sign(rand.Reader, digest(subject, s.cert, ts, nonce, payload), crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("sign for %s: %w", subject, err)
	}
	if payload == nil {
		payload = []byte{} // "" rather than null, so that every field is always present
	}
	return json.Marshal(envelope{V: EnvelopeVersion, Cert: s.cert, TS: ts, Nonce: nonce, Payload: payload, Sig: sig})
}
