package pki

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedist/fedist/regions"
)

// DefaultHosts are the SANs of a node certificate issued without hosts: enough for a federation on
// one machine.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// NodeFiles returns the certificate and key paths of a node inside dir:
// node-<rrrr>-<node>.crt and .key.
func NodeFiles(dir string, region regions.RegionID, node string) (certPath, keyPath string) {
	base := filepath.Join(dir, "node-"+region.String()+"-"+node)
	return base + ".crt", base + ".key"
}

// ClientFiles returns the certificate and key paths of an application user inside dir:
// client-<rrrr>-<user>.crt and .key.
func ClientFiles(dir string, region regions.RegionID, user string) (certPath, keyPath string) {
	base := filepath.Join(dir, "client-"+region.String()+"-"+user)
	return base + ".crt", base + ".key"
}

// IssueNode signs a certificate for node node of region with the CA in dir, and writes it and its
// key (mode 0600) to node-<rrrr>-<node>.crt and .key in dir. The certificate's CN is the node's
// nats-server name fd-<rrrr>-<node>, its OU fedist-node, and its URI SAN
// fedist://region/<rrrr>/node/<node>. hosts (DefaultHosts when empty) become DNS or IP SANs. It is
// good for both ends of mutual TLS. The validity is cut short at the CA's expiry. Existing files are
// not overwritten (ErrExists).
func IssueNode(dir string, region regions.RegionID, node string, hosts []string, validity time.Duration) (certPath, keyPath string, err error) {
	return issueNode(dir, region, node, hosts, validity, time.Now())
}

func issueNode(dir string, region regions.RegionID, node string, hosts []string, validity time.Duration, now time.Time) (string, string, error) {
	id := Identity{Region: region, Node: node}
	tmpl, err := nodeTemplate(id, hosts)
	if err != nil {
		return "", "", fmt.Errorf("issue node certificate: %w", err)
	}
	certPath, keyPath := NodeFiles(dir, region, node)
	if err := issueFiles(dir, tmpl, certPath, keyPath, validity, now); err != nil {
		return "", "", fmt.Errorf("issue node certificate %s: %w", id, err)
	}
	return certPath, keyPath, nil
}

// IssueClient signs a client certificate for application user user of region with the CA in dir,
// and writes it and its key (mode 0600) to client-<rrrr>-<user>.crt and .key in dir. The CN is the
// user name, the OU fedist-app, and the URI SAN fedist://region/<rrrr>/user/<user>. It is good for
// TLS client authentication only. Existing files are not overwritten (ErrExists).
func IssueClient(dir string, region regions.RegionID, user string, validity time.Duration) (certPath, keyPath string, err error) {
	return issueClient(dir, region, user, validity, time.Now())
}

func issueClient(dir string, region regions.RegionID, user string, validity time.Duration, now time.Time) (string, string, error) {
	id := Identity{Region: region, User: user}
	tmpl, err := clientTemplate(id)
	if err != nil {
		return "", "", fmt.Errorf("issue client certificate: %w", err)
	}
	certPath, keyPath := ClientFiles(dir, region, user)
	if err := issueFiles(dir, tmpl, certPath, keyPath, validity, now); err != nil {
		return "", "", fmt.Errorf("issue client certificate %s: %w", id, err)
	}
	return certPath, keyPath, nil
}

// issueFiles loads the CA in dir, signs tmpl and writes the pair.
func issueFiles(dir string, tmpl *x509.Certificate, certPath, keyPath string, validity time.Duration, now time.Time) error {
	if err := refuseExisting(certPath, keyPath); err != nil {
		return err
	}
	ca, err := loadAuthority(dir)
	if err != nil {
		return err
	}
	certDER, keyDER, err := ca.issue(tmpl, now, validity)
	if err != nil {
		return err
	}
	return writePair(dir, certPath, keyPath, certDER, keyDER)
}

// nodeTemplate is the subject, SANs and usages of a node certificate.
func nodeTemplate(id Identity, hosts []string) (*x509.Certificate, error) {
	if err := id.validate(); err != nil {
		return nil, err
	}
	if !id.IsNode() {
		return nil, fmt.Errorf("%s: %w", id, ErrNotNode)
	}
	t := &x509.Certificate{
		Subject:     pkix.Name{CommonName: id.commonName(), OrganizationalUnit: []string{NodeOU}},
		URIs:        []*url.URL{id.URI()},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts
	}
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return nil, err
		}
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return t, nil
}

// clientTemplate is the subject, SAN and usage of an application user's certificate.
func clientTemplate(id Identity) (*x509.Certificate, error) {
	if err := id.validate(); err != nil {
		return nil, err
	}
	if id.IsNode() {
		return nil, fmt.Errorf("%s is a node, not a user: %w", id, ErrBadName)
	}
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: id.commonName(), OrganizationalUnit: []string{UserOU}},
		URIs:        []*url.URL{id.URI()},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, nil
}

// checkHost accepts an IP address, or a DNS name of dot-separated labels of letters, digits, '-'
// and '_' with an optional leading "*." wildcard.
func checkHost(h string) error {
	if net.ParseIP(h) != nil {
		return nil
	}
	name := strings.TrimPrefix(h, "*.")
	if name == "" || len(h) > 253 {
		return fmt.Errorf("host %q: want an IP address or a DNS name: %w", h, ErrBadHost)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || !nameChars(label, "-_") {
			return fmt.Errorf("host %q: want an IP address or a DNS name: %w", h, ErrBadHost)
		}
	}
	return nil
}
