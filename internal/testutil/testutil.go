// Package testutil holds the few helpers FeDist's tests share across packages.
package testutil

import (
	"testing"
	"time"

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
