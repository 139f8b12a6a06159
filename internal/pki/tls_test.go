package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// handshake runs a TLS handshake over a loopback TCP connection (net.Pipe has no buffer, and in
// TLS 1.2 a server that refuses the client's flight would block writing its alert). After a
// successful handshake the server writes one byte that the client reads: in TLS 1.3 the client's
// handshake completes before the server has checked the client's certificate, and the read is
// where the client sees a refusal. Neither error may be a timeout.
func handshake(t *testing.T, server, client *tls.Config) (peer []*x509.Certificate, serverErr, clientErr error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	deadline := time.Now().Add(10 * time.Second) // a bug must fail the test, not hang it
	type result struct {
		peer []*x509.Certificate
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(deadline)
		srv := tls.Server(conn, server)
		err = srv.Handshake()
		if err == nil {
			_, err = srv.Write([]byte{1})
		}
		done <- result{srv.ConnectionState().PeerCertificates, err}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	cli := tls.Client(conn, client)
	clientErr = cli.Handshake()
	if clientErr == nil {
		var b [1]byte
		_, clientErr = io.ReadFull(cli, b[:])
	}
	r := <-done
	for _, err := range []error{r.err, clientErr} {
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			t.Fatalf("handshake timed out: %v (server error %v)", err, r.err)
		}
	}
	return r.peer, r.err, clientErr
}

func mustConfig(t *testing.T, make func() (*tls.Config, error)) *tls.Config {
	t.Helper()
	c, err := make()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTLSHandshake(t *testing.T) {
	f := newFixture(t)
	otherAsClient := TLSFiles{CA: f.node.CA, Cert: f.otherNode.Cert, Key: f.otherNode.Key} // trusts our server
	noCert := &tls.Config{RootCAs: f.roots, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	clientFor := func(files TLSFiles, serverName string) func() (*tls.Config, error) {
		return func() (*tls.Config, error) { return files.ClientConfig(serverName) }
	}
	unknownCA := func(err error) bool { return errors.As(err, &x509.UnknownAuthorityError{}) }
	for _, tc := range []struct {
		name   string
		server func() (*tls.Config, error)
		client func() (*tls.Config, error)
		// want is the identity the server sees; zero when the handshake must fail.
		want Identity
		// serverRefuses checks the server's error when the server refuses the client; nil when
		// the client refuses the server.
		serverRefuses func(error) bool
		// clientRefuses checks the client's error when the client refuses the server.
		clientRefuses func(error) bool
	}{
		{name: "node to node", server: f.node.ServerConfig, client: clientFor(f.node, "localhost"),
			want: Identity{Region: testRegion, Node: testNode}},
		{name: "node from another CA", server: f.node.ServerConfig, client: clientFor(otherAsClient, "localhost"),
			serverRefuses: unknownCA},
		{name: "no client certificate", server: f.node.ServerConfig, client: func() (*tls.Config, error) { return noCert, nil },
			serverRefuses: func(err error) bool {
				return err != nil && strings.Contains(err.Error(), "didn't provide a certificate")
			}},
		{name: "user certificate on a node link", server: f.node.ServerConfig, client: clientFor(f.user, "localhost"),
			serverRefuses: func(err error) bool { return errors.Is(err, ErrNotNode) }},
		{name: "server from another CA", server: f.otherNode.ServerConfig, client: clientFor(f.node, "localhost"),
			clientRefuses: unknownCA},
		{name: "server under another name", server: f.node.ServerConfig, client: clientFor(f.node, "n9.example.net"),
			clientRefuses: func(err error) bool { return errors.As(err, &x509.HostnameError{}) }},
		// A link to a parent node checks its identity, not the host name dialed (LinkClientConfig).
		{name: "link, server under another name", server: f.node.ServerConfig, client: f.node.LinkClientConfig,
			want: Identity{Region: testRegion, Node: testNode}},
		{name: "link, server from another CA", server: f.otherNode.ServerConfig, client: f.node.LinkClientConfig,
			clientRefuses: unknownCA},
		{name: "link, a user's certificate as server", server: f.user.ServerConfig, client: f.node.LinkClientConfig,
			clientRefuses: func(err error) bool { return errors.As(err, &x509.CertificateInvalidError{}) }},
		{name: "client port, user", server: f.node.ClientPortConfig, client: clientFor(f.user, "localhost"),
			want: Identity{Region: testRegion, User: testUser}},
		{name: "client port, node", server: f.node.ClientPortConfig, client: clientFor(f.node, "localhost"),
			want: Identity{Region: testRegion, Node: testNode}},
		{name: "client port, no certificate", server: f.node.ClientPortConfig, client: func() (*tls.Config, error) { return noCert, nil }},
		{name: "client port, another CA", server: f.node.ClientPortConfig, client: clientFor(otherAsClient, "localhost"),
			serverRefuses: unknownCA},
	} {
		for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			t.Run(tc.name+"/"+tls.VersionName(version), func(t *testing.T) {
				client := mustConfig(t, tc.client).Clone()
				client.MaxVersion = version
				peer, serverErr, clientErr := handshake(t, mustConfig(t, tc.server), client)
				switch {
				case tc.serverRefuses != nil:
					if !tc.serverRefuses(serverErr) || clientErr == nil {
						t.Fatalf("server error %v, client error %v; want the server to refuse", serverErr, clientErr)
					}
				case tc.clientRefuses != nil:
					if !tc.clientRefuses(clientErr) || serverErr == nil {
						t.Fatalf("client error %v, server error %v; want the client to refuse", clientErr, serverErr)
					}
				default:
					if serverErr != nil || clientErr != nil {
						t.Fatalf("server error %v, client error %v; want success", serverErr, clientErr)
					}
					if tc.want == (Identity{}) {
						if len(peer) != 0 {
							t.Fatalf("server saw %d client certificates, want none", len(peer))
						}
						return
					}
					if len(peer) == 0 {
						t.Fatal("server saw no client certificate")
					}
					if id, err := IdentityOf(peer[0]); err != nil || id != tc.want {
						t.Fatalf("server sees %+v (%v), want %+v", id, err, tc.want)
					}
				}
			})
		}
	}
}

func TestTLSConfigBasics(t *testing.T) {
	f := newFixture(t)
	srv := mustConfig(t, f.node.ServerConfig)
	port := mustConfig(t, f.node.ClientPortConfig)
	cli := mustConfig(t, func() (*tls.Config, error) { return f.node.ClientConfig("") })
	if srv.ClientAuth != tls.RequireAndVerifyClientCert || port.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Errorf("ClientAuth: server %v, client port %v", srv.ClientAuth, port.ClientAuth)
	}
	for name, c := range map[string]*tls.Config{"server": srv, "client port": port, "client": cli} {
		if c.MinVersion != tls.VersionTLS12 || len(c.Certificates) != 1 || c.InsecureSkipVerify {
			t.Errorf("%s: MinVersion %x, %d certificates, InsecureSkipVerify %v", name, c.MinVersion, len(c.Certificates), c.InsecureSkipVerify)
		}
	}
	if _, err := (TLSFiles{CA: f.node.CA}).ServerConfig(); !errors.Is(err, ErrBadPEM) {
		t.Errorf("ServerConfig without cert and key = %v, want ErrBadPEM", err)
	}
}
