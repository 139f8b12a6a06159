package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

func TestInitCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := InitCA(dir, 10*year); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700 | fs.ModeDir, filepath.Join(dir, CAKeyFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode() & (fs.ModePerm | fs.ModeDir); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
	ca, err := loadAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.cert
	if c.Subject.CommonName != CACommonName || !c.IsCA || !c.BasicConstraintsValid || !c.MaxPathLenZero ||
		c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("CA certificate: CN %q IsCA %v MaxPathLenZero %v KeyUsage %v", c.Subject.CommonName, c.IsCA, c.MaxPathLenZero, c.KeyUsage)
	}
	if n := len(c.SerialNumber.Bytes()); n != 16 || c.SerialNumber.Sign() <= 0 {
		t.Errorf("serial %x: %d bytes, want a positive 16-byte number", c.SerialNumber, n)
	}
	if life := c.NotAfter.Sub(c.NotBefore); life != 10*year+backdate {
		t.Errorf("validity %v, want %v", life, 10*year+backdate)
	}

	other := t.TempDir()
	if err := InitCA(other, year); err != nil {
		t.Fatal(err)
	}
	ca2, err := loadAuthority(other)
	if err != nil {
		t.Fatal(err)
	}
	if ca2.cert.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Errorf("two CAs share serial %x", c.SerialNumber)
	}
}

func TestInitCARefusesOverwrite(t *testing.T) {
	for _, tc := range []struct {
		name     string
		existing []string
	}{
		{"both", []string{CACertFile, CAKeyFile}},
		{"cert only", []string{CACertFile}},
		{"key only", []string{CAKeyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, name := range tc.existing {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("precious"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := InitCA(dir, year)
			if !errors.Is(err, ErrExists) {
				t.Fatalf("InitCA over %v = %v, want ErrExists", tc.existing, err)
			}
			for _, name := range []string{CACertFile, CAKeyFile} {
				data, err := os.ReadFile(filepath.Join(dir, name))
				switch {
				case slices.Contains(tc.existing, name) && !bytes.Equal(data, []byte("precious")):
					t.Errorf("%s was changed to %q (%v)", name, data, err)
				case !slices.Contains(tc.existing, name) && !errors.Is(err, fs.ErrNotExist):
					t.Errorf("%s was written although InitCA refused (%v)", name, err)
				}
			}
		})
	}
	t.Run("second init", func(t *testing.T) {
		dir := t.TempDir()
		if err := InitCA(dir, year); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(filepath.Join(dir, CAKeyFile))
		if err := InitCA(dir, year); !errors.Is(err, ErrExists) {
			t.Fatalf("second InitCA = %v, want ErrExists", err)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, CAKeyFile)); !bytes.Equal(before, after) {
			t.Error("second InitCA changed ca.key")
		}
	})
}

func TestIssueNode(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name      string
		hosts     []string
		wantDNS   []string
		wantIPs   []string
		wantFiles string
	}{
		{"defaults", nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}, "node-00a3-defaults"},
		{"hosts", []string{"n1.example.net", "10.0.0.5", "*.fd.example.net", "fe80::1"},
			[]string{"n1.example.net", "*.fd.example.net"}, []string{"10.0.0.5", "fe80::1"}, "node-00a3-hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certPath, keyPath, err := IssueNode(f.dir, testRegion, tc.name, tc.hosts, year)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(f.dir, tc.wantFiles); certPath != want+".crt" || keyPath != want+".key" {
				t.Errorf("files %s, %s; want %s.crt and .key", certPath, keyPath, want)
			}
			if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v (%v), want 0600", fi.Mode().Perm(), err)
			}
			c := mustLeaf(t, TLSFiles{Cert: certPath, Key: keyPath})
			if c.Subject.CommonName != "fd-00a3-"+tc.name || !slices.Equal(c.Subject.OrganizationalUnit, []string{NodeOU}) {
				t.Errorf("subject %v", c.Subject)
			}
			if len(c.URIs) != 1 || c.URIs[0].String() != "fedist://region/00a3/node/"+tc.name {
				t.Errorf("URIs %v", c.URIs)
			}
			if !slices.Equal(c.DNSNames, tc.wantDNS) {
				t.Errorf("DNS SANs %v, want %v", c.DNSNames, tc.wantDNS)
			}
			var ips []string
			for _, ip := range c.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tc.wantIPs) {
				t.Errorf("IP SANs %v, want %v", ips, tc.wantIPs)
			}
			if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) || c.IsCA {
				t.Errorf("ExtKeyUsage %v IsCA %v", c.ExtKeyUsage, c.IsCA)
			}
			for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				if _, err := c.Verify(x509.VerifyOptions{Roots: f.roots, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
					t.Errorf("verify for usage %v: %v", usage, err)
				}
			}
			if err := c.VerifyHostname(tc.wantDNS[0]); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestIssueClient(t *testing.T) {
	f := newFixture(t)
	if want := filepath.Join(f.dir, "client-00a3-alice"); f.user.Cert != want+".crt" || f.user.Key != want+".key" {
		t.Errorf("files %s, %s; want %s.crt and .key", f.user.Cert, f.user.Key, want)
	}
	c := mustLeaf(t, f.user)
	if c.Subject.CommonName != testUser || !slices.Equal(c.Subject.OrganizationalUnit, []string{UserOU}) ||
		len(c.URIs) != 1 || c.URIs[0].String() != "fedist://region/00a3/user/alice" ||
		len(c.DNSNames)+len(c.IPAddresses) != 0 {
		t.Errorf("subject %v URIs %v DNS %v IPs %v", c.Subject, c.URIs, c.DNSNames, c.IPAddresses)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage %v, want client auth only", c.ExtKeyUsage)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: f.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err == nil {
		t.Error("a client certificate verifies for server authentication")
	}
}

func TestIssueRefuses(t *testing.T) {
	f := newFixture(t)
	empty := t.TempDir()
	long := string(bytes.Repeat([]byte("n"), maxNodeName+1))
	for _, tc := range []struct {
		name     string
		dir      string
		region   regions.RegionID
		node     string
		hosts    []string
		validity time.Duration
		want     error
	}{
		{"region 0000", f.dir, 0, "n2", nil, year, regions.ErrReservedRegion},
		{"empty node", f.dir, testRegion, "", nil, year, ErrBadName},
		{"dot", f.dir, testRegion, "a.b", nil, year, ErrBadName},
		{"space", f.dir, testRegion, "a b", nil, year, ErrBadName},
		{"star", f.dir, testRegion, "*", nil, year, ErrBadName},
		{"gt", f.dir, testRegion, "a>", nil, year, ErrBadName},
		{"slash", f.dir, testRegion, "a/b", nil, year, ErrBadName},
		{"percent", f.dir, testRegion, "a%2e", nil, year, ErrBadName},
		{"too long", f.dir, testRegion, long, nil, year, ErrBadName},
		{"bad host", f.dir, testRegion, "n2", []string{"bad host"}, year, ErrBadHost},
		{"empty host", f.dir, testRegion, "n2", []string{""}, year, ErrBadHost},
		{"zero validity", f.dir, testRegion, "n2", nil, 0, ErrBadValidity},
		{"no CA", empty, testRegion, "n2", nil, year, fs.ErrNotExist},
		{"exists", f.dir, testRegion, testNode, nil, year, ErrExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := IssueNode(tc.dir, tc.region, tc.node, tc.hosts, tc.validity)
			if !errors.Is(err, tc.want) {
				t.Fatalf("IssueNode = %v, want %v", err, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		user string
		want error
	}{
		{"", ErrBadName}, {".hidden", ErrBadName}, {"a b", ErrBadName}, {"a/b", ErrBadName}, {testUser, ErrExists},
	} {
		if _, _, err := IssueClient(f.dir, testRegion, tc.user, year); !errors.Is(err, tc.want) {
			t.Errorf("IssueClient(%q) = %v, want %v", tc.user, err, tc.want)
		}
	}
	if ok, _ := filepath.Glob(filepath.Join(empty, "*")); len(ok) != 0 {
		t.Errorf("a refused issue left files behind: %v", ok)
	}
}

func TestIssueValidityCappedAtCA(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	if err := initCA(dir, 30*24*time.Hour, now); err != nil {
		t.Fatal(err)
	}
	ca, err := loadAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath, err := issueNode(dir, testRegion, testNode, nil, year, now)
	if err != nil {
		t.Fatal(err)
	}
	if c := mustLeaf(t, TLSFiles{Cert: certPath, Key: keyPath}); !c.NotAfter.Equal(ca.cert.NotAfter) || !c.NotBefore.Equal(now.Add(-backdate)) {
		t.Errorf("node valid %s to %s; want %s to the CA's expiry %s", c.NotBefore, c.NotAfter, now.Add(-backdate), ca.cert.NotAfter)
	}
	if _, _, err := issueNode(dir, testRegion, "late", nil, year, ca.cert.NotAfter); !errors.Is(err, ErrBadValidity) {
		t.Errorf("issue with an expired CA = %v, want ErrBadValidity", err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	f := newFixture(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name  string
		files TLSFiles
		file  string
		want  error
	}{
		{"missing CA", TLSFiles{CA: missing, Cert: f.node.Cert, Key: f.node.Key}, missing, fs.ErrNotExist},
		{"garbage CA", TLSFiles{CA: garbage, Cert: f.node.Cert, Key: f.node.Key}, garbage, ErrBadPEM},
		{"missing cert", TLSFiles{CA: f.node.CA, Cert: missing, Key: f.node.Key}, missing, fs.ErrNotExist},
		{"missing key", TLSFiles{CA: f.node.CA, Cert: f.node.Cert, Key: missing}, missing, fs.ErrNotExist},
		{"garbage key", TLSFiles{CA: f.node.CA, Cert: f.node.Cert, Key: garbage}, garbage, ErrBadPEM},
		{"wrong key", TLSFiles{CA: f.node.CA, Cert: f.node.Cert, Key: f.user.Key}, f.user.Key, ErrBadPEM},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.files.ServerConfig()
			if !errors.Is(err, tc.want) || !bytes.Contains([]byte(err.Error()), []byte(tc.file)) {
				t.Fatalf("ServerConfig = %v; want %v naming %s", err, tc.want, tc.file)
			}
		})
	}
}
