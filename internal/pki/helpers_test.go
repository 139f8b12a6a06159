package pki

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testRegion regions.RegionID = 0x00a3
	testNode                    = "n1"
	testUser                    = "alice"
	year                        = 365 * 24 * time.Hour
)

// fixture is a CA directory with a node and a user certificate, and a second CA directory with a
// node certificate of the same name, all written with the package's own file API.
type fixture struct {
	dir, otherDir string
	roots         *x509.CertPool // the first CA only
	node, user    TLSFiles       // signed by the first CA
	otherNode     TLSFiles       // signed by the other CA, same identity as node
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	base := tb.TempDir()
	f := &fixture{dir: filepath.Join(base, "ca"), otherDir: filepath.Join(base, "other")}
	for _, dir := range []string{f.dir, f.otherDir} {
		if err := InitCA(dir, 10*year); err != nil {
			tb.Fatal(err)
		}
	}
	f.node = mustNode(tb, f.dir, testRegion, testNode)
	f.otherNode = mustNode(tb, f.otherDir, testRegion, testNode)
	cert, key, err := IssueClient(f.dir, testRegion, testUser, year)
	if err != nil {
		tb.Fatal(err)
	}
	f.user = TLSFiles{CA: filepath.Join(f.dir, CACertFile), Cert: cert, Key: key}
	if f.roots, err = LoadCA(f.node.CA); err != nil {
		tb.Fatal(err)
	}
	return f
}

func mustNode(tb testing.TB, dir string, r regions.RegionID, node string) TLSFiles {
	tb.Helper()
	cert, key, err := IssueNode(dir, r, node, nil, year)
	if err != nil {
		tb.Fatal(err)
	}
	return TLSFiles{CA: filepath.Join(dir, CACertFile), Cert: cert, Key: key}
}

func mustSigner(tb testing.TB, files TLSFiles) *Signer {
	tb.Helper()
	s, err := NewSigner(files.Cert, files.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func mustLeaf(tb testing.TB, files TLSFiles) *x509.Certificate {
	tb.Helper()
	pair, err := LoadKeyPair(files.Cert, files.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return pair.Leaf
}

// memCert issues a certificate from tmpl with an in-memory CA, for tests of what IssueNode would
// refuse to write.
func memCert(tb testing.TB, ca *authority, tmpl *x509.Certificate, now time.Time) tls.Certificate {
	tb.Helper()
	certDER, keyDER, err := ca.issue(tmpl, now, year)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(certDER)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{certDER}, PrivateKey: key, Leaf: leaf}
}

func mustAuthority(tb testing.TB, now time.Time) *authority {
	tb.Helper()
	ca, _, err := newAuthority(now, 10*year)
	if err != nil {
		tb.Fatal(err)
	}
	return ca
}
