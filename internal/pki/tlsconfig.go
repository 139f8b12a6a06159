package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// LoadCA reads the PEM certificates of caFile into a pool. The file must hold at least one.
func LoadCA(caFile string) (*x509.CertPool, error) {
	certs, err := readCerts(caFile)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// LoadKeyPair reads a PEM certificate (chain) and its private key. The returned certificate's Leaf
// is set.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load key: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load key pair %s and %s: %v: %w", certFile, keyFile, err, ErrBadPEM)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("%s: %v: %w", certFile, err, ErrBadPEM)
		}
	}
	return pair, nil
}

// TLSFiles names the PEM files of one end of a TLS link: the CA that peers must chain to, and this
// end's certificate and key.
type TLSFiles struct {
	CA   string // CA certificate(s) that peer certificates must chain to
	Cert string // this end's certificate
	Key  string // this end's private key
}

// load reads all three files.
func (f TLSFiles) load() (*x509.CertPool, tls.Certificate, error) {
	if f.CA == "" || f.Cert == "" || f.Key == "" {
		return nil, tls.Certificate{}, fmt.Errorf("TLS files need CA, Cert and Key (have %q, %q, %q): %w", f.CA, f.Cert, f.Key, ErrBadPEM)
	}
	pool, err := LoadCA(f.CA)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	pair, err := LoadKeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	return pool, pair, nil
}

// ServerConfig returns the config of a listener for server-to-server links (leafnode and cluster
// ports): it presents Cert, and requires every peer to present a node certificate that chains to
// CA. An application user's certificate from the same CA is refused (ErrNotNode).
func (f TLSFiles) ServerConfig() (*tls.Config, error) {
	return f.listenerConfig(tls.RequireAndVerifyClientCert, requireNodePeer)
}

// ClientPortConfig returns the config of a region's client port: it presents Cert, and verifies a
// client certificate against CA if one is given. Any FeDist identity (user or node) is accepted;
// clients without a certificate authenticate some other way.
func (f TLSFiles) ClientPortConfig() (*tls.Config, error) {
	return f.listenerConfig(tls.VerifyClientCertIfGiven, nil)
}

// listenerConfig is the config of a listener that presents Cert and checks peers against CA.
func (f TLSFiles) listenerConfig(auth tls.ClientAuthType, verify func(tls.ConnectionState) error) (*tls.Config, error) {
	pool, pair, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		Certificates:     []tls.Certificate{pair},
		ClientCAs:        pool,
		ClientAuth:       auth,
		VerifyConnection: verify,
	}, nil
}

// ClientConfig returns the config of the dialing end of a link: it presents Cert and verifies that
// the server's certificate chains to CA, names serverName in its SANs, and is a node's. An empty
// serverName leaves it to the dialer (nats-server and nats.go take it from the URL's host).
func (f TLSFiles) ClientConfig(serverName string) (*tls.Config, error) {
	pool, pair, err := f.load()
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		Certificates:     []tls.Certificate{pair},
		RootCAs:          pool,
		ServerName:       serverName,
		VerifyConnection: requireNodePeer,
	}, nil
}

// LinkClientConfig returns the config of a node dialing another node of the federation (a leafnode
// link to its parent): it presents Cert and accepts the server if its certificate chains to CA and
// names a node, whatever host name the dialer used. A FeDist node is known by the identity in its
// certificate, not by a host name: a child given several parent URLs (a root on three nodes) is
// otherwise checked against the first URL's host on every one of them (nats-server keeps one TLS
// name per remote), and its reconnect to a surviving parent node fails until that name is reset.
func (f TLSFiles) LinkClientConfig() (*tls.Config, error) {
	tc, err := f.ClientConfig("")
	if err != nil {
		return nil, err
	}
	pool := tc.RootCAs
	// The chain is verified below against CA, without the host name check; nothing else is skipped.
	tc.InsecureSkipVerify = true //nolint:gosec // verified in VerifyConnection
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("peer presented no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return fmt.Errorf("failed to verify certificate of %s: %w", cs.PeerCertificates[0].Subject, err)
		}
		return requireNodePeer(cs)
	}
	return tc, nil
}

// requireNodePeer refuses a connection whose peer is not a FeDist node. The chain was already
// verified by crypto/tls when this runs.
func requireNodePeer(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("peer presented no certificate")
	}
	id, err := IdentityOf(cs.PeerCertificates[0])
	if err != nil {
		return fmt.Errorf("TLS peer: %w", err)
	}
	if !id.IsNode() {
		return fmt.Errorf("TLS peer %s: %w", id, ErrNotNode)
	}
	return nil
}
