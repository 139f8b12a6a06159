package client

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// TestExactlyOnceToB publishes from every region to B and checks that each plain subscription sees
// every message once and each queue group sees it once in total.
func TestExactlyOnceToB(t *testing.T) {
	f := startTree(t)
	const perRegion = 2000
	senders := []regions.RegionID{rootID, aID, a1ID, bID}
	subject := overlay.Subject(bID, "events", "created")

	b1, b2 := f.connect(t, bID), f.connect(t, bID)
	var plain1, plain2, queued atomic.Int64
	var seenMu sync.Mutex
	seen := map[string]int{} // payload → deliveries to plain subscription 1
	mustSub := func(c *Client, q string, h nats.MsgHandler) {
		sub, err := c.Subscribe(subject, q, h)
		if err != nil {
			t.Fatal(err)
		}
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			t.Fatal(err)
		}
	}
	mustSub(b1, "", func(m *nats.Msg) {
		plain1.Add(1)
		seenMu.Lock()
		seen[string(m.Data)]++
		seenMu.Unlock()
	})
	mustSub(b2, "", func(*nats.Msg) { plain2.Add(1) })
	mustSub(b1, "workers", func(*nats.Msg) { queued.Add(1) })
	mustSub(b2, "workers", func(*nats.Msg) { queued.Add(1) })
	for _, c := range []*Client{b1, b2} {
		if err := c.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
	}
	// Interest must reach the farthest region before it publishes.
	waitInterest(t, f, subject)

	for _, r := range senders {
		c := f.connect(t, r)
		for i := range perRegion {
			if err := c.Publish(subject, fmt.Appendf(nil, "%s-%d", r, i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.Conn().Flush(); err != nil {
			t.Fatal(err)
		}
	}
	total := int64(perRegion * len(senders))
	checkFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if plain1.Load() < total || plain2.Load() < total || queued.Load() < total {
			return fmt.Errorf("plain %d/%d, queue %d, want %d each", plain1.Load(), plain2.Load(), queued.Load(), total)
		}
		return nil
	})
	// A round trip on every path flushes anything still in flight; then no count may exceed total.
	for _, r := range senders {
		pingB(t, f, r)
	}
	if plain1.Load() != total || plain2.Load() != total || queued.Load() != total {
		t.Fatalf("deliveries: plain %d and %d, queue group %d; want exactly %d each", plain1.Load(), plain2.Load(), queued.Load(), total)
	}
	seenMu.Lock()
	defer seenMu.Unlock()
	for p, n := range seen {
		if n != 1 {
			t.Fatalf("payload %s delivered %d times", p, n)
		}
	}
}

// waitInterest waits until every region's node knows of a subscriber for subject.
func waitInterest(t *testing.T, f *fed, subject string) {
	t.Helper()
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		for r, n := range f.nodes {
			if n.Broker().Account(broker.AppAccount).Interest(subject) == 0 {
				return fmt.Errorf("no interest for %s at %s yet", subject, r)
			}
		}
		return nil
	})
}

// pingB does one lookup round trip from region r to B, through the same path as r's publishes.
func pingB(t *testing.T, f *fed, r regions.RegionID) {
	t.Helper()
	c := f.connect(t, r)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv := f.connect(t, bID)
	sub, err := srv.Serve("ping", func(context.Context, regions.ID) ([]byte, error) { return []byte("pong"), nil })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	waitInterest(t, f, overlay.LookupSubject("ping", bID.FirstID()))
	if _, err := c.Lookup(ctx, "ping", bID.FirstID()); err != nil {
		t.Fatalf("ping from %s: %v", r, err)
	}
}
