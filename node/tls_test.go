package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// These tests run a federation with mutual TLS on 127.0.0.1 and check who gets in: a node whose
// certificate the federation issued for the name it announces links and joins; a node with a
// certificate of another CA, without one, or with one for another name never links; a signed control
// message that claims another node is refused by the root; applications need credentials; a route
// comes only from a node of the same region. Every refusal is asserted by the line that says why it
// happened, never by the absence of a link alone.

// holdWindow is how long a "never links" assertion watches: many reconnect attempts at the tests'
// 100 ms LeafReconnect.
const holdWindow = 3 * time.Second

// testCA is a federation CA in a temporary directory.
type testCA struct {
	t   *testing.T
	dir string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	if err := pki.InitCA(dir, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	return &testCA{t: t, dir: dir}
}

func (c *testCA) caFile() string { return filepath.Join(c.dir, pki.CACertFile) }

// node issues a node certificate for 127.0.0.1 and localhost and returns the node's TLS files.
func (c *testCA) node(r regions.RegionID, name string) pki.TLSFiles {
	c.t.Helper()
	cert, key, err := pki.IssueNode(c.dir, r, name, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		c.t.Fatal(err)
	}
	return pki.TLSFiles{CA: c.caFile(), Cert: cert, Key: key}
}

// client issues an application user's certificate and returns its files.
func (c *testCA) client(r regions.RegionID, user string) (cert, key string) {
	c.t.Helper()
	cert, key, err := pki.IssueClient(c.dir, r, user, time.Hour)
	if err != nil {
		c.t.Fatal(err)
	}
	return cert, key
}

// signer loads a certificate of this CA as a control-message signer.
func (c *testCA) signer(cert, key string) *pki.Signer {
	c.t.Helper()
	s, err := pki.NewSigner(cert, key)
	if err != nil {
		c.t.Fatal(err)
	}
	return s
}

// tlsNodeConfig is fastConfig for a node that runs with the TLS files f. Clients without credentials
// are not allowed on a TLS node, so NoAuthApps is off.
func tlsNodeConfig(t *testing.T, id regions.RegionID, node, name string, parent *Node, f pki.TLSFiles) Config {
	t.Helper()
	c := fastConfig(t, id, node, name, parent)
	c.Broker.TLS = f
	c.Broker.NoAuthApps = false
	return c
}

// logLines keeps what a node or a plain nats-server logs, so that a test can wait for the line that
// says why a connection was refused. It is a zerolog writer and a nats-server Logger.
type logLines struct {
	mu    sync.Mutex // guards lines
	lines []string
}

func (l *logLines) add(s string) {
	l.mu.Lock()
	l.lines = append(l.lines, s)
	l.mu.Unlock()
}

func (l *logLines) Write(p []byte) (int, error) { l.add(string(p)); return len(p), nil }

func (l *logLines) Noticef(format string, v ...any) { l.add(fmt.Sprintf(format, v...)) }
func (l *logLines) Warnf(format string, v ...any)   { l.add(fmt.Sprintf(format, v...)) }
func (l *logLines) Fatalf(format string, v ...any)  { l.add(fmt.Sprintf(format, v...)) }
func (l *logLines) Errorf(format string, v ...any)  { l.add(fmt.Sprintf(format, v...)) }
func (l *logLines) Debugf(format string, v ...any)  { l.add(fmt.Sprintf(format, v...)) }
func (l *logLines) Tracef(format string, v ...any)  { l.add(fmt.Sprintf(format, v...)) }

// has returns nil once some line holds every one of subs.
func (l *logLines) has(subs ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if containsAll(line, subs) {
			return nil
		}
	}
	return fmt.Errorf("no log line holds all of %q (%d lines)", subs, len(l.lines))
}

// lacks returns an error naming the first line that holds every one of subs.
func (l *logLines) lacks(subs ...string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if containsAll(line, subs) {
			return fmt.Errorf("log line %q", strings.TrimSpace(line))
		}
	}
	return nil
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// recordLog sends the node's and its broker's log (Info and above) to a logLines, and also to the
// test log when testLog would.
func recordLog(t *testing.T, c *Config) *logLines {
	rec := &logLines{}
	var w io.Writer = rec
	if testing.Verbose() && lookupEnv("FEDIST_TEST_LOG") {
		w = zerolog.MultiLevelWriter(rec, zerolog.NewTestWriter(t))
	}
	l := zerolog.New(w).Level(zerolog.InfoLevel)
	c.Log, c.Broker.Log = l, l
	return rec
}

// holdFor checks cond every 50 ms for d and fails the test the first time it returns an error. It
// asserts that something does NOT happen, where there is no event to wait for.
func holdFor(t *testing.T, d time.Duration, cond func() error) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := cond(); err != nil {
			t.Fatal(err)
		}
	}
}

// childrenAre reports whether n's broker lists exactly want as its child regions' nodes.
func childrenAre(n *Node, want map[regions.RegionID][]string) error {
	both, _ := childReport(n.Broker().ChildLinks())
	got := map[regions.RegionID][]string{}
	for r, nodes := range both {
		id, err := regions.ParseRegion(r)
		if err != nil {
			return err
		}
		got[id] = nodes
	}
	if !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		return fmt.Errorf("%s lists children %v, want %v", n.Broker().Name(), got, want)
	}
	return nil
}

// phaseIs reports whether n is in phase want.
func phaseIs(n *Node, want string) error {
	if p := n.Phase(); p != want {
		return fmt.Errorf("%s is in phase %q, want %q (err %v)", n.Broker().Name(), p, want, n.Err())
	}
	return nil
}

// shutdownQuickly stops a node that never linked and checks that it stops cleanly and promptly.
func shutdownQuickly(t *testing.T, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown of %s: %v", n.Broker().Name(), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown of %s took %v", n.Broker().Name(), d)
	}
}

// TestTLSFederation runs root ← A ← A1 with mutual TLS on every leafnode link: each node joins with
// the certificate the federation CA issued for its name.
func TestTLSFederation(t *testing.T) {
	ca := newTestCA(t)
	root := runNode(t, tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1")))
	a := runNode(t, tlsNodeConfig(t, aID, "a1", "a", root, ca.node(aID, "a1")))
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), aID, regions.StatusActive) })
	a1 := runNode(t, tlsNodeConfig(t, a1ID, "a11", "a-one", a, ca.node(a1ID, "a11")))

	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if err := childrenAre(root, map[regions.RegionID][]string{aID: {"a1"}}); err != nil {
			return err
		}
		if err := childrenAre(a, map[regions.RegionID][]string{a1ID: {"a11"}}); err != nil {
			return err
		}
		for _, id := range []regions.RegionID{rootID, aID, a1ID} {
			if err := statusIs(a1.View(), id, regions.StatusActive); err != nil {
				return fmt.Errorf("A1's mirror: %w", err)
			}
		}
		return nil
	})
	if r, node, up := a1.Broker().Parent(); !up || r != aID || node != "a1" {
		t.Fatalf("A1's parent link: %s/%s up=%v, want %s/a1 up", r, node, up, aID)
	}
	// IDs need the root's high-water mark, a signed request that crosses two TLS links.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := a1.NewID(ctx)
	if err != nil || id.Region() != a1ID {
		t.Fatalf("A1's first ID: %v, %v; want an ID of region %s", id, err, a1ID)
	}
}

// TestTLSWrongCA starts children whose certificates come from a second CA. One also trusts only that
// CA, so it refuses the parent; the other trusts the federation CA, so it is the parent that refuses
// it. Neither links, and both shut down cleanly.
func TestTLSWrongCA(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	rootCfg := tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1"))
	rootLog := recordLog(t, &rootCfg)
	root := runNode(t, rootCfg)

	// All three files from the other CA: the child cannot verify the parent's certificate.
	foreignCfg := tlsNodeConfig(t, aID, "w1", "a", root, other.node(aID, "w1"))
	foreignLog := recordLog(t, &foreignCfg)
	foreign := startNode(t, foreignCfg)

	// The federation's CA certificate (it is public), but a node certificate of the other CA: the
	// parent refuses it.
	forged := other.node(aID, "w2")
	forged.CA = ca.caFile()
	forgedNode := startNode(t, tlsNodeConfig(t, aID, "w2", "a", root, forged))

	for _, n := range []*Node{foreign, forgedNode} {
		checkFor(t, 5*time.Second, 10*time.Millisecond, func() error { return phaseIs(n, "connecting") })
	}
	holdFor(t, holdWindow, func() error {
		if err := childrenAre(root, map[regions.RegionID][]string{}); err != nil {
			return err
		}
		if err := phaseIs(foreign, "connecting"); err != nil {
			return err
		}
		return phaseIs(forgedNode, "connecting")
	})
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		// The foreign child's own TLS handshake fails on the parent's certificate.
		if err := foreignLog.has("TLS leafnode handshake error", "failed to verify certificate", "unknown authority", "CN=fd-0001-r1"); err != nil {
			return fmt.Errorf("child with the other CA: %w", err)
		}
		// The parent refuses the forged child's certificate (nats-server names the certificate it
		// could not verify). With TLS 1.3 the child only sees its connection closed.
		return rootLog.has("TLS leafnode handshake error", "failed to verify certificate", "unknown authority", "CN=fd-00a0-w2")
	})
	if e, _ := root.View().Get(aID); e != nil {
		t.Fatalf("root's registry has %s: %+v", aID, e)
	}
	shutdownQuickly(t, foreign)
	shutdownQuickly(t, forgedNode)
}

// TestTLSNoCertificate points servers without a node certificate at a TLS parent: an insecure FeDist
// node, and plain nats-servers with and without the leaf user and the dev token. None of them
// appears among the parent's leafnodes.
func TestTLSNoCertificate(t *testing.T) {
	ca := newTestCA(t)
	rootCfg := tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1"))
	rootLog := recordLog(t, &rootCfg)
	root := runNode(t, rootCfg)

	insecureCfg := fastConfig(t, aID, "a1", "a", root)
	insecureLog := recordLog(t, &insecureCfg)
	insecure := startNode(t, insecureCfg)

	leafURL := func(user, password string) *url.URL {
		u, err := url.Parse(root.Broker().LeafURL())
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			u.User = url.UserPassword(user, password)
		}
		return u
	}
	userCert, userKey := ca.client(rootID, "mallory")
	userPair, err := tls.LoadX509KeyPair(userCert, userKey)
	if err != nil {
		t.Fatal(err)
	}
	// Without a TLS config of its own a plain server still upgrades, because the parent requires
	// TLS, and then cannot verify the parent: it gets no further than the handshake. With
	// verification skipped it reaches the parent, which refuses it for want of a node certificate.
	intruders := []struct {
		name    string
		url     *url.URL
		tls     *tls.Config
		logOf   string   // whose log says why the link failed: "intruder" or "root"
		refusal []string // what that log line holds
	}{
		{"no TLS, no credentials", leafURL("", ""), nil,
			"intruder", []string{"TLS leafnode handshake error", "failed to verify certificate"}},
		{"no TLS, leaf user and dev token", leafURL("fedist-leaf-APP", broker.DevLeafToken), nil,
			"intruder", []string{"TLS leafnode handshake error", "failed to verify certificate"}},
		{"TLS without a certificate, leaf user and dev token", leafURL("fedist-leaf-APP", broker.DevLeafToken),
			&tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true},
			"root", []string{"TLS leafnode handshake error", "didn't provide a certificate"}},
		{"an application user's certificate of the federation, leaf user and dev token", leafURL("fedist-leaf-FEDIST", broker.DevLeafToken),
			&tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: true, Certificates: []tls.Certificate{userPair}},
			"root", []string{"TLS leafnode handshake error", "fedist://region/0001/user/mallory", pki.ErrNotNode.Error()}},
	}
	logs := make([]*logLines, len(intruders))
	for i, in := range intruders {
		logs[i] = runPlainLeaf(t, fmt.Sprintf("intruder-%d", i), in.url, in.tls)
	}

	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error { return phaseIs(insecure, "connecting") })
	holdFor(t, holdWindow, func() error {
		lz, err := root.Broker().Server().Leafz(nil)
		if err != nil {
			return err
		}
		if len(lz.Leafs) != 0 {
			return fmt.Errorf("root has leafnode %q (account %s)", lz.Leafs[0].Name, lz.Leafs[0].Account)
		}
		if err := childrenAre(root, map[regions.RegionID][]string{}); err != nil {
			return err
		}
		return phaseIs(insecure, "connecting")
	})
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		if err := insecureLog.has("TLS leafnode handshake error", "failed to verify certificate"); err != nil {
			return fmt.Errorf("insecure node: %w", err)
		}
		for i, in := range intruders {
			l := logs[i]
			if in.logOf == "root" {
				l = rootLog
			}
			if err := l.has(in.refusal...); err != nil {
				return fmt.Errorf("%s: %s log: %w", in.name, in.logOf, err)
			}
		}
		return nil
	})
	shutdownQuickly(t, insecure)
}

// runPlainLeaf starts a plain nats-server, no FeDist node, whose only leafnode remote is u, and
// returns its log. It stops when the test ends.
func runPlainLeaf(t *testing.T, name string, u *url.URL, tc *tls.Config) *logLines {
	t.Helper()
	opts := &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       -1,
		NoSigs:     true,
		LeafNode: server.LeafNodeOpts{
			ReconnectInterval: 100 * time.Millisecond,
			Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: tc != nil, TLSConfig: tc}},
		},
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := &logLines{}
	s.SetLoggerV2(rec, false, false, false)
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("plain nats-server %s did not start", name)
	}
	return rec
}

// TestTLSJoinAsAnotherRegion checks both gates against a node that claims to be another: the parent
// refuses the leafnode link of a server whose name its certificate does not hold, and the root
// refuses a signed control message that names another region or node than the signer's certificate.
func TestTLSJoinAsAnotherRegion(t *testing.T) {
	ca := newTestCA(t)
	rootCfg := tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1"))
	rootLog := recordLog(t, &rootCfg)
	root := runNode(t, rootCfg)
	a := runNode(t, tlsNodeConfig(t, aID, "a1", "a", root, ca.node(aID, "a1")))
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error { return statusIs(root.View(), aID, regions.StatusActive) })

	// A certificate of node x of region A, in a node configured as node x of region B: the node
	// refuses to start, and says which certificate to make.
	xFiles := ca.node(aID, "x")
	if _, err := Start(tlsNodeConfig(t, bID, "x", "b", root, xFiles)); !errors.Is(err, broker.ErrConfig) ||
		!strings.Contains(err.Error(), "fedist-root certs node -id 00b0 -name x") {
		t.Fatalf("node of B with A's certificate: %v, want a config error naming the certificate to make", err)
	}
	// A server whose code skips that check (here a plain nats-server named fd-00b0-x, presenting
	// x's certificate and the leaf user) announces fd-00b0-x while its certificate holds fd-00a0-x:
	// the parent refuses the link.
	u, err := url.Parse(root.Broker().LeafURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("fedist-leaf-"+broker.FedistAccount, broker.DevLeafToken)
	xTLS, err := xFiles.ClientConfig("")
	if err != nil {
		t.Fatal(err)
	}
	runPlainLeaf(t, "fd-00b0-x", u, xTLS)
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		return rootLog.has("connection refused: leafnode link announces a server name its certificate does not hold (fd-00a0-x)", "fd-00b0-x")
	})
	holdFor(t, holdWindow, func() error { return childrenAre(root, map[regions.RegionID][]string{aID: {"a1"}}) })

	// The same claim made in a signed join, sent from inside the federation (A's FeDist account, so
	// it crosses A's leafnode link to the root).
	nc, err := a.Broker().Connect("test", broker.FedistAccount)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	x := ca.signer(xFiles.Cert, xFiles.Key)
	other := newTestCA(t)
	otherFiles := other.node(bID, "x")
	malloryCert, malloryKey := ca.client(bID, "mallory")
	cases := []struct {
		name     string
		signer   *pki.Signer // nil sends the request as plain JSON
		signedOn string      // the subject the envelope is signed for; SubjectJoin when empty
		req      JoinRequest
		code     string
		want     error    // what the refusal wraps
		reason   []string // what the reason says
	}{
		{"another region than the certificate's", x, "", JoinRequest{ID: "00b0", Name: "b", Parent: "0001", Node: "x"},
			CodeIdentity, ErrIdentity, []string{"fedist://region/00a0/node/x", "asks to join as region 00b0, node x"}},
		{"another node of the certificate's region", x, "", JoinRequest{ID: "00a0", Name: "a", Parent: "0001", Node: "y"},
			CodeIdentity, ErrIdentity, []string{"fedist://region/00a0/node/x", "asks to join as region 00a0, node y"}},
		{"unsigned", nil, "", JoinRequest{ID: "00b0", Name: "b", Parent: "0001", Node: "x"},
			CodeBadRequest, ErrBadRequest, []string{"verify envelope", pki.ErrMalformed.Error()}},
		{"signed for another subject", x, SubjectLeave, JoinRequest{ID: "00a0", Name: "a", Parent: "0001", Node: "x"},
			CodeBadRequest, ErrBadRequest, []string{"verify envelope", pki.ErrBadSignature.Error()}},
		{"signed by an application user", ca.signer(malloryCert, malloryKey), "", JoinRequest{ID: "00b0", Name: "b", Parent: "0001", Node: "x"},
			CodeBadRequest, ErrBadRequest, []string{"verify envelope", pki.ErrNotNode.Error()}},
		{"signed by a node of another CA", other.signer(otherFiles.Cert, otherFiles.Key), "", JoinRequest{ID: "00b0", Name: "b", Parent: "0001", Node: "x"},
			CodeBadRequest, ErrBadRequest, []string{"verify envelope", pki.ErrUntrusted.Error()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data, err := json.Marshal(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.signer != nil {
				on := tc.signedOn
				if on == "" {
					on = SubjectJoin
				}
				if data, err = tc.signer.Sign(on, data, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
			msg, err := nc.Request(SubjectJoin, data, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var rep Reply
			if err := json.Unmarshal(msg.Data, &rep); err != nil {
				t.Fatalf("reply %q: %v", msg.Data, err)
			}
			if rep.OK || rep.Code != tc.code {
				t.Fatalf("reply %+v, want refusal %q", rep, tc.code)
			}
			if err := error(&RefusedError{Code: rep.Code, Reason: rep.Reason}); !errors.Is(err, tc.want) {
				t.Fatalf("refusal %v does not wrap %v", err, tc.want)
			}
			if !containsAll(rep.Reason, tc.reason) {
				t.Fatalf("reason %q, want it to mention %q", rep.Reason, tc.reason)
			}
		})
	}

	// Nothing was written: the root's bucket has no B, and A still has only its real node. The root
	// writes before it replies, so reading the bucket itself (not a mirror) needs no waiting.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reg, err := regions.OpenRegistry(ctx, root.js)
	if err != nil {
		t.Fatal(err)
	}
	if e, err := reg.Get(ctx, bID); !errors.Is(err, regions.ErrUnknownRegion) {
		t.Fatalf("root's registry entry for %s: %+v, %v; want ErrUnknownRegion", bID, e, err)
	}
	e, err := reg.Get(ctx, aID)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Nodes) != 1 || e.Nodes[0].Name != "a1" {
		t.Fatalf("%s's nodes after the refused joins: %+v, want only a1", aID, e.Nodes)
	}
	if err := rootLog.lacks("join request", `"ok":true`, `"join_node":"x"`); err != nil {
		t.Fatalf("root accepted a join as node x: %v", err)
	}
}

// TestTLSClients checks who may use a TLS node's client port: users with a password, and users with a
// client certificate of the node's region; nobody without credentials, with a certificate of another
// region, or with a node's certificate.
func TestTLSClients(t *testing.T) {
	ca := newTestCA(t)
	cfg := tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1"))
	cfg.Broker.ClientTLS = true
	cfg.Broker.Users = []broker.User{{Name: "alice", Password: "secret"}}
	n := runNode(t, cfg)

	carolCert, carolKey := ca.client(rootID, "carol")
	daveCert, daveKey := ca.client(aID, "dave")
	nodeOfRegion := ca.node(rootID, "r2")
	cases := []struct {
		name string
		opts []nats.Option
		want error // nil: the client connects
	}{
		{"no credentials", nil, nats.ErrAuthorization},
		{"password", []nats.Option{nats.UserInfo("alice", "secret")}, nil},
		{"wrong password", []nats.Option{nats.UserInfo("alice", "guess")}, nats.ErrAuthorization},
		{"client certificate of the node's region", []nats.Option{nats.ClientCert(carolCert, carolKey)}, nil},
		{"client certificate of another region", []nats.Option{nats.ClientCert(daveCert, daveKey)}, nats.ErrAuthorization},
		{"node certificate as a client certificate", []nats.Option{nats.ClientCert(nodeOfRegion.Cert, nodeOfRegion.Key)}, nats.ErrAuthorization},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]nats.Option{nats.RootCAs(ca.caFile()), nats.Timeout(5 * time.Second)}, tc.opts...)
			nc, err := nats.Connect(n.Broker().ClientURL(), opts...)
			if tc.want != nil {
				if nc != nil {
					nc.Close()
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("connect: %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer nc.Close()
			if !nc.TLSRequired() {
				t.Fatal("client connection without TLS")
			}
			if err := nc.Flush(); err != nil {
				t.Fatalf("flush: %v", err)
			}
		})
	}
}

// TestTLSRouteFromOtherRegion runs region A on two nodes whose routes run mutual TLS, and a node of
// region B that lists A's route URL: A's nodes refuse its route.
func TestTLSRouteFromOtherRegion(t *testing.T) {
	ca := newTestCA(t)
	root := runNode(t, tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1")))

	pa1, pa2, pb := freePort(t), freePort(t), freePort(t)
	aRoutes := []string{fmt.Sprintf("127.0.0.1:%d", pa1), fmt.Sprintf("127.0.0.1:%d", pa2)}
	var aNodes []*Node
	var aLogs []*logLines
	for i, p := range []int{pa1, pa2} {
		name := fmt.Sprintf("a%d", i+1)
		c := tlsNodeConfig(t, aID, name, "a", root, ca.node(aID, name))
		c.Broker.ClusterHost, c.Broker.ClusterPort, c.Broker.Routes = "127.0.0.1", p, aRoutes
		aLogs = append(aLogs, recordLog(t, &c))
		aNodes = append(aNodes, startNode(t, c))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range aNodes {
		if err := n.WaitReady(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if e, _ := root.View().Get(aID); e == nil || len(e.Nodes) != 2 {
			return fmt.Errorf("A's entry %+v, want two nodes", e)
		}
		for i, n := range aNodes {
			peer := broker.ServerName(aID, fmt.Sprintf("a%d", 2-i))
			if !slices.Contains(n.Broker().Routes(), peer) {
				return fmt.Errorf("%s has routes %v, want one to %s", n.Broker().Name(), n.Broker().Routes(), peer)
			}
		}
		return nil
	})

	bCfg := tlsNodeConfig(t, bID, "b1", "b", root, ca.node(bID, "b1"))
	bCfg.Broker.ClusterHost, bCfg.Broker.ClusterPort = "127.0.0.1", pb
	bCfg.Broker.Routes = []string{aRoutes[0], fmt.Sprintf("127.0.0.1:%d", pb)}
	b := startNode(t, bCfg)
	bName := b.Broker().Name()
	holdFor(t, holdWindow, func() error {
		for _, n := range append(aNodes, b) {
			for _, r := range n.Broker().Routes() {
				if r == bName || (n == b && strings.HasPrefix(r, "fd-00a0-")) {
					return fmt.Errorf("%s has a route to %s", n.Broker().Name(), r)
				}
			}
		}
		return nil
	})
	checkFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		return aLogs[0].has("connection refused: cluster route without a node certificate of region 00a0", "fedist://region/00b0/node/b1")
	})
	shutdownQuickly(t, b)
}

// TestTLSHighWaterForAnotherRegion: the root records an ID high-water mark only for the region whose
// node signed the request, and never past the last sequence.
func TestTLSHighWaterForAnotherRegion(t *testing.T) {
	ca := newTestCA(t)
	root := runNode(t, tlsNodeConfig(t, rootID, "r1", "root", nil, ca.node(rootID, "r1")))
	aFiles := ca.node(aID, "a1")
	a := runNode(t, tlsNodeConfig(t, aID, "a1", "a", root, aFiles))
	nc, err := a.Broker().Connect("test", broker.FedistAccount)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	signer := ca.signer(aFiles.Cert, aFiles.Key)
	for _, tc := range []struct {
		req  HWMRequest
		code string
	}{
		{HWMRequest{ID: bID.String(), End: 1 << 40}, CodeIdentity},
		{HWMRequest{ID: aID.String(), End: regions.MaxSeq + 2}, CodeBadRequest},
	} {
		payload, _ := json.Marshal(&tc.req)
		data, err := signer.Sign(SubjectHWM, payload, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		m, err := nc.Request(SubjectHWM, data, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var rep HWMReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			t.Fatal(err)
		}
		if rep.OK || rep.Code != tc.code {
			t.Fatalf("high-water request %+v: %+v, want refusal %q", tc.req, rep, tc.code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if end, _, err := root.rootReadHWM(ctx, bID); err != nil || end != 0 {
		t.Fatalf("B's mark at the root: %d, %v; want none", end, err)
	}
}
