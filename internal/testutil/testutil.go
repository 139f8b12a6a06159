// Package testutil holds the few helpers FeDist's tests share across packages.
package testutil

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// CheckFor polls fn every step until it returns nil, and fails the test with fn's last error when
// total has passed. Use it instead of sleeping to wait for a condition.
func CheckFor(tb testing.TB, total, step time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(step)
	}
}

// ConnectRegion connects a plain nats.go client to a FeDist node's client URL the way the README
// tells users to: it learns the region from the server's name and uses that region's inbox prefix,
// without which replies cannot reach it. The connection is closed when the test ends.
func ConnectRegion(tb testing.TB, url string, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	probe, err := nats.Connect(url, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	r, _, ok := regions.ParseServerName(probe.ConnectedServerName())
	probe.Close()
	if !ok {
		tb.Fatalf("%s: server %q is not a FeDist node", url, probe.ConnectedServerName())
	}
	nc, err := nats.Connect(url, append([]nats.Option{nats.CustomInboxPrefix(overlay.InboxPrefix(r))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// NATSLeakIgnores are the goroutines embedded nats-servers and in-process clients leave behind by
// design after every server shut down, for goleak.VerifyTestMain in packages that run whole
// federations.
func NATSLeakIgnores() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine.func1"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*ipQueue[...]).push"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).processClientOrLeafAuthentication"),
		goleak.IgnoreAnyFunction("internal/poll.runtime_pollWait"),
	}
}

// DaemonAddrs reads the listener URLs a daemon run with -log-json logged: its client and leafnode
// URLs (the "broker started" line) and its monitoring address ("monitoring…"); "" for those not
// logged yet.
func DaemonAddrs(log string) (client, leaf, http string) {
	for _, line := range strings.Split(log, "\n") {
		var rec struct {
			Message string `json:"message"`
			Client  string `json:"client"`
			Leaf    string `json:"leaf"`
			HTTP    string `json:"http"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec.Message == "broker started":
			client, leaf = rec.Client, rec.Leaf
		case strings.HasPrefix(rec.Message, "monitoring"):
			http = rec.HTTP
		}
	}
	return client, leaf, http
}
