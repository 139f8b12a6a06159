package client

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The benchmarks below compare FeDist with plain NATS in the same run, on the same tree
// (root ← A ← A1, root ← B), both with a JetStream domain on every server:
//
//	go test -run '^$' -bench 'Overlay$' -benchtime 1x -count 5 ./client/
//
// Each run measures both systems and reports both figures and their ratio. Lookups alternate the two
// systems request by request; throughput alternates them in eight bursts of 50,000 messages.

// plainTree starts plain nats-servers in the same tree, with JetStream domains, and returns the
// client URLs of A1 and B. With tlsFiles (a node certificate of each server), leafnode links run
// mutual TLS and client ports offer TLS, as FeDist's do with certificates.
func plainTree(b *testing.B, tlsFiles func(name string) *pki.TLSFiles) (a1URL, bURL string) {
	leafPorts := map[*server.Server]int{}
	start := func(name string, parent *server.Server) *server.Server {
		o := &server.Options{ServerName: name, Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			JetStream: true, JetStreamDomain: name, StoreDir: b.TempDir()}
		o.LeafNode.Host, o.LeafNode.Port = "127.0.0.1", -1
		o.LeafNode.Compression.Mode = server.CompressionOff
		var files *pki.TLSFiles
		if tlsFiles != nil {
			files = tlsFiles(name)
			var err error
			if o.LeafNode.TLSConfig, err = files.ServerConfig(); err != nil {
				b.Fatal(err)
			}
			if o.TLSConfig, err = files.ClientPortConfig(); err != nil {
				b.Fatal(err)
			}
			o.TLS, o.TLSTimeout, o.LeafNode.TLSTimeout = true, 5, 5
		}
		if parent != nil {
			u, _ := url.Parse(fmt.Sprintf("nats-leaf://127.0.0.1:%d", leafPorts[parent]))
			r := &server.RemoteLeafOpts{URLs: []*url.URL{u}, Compression: server.CompressionOpts{Mode: server.CompressionOff}}
			if files != nil {
				tc, err := files.ClientConfig("")
				if err != nil {
					b.Fatal(err)
				}
				r.TLS, r.TLSConfig, r.TLSTimeout = true, tc, 5
			}
			o.LeafNode.Remotes = []*server.RemoteLeafOpts{r}
		}
		s, err := server.NewServer(o)
		if err != nil {
			b.Fatal(err)
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			b.Fatal("plain server not ready")
		}
		b.Cleanup(s.Shutdown)
		leafPorts[s] = o.LeafNode.Port // nats-server writes the chosen port back
		return s
	}
	root := start("root", nil)
	a := start("a", root)
	a1 := start("a1", a)
	bs := start("b", root)
	checkForB(b, func() bool { return a1.NumLeafNodes() == 1 && root.NumLeafNodes() == 2 && bs.NumLeafNodes() == 1 })
	return a1.ClientURL(), bs.ClientURL()
}

func checkForB(b *testing.B, ok func() bool) {
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatal("condition not met")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// throughput publishes n messages of size bytes from pub and returns messages per second received by
// the subscription on sub's connection.
func throughput(b *testing.B, pub, sub *nats.Conn, subject string, n, size int) float64 {
	return relayedThroughput(b, pub, sub, subject, subject, n, size)
}

// waitRoute waits until a request from pub crosses the tree to B and back; the subscriptions made
// just before have then reached pub's server too, since interest travels the same links first.
func waitRoute(b *testing.B, pub *nats.Conn) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := pub.Request(readySubject, nil, 200*time.Millisecond); err == nil {
			return
		}
	}
	b.Fatal("path never became ready")
}

const readySubject = "fd.00b0.get.bench.ready"

// rtts does n request pairs, alternating the two systems request by request so that load changes on
// the machine hit both alike, and returns each system's sorted round-trip times.
func rtts(b *testing.B, reqA, reqB func() error, n int) (a, bs []time.Duration) {
	a, bs = make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	timed := func(req func() error) time.Duration {
		start := time.Now()
		if err := req(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for range n {
		a = append(a, timed(reqA))
		bs = append(bs, timed(reqB))
	}
	slices.Sort(a)
	slices.Sort(bs)
	return a, bs
}

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p)] }

func BenchmarkOverlay(b *testing.B) {
	plainA1, plainB := plainTree(b, nil)
	f := startTree(b)
	benchOverlay(b, plainA1, plainB, f.connect(b, a1ID), f.connect(b, bID))
}

// BenchmarkOverlayTLS is BenchmarkOverlay with TLS on both sides: mutual TLS on every leafnode link
// and TLS on the client ports, FeDist's clients as a configured user:
//
//	go test -run '^$' -bench OverlayTLS -benchtime 1x -count 5 ./client/
func BenchmarkOverlayTLS(b *testing.B) {
	dir := b.TempDir()
	if err := pki.InitCA(dir, time.Hour); err != nil {
		b.Fatal(err)
	}
	issue := func(r regions.RegionID, name string) *pki.TLSFiles {
		cert, key, err := pki.IssueNode(dir, r, name, []string{"127.0.0.1", "localhost"}, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		return &pki.TLSFiles{CA: filepath.Join(dir, pki.CACertFile), Cert: cert, Key: key}
	}
	plainIDs := map[string]regions.RegionID{"root": rootID, "a": aID, "a1": a1ID, "b": bID}
	plainA1, plainB := plainTree(b, func(name string) *pki.TLSFiles { return issue(plainIDs[name], "plain-"+name) })
	f := startTreeWith(b, func(c *node.Config) {
		c.Broker.TLS = *issue(c.Broker.Region, c.Broker.Node)
		c.Broker.ClientTLS, c.Broker.NoAuthApps = true, false
		c.Broker.Users = []broker.User{{Name: "bench", Password: "bench"}}
	})
	ca := nats.RootCAs(filepath.Join(dir, pki.CACertFile))
	connect := func(r regions.RegionID) *Client {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := Connect(ctx, f.nodes[r].Broker().ClientURL(), ca, nats.UserInfo("bench", "bench"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(c.Close)
		return c
	}
	benchOverlay(b, plainA1, plainB, connect(a1ID), connect(bID), ca)
}

func benchOverlay(b *testing.B, plainA1, plainB string, fa1, fb *Client, opts ...nats.Option) {
	const msgs, bursts, size, lookups = 400_000, 8, 128, 3000
	conn := func(u string) *nats.Conn {
		nc, err := nats.Connect(u, opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		return nc
	}
	pa1, pb := conn(plainA1), conn(plainB)
	ready := func(nc *nats.Conn) {
		if _, err := nc.Subscribe(readySubject, func(m *nats.Msg) { _ = m.Respond(nil) }); err != nil {
			b.Fatal(err)
		}
	}
	// Lookup responders: a plain subscriber in plain B, FeDist's Serve in FeDist's B.
	if _, err := pb.Subscribe(overlay.ServeSubject(bID, "users"), func(m *nats.Msg) { _ = m.Respond([]byte("user")) }); err != nil {
		b.Fatal(err)
	}
	if _, err := fb.Serve("users", func(context.Context, regions.ID) ([]byte, error) { return []byte("user"), nil }); err != nil {
		b.Fatal(err)
	}
	ready(pb)
	ready(fb.Conn())
	waitRoute(b, pa1)
	waitRoute(b, fa1.Conn())
	subject := overlay.Subject(bID, "bench", "events")
	id := regions.NewID(bID, 7)
	lookupSubject := overlay.LookupSubject("users", id)
	ctx := context.Background()
	plainReq := func() error { _, err := pa1.Request(lookupSubject, nil, 5*time.Second); return err }
	// Fresh: the figure is the path's, through the region's relay; a replica would answer locally.
	fedReq := func() error { _, err := fa1.Lookup(ctx, "users", id, Fresh()); return err }
	replicaReq := func() error { _, err := fa1.Lookup(ctx, "users", id); return err }
	_, _ = rtts(b, plainReq, fedReq, 200) // warm both paths

	b.ResetTimer()
	for range b.N {
		// Alternate the systems in short bursts, so a slow moment of the shared machine hits both.
		var pDur, fDur float64
		for range bursts {
			pDur += float64(msgs/bursts) / throughput(b, pa1, pb, subject, msgs/bursts, size)
			fDur += float64(msgs/bursts) / throughput(b, fa1.Conn(), fb.Conn(), subject, msgs/bursts, size)
		}
		pt, ft := float64(msgs)/pDur, float64(msgs)/fDur
		pr, fr := rtts(b, plainReq, fedReq, lookups)
		b.ReportMetric(pt, "nats-msgs/s")
		b.ReportMetric(ft, "fedist-msgs/s")
		b.ReportMetric(ft/pt, "throughput-ratio")
		b.ReportMetric(float64(pct(pr, 0.5).Microseconds()), "nats-p50-µs")
		b.ReportMetric(float64(pct(fr, 0.5).Microseconds()), "fedist-p50-µs")
		b.ReportMetric(float64(pct(pr, 0.99).Microseconds()), "nats-p99-µs")
		b.ReportMetric(float64(pct(fr, 0.99).Microseconds()), "fedist-p99-µs")
		b.ReportMetric(float64(pct(fr, 0.5))/float64(pct(pr, 0.5)), "lookup-p50-ratio")
		_, rr := rtts(b, plainReq, replicaReq, lookups) // the record is hot by now: A1's replica answers
		b.ReportMetric(float64(pct(rr, 0.5).Microseconds()), "replica-p50-µs")
	}
}

// BenchmarkRelayThroughput compares publishes from A1 to B over plain NATS's tree with FeDist's
// relayed path, the one traffic routed by the cost engine takes: the client publishes into its own
// region's relay (fdh.00a1.00b0.…), which republishes it with its hop count and path headers. On
// loopback the relay then sends it over the tree (no shortcut pays off at sub-millisecond RTTs),
// so the figure is the relay's own cost per message:
//
//	go test -run '^$' -bench RelayThroughput -benchtime 1x -count 5 ./client/
func BenchmarkRelayThroughput(b *testing.B) {
	const msgs, bursts, size = 400_000, 8, 128
	plainA1, plainB := plainTree(b, nil)
	f := startTree(b)
	fa1, fb := f.connect(b, a1ID), f.connect(b, bID)
	conn := func(u string) *nats.Conn {
		nc, err := nats.Connect(u)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(nc.Close)
		return nc
	}
	pa1, pb := conn(plainA1), conn(plainB)
	for _, nc := range []*nats.Conn{pb, fb.Conn()} {
		if _, err := nc.Subscribe(readySubject, func(m *nats.Msg) { _ = m.Respond(nil) }); err != nil {
			b.Fatal(err)
		}
	}
	waitRoute(b, pa1)
	waitRoute(b, fa1.Conn())
	subject := overlay.Subject(bID, "bench", "events")
	relayed, err := overlay.RelaySubject(a1ID, subject)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		var pDur, fDur float64
		for range bursts {
			pDur += float64(msgs/bursts) / throughput(b, pa1, pb, subject, msgs/bursts, size)
			fDur += float64(msgs/bursts) / relayedThroughput(b, fa1.Conn(), fb.Conn(), relayed, subject, msgs/bursts, size)
		}
		pt, ft := float64(msgs)/pDur, float64(msgs)/fDur
		b.ReportMetric(pt, "nats-msgs/s")
		b.ReportMetric(ft, "relayed-msgs/s")
		b.ReportMetric(ft/pt, "throughput-ratio")
	}
}

// relayedThroughput is throughput for a publish subject that differs from the subscribed one (a
// relay subject and the region subject it delivers to).
func relayedThroughput(b *testing.B, pub, sub *nats.Conn, pubSubject, subSubject string, n, size int) float64 {
	var got atomic.Int64
	done := make(chan struct{})
	s, err := sub.Subscribe(subSubject, func(*nats.Msg) {
		if got.Add(1) == int64(n) {
			close(done)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Unsubscribe()
	_ = s.SetPendingLimits(-1, -1)
	if err := sub.Flush(); err != nil {
		b.Fatal(err)
	}
	waitRoute(b, pub)
	payload := make([]byte, size)
	start := time.Now()
	for range n {
		if err := pub.Publish(pubSubject, payload); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		b.Fatalf("received %d of %d", got.Load(), n)
	}
	return float64(n) / time.Since(start).Seconds()
}
