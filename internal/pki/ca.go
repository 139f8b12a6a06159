package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"time"
)

// File names inside a certificate directory.
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// CACommonName is the CN of every FeDist CA.
const CACommonName = "FeDist CA"

// backdate is how long before its issue time a certificate becomes valid, so that a peer whose
// clock is behind accepts a certificate issued a moment ago.
const backdate = time.Hour

// authority is a CA in memory: its certificate and the key that signs with it.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// newAuthority creates a self-signed CA valid from now-backdate to now+validity. It returns the
// CA and the PKCS #8 DER of its key.
func newAuthority(now time.Time, validity time.Duration) (*authority, []byte, error) {
	if validity <= 0 {
		return nil, nil, fmt.Errorf("CA validity %v: must be positive: %w", validity, ErrBadValidity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: CACommonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true, // the CA signs leaves only, never another CA
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode CA key: %w", err)
	}
	return &authority{cert: cert, key: key}, keyDER, nil
}

// issue signs a fresh P-256 key into a leaf certificate built from tmpl (subject, SANs, usages),
// valid from now-backdate to now+validity but never past the CA's own expiry. It returns the
// certificate DER and the PKCS #8 DER of the key.
func (a *authority) issue(tmpl *x509.Certificate, now time.Time, validity time.Duration) (certDER, keyDER []byte, err error) {
	if validity <= 0 {
		return nil, nil, fmt.Errorf("validity %v: must be positive: %w", validity, ErrBadValidity)
	}
	if !now.Before(a.cert.NotAfter) {
		return nil, nil, fmt.Errorf("CA expired at %s: %w", a.cert.NotAfter.UTC().Format(time.RFC3339), ErrBadValidity)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	t := *tmpl
	t.SerialNumber = serial()
	t.NotBefore = now.Add(-backdate)
	t.NotAfter = now.Add(validity)
	if t.NotAfter.After(a.cert.NotAfter) {
		t.NotAfter = a.cert.NotAfter // a leaf that outlived its CA would fail verification anyway
	}
	t.KeyUsage = x509.KeyUsageDigitalSignature
	t.BasicConstraintsValid = true
	certDER, err = x509.CreateCertificate(rand.Reader, &t, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate %q: %w", t.Subject.CommonName, err)
	}
	keyDER, err = x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encode key: %w", err)
	}
	return certDER, keyDER, nil
}

// serial returns a random positive 128-bit serial number.
func serial() *big.Int {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	b[0] &= 0x7f           // positive when read as a signed DER integer
	b[0] |= 0x40           // and always 16 bytes long
	return new(big.Int).SetBytes(b[:])
}

// InitCA creates dir (mode 0700) and writes a new CA into it: ca.crt and ca.key (mode 0600). The CA
// is valid for validity from now. It refuses, with ErrExists, if either file already exists, so an
// existing CA, and every certificate it signed, is never lost by accident.
func InitCA(dir string, validity time.Duration) error {
	return initCA(dir, validity, time.Now())
}

func initCA(dir string, validity time.Duration, now time.Time) error {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	if err := refuseExisting(certPath, keyPath); err != nil {
		return fmt.Errorf("init CA in %s: %w", dir, err)
	}
	ca, keyDER, err := newAuthority(now, validity)
	if err != nil {
		return fmt.Errorf("init CA in %s: %w", dir, err)
	}
	if err := writePair(dir, certPath, keyPath, ca.cert.Raw, keyDER); err != nil {
		return fmt.Errorf("init CA in %s: %w", dir, err)
	}
	return nil
}

// loadAuthority reads ca.crt and ca.key from dir and checks that they belong together.
func loadAuthority(dir string) (*authority, error) {
	certPath, keyPath := filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile)
	certs, err := readCerts(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no CA in %s (create one with 'fedist-root certs init -dir %s'): %w", dir, dir, err)
	}
	if err != nil {
		return nil, err
	}
	cert := certs[0]
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: the certificate is not a CA: %w", certPath, ErrBadPEM)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, fmt.Errorf("%s does not hold the key of %s: %w", keyPath, certPath, ErrBadPEM)
	}
	return &authority{cert: cert, key: key}, nil
}

// publicKeysEqual compares two public keys of any type the standard library provides.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
