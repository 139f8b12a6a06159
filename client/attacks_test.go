package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestAttacksAreRefused replays the attacks of issue 7 (and variants) as an application user of
// A1 and asserts each specific refusal: a permissions violation naming the subject, or a JetStream
// gateway error; then it checks that the root's registry is unchanged byte for byte.
func TestAttacksAreRefused(t *testing.T) {
	f := startTree(t)
	root := f.nodes[rootID]
	before := registryBytes(t, f)
	nc, errs := f.plain(t, a1ID)

	entry := []byte(`{"id":"00b0","name":"b","parent":"0001","status":"down"}`)
	for _, subj := range []string{
		// 1: the registry, directly and through every JetStream domain.
		"$KV.fedist-registry.region.00b0",
		"$JS.fd-0001.API.$KV.fedist-registry.region.00b0",
		"$JS.fd-0001.API.STREAM.PURGE.KV_fedist-registry",
		"$JS.API.STREAM.PURGE.KV_fedist-registry",
		"$JS.API.STREAM.DELETE.KV_fedist-registry",
		// 4: streams in another region's domain.
		"$JS.fd-00b0.API.STREAM.CREATE.spy",
		// 4: streams in its own domain, directly (only the gateway may create them).
		"$JS.API.STREAM.CREATE.spy",
		"$JS.API.STREAM.UPDATE.spy",
		"$JS.API.STREAM.RESTORE.spy",
		// 5: ID counters, own and other regions'.
		"$JS.fd-00b0.API.$KV.fedist-ids.seq.00b0",
		"fdi.00b0.range",
		// control subjects, and relay replies.
		"fdc.root.join", "fdc.root.leave", "fdc.root.hwm", "fdr.00b0.b1.x",
	} {
		if err := nc.Publish(subj, entry); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	// Its own domain's API: refused whether or not the server still holds its domain mappings in
	// the applications' account (the broker removes them, broker/appmappings.go; a leafnode
	// connection adds them back until the next sweep). Mapped, the deny list refuses the mapped
	// subject; unmapped, the allow list refuses the subject itself.
	for pub, denied := range map[string]string{
		"$JS.fd-00a1.API.$KV.fedist-registry.region.00b0":  "$KV.fedist-registry.region.00b0",
		"$JS.fd-00a1.API.STREAM.CREATE.spy":                "$JS.API.STREAM.CREATE.spy",
		"$JS.fd-00a1.API.STREAM.DELETE.KV_fedist-registry": "$JS.API.STREAM.DELETE.KV_fedist-registry",
	} {
		if err := nc.Publish(pub, entry); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, denied, pub)
	}
	// 3: other regions' inboxes, and every inbox.
	for _, subj := range []string{"_INBOX.>", "_INBOX.00b0.>", "_INBOX.*.x", "fdr.>", "fdc.>"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		expectDenied(t, errs, subj)
	}
	// A default nats.go inbox (not the region's) cannot receive replies either.
	if _, err := nc.SubscribeSync("_INBOX.abcdef.*"); err != nil {
		t.Fatal(err)
	}
	expectDenied(t, errs, "_INBOX.abcdef.*")

	// 4: through the JetStream gateway, a stream over another region's subjects, a wildcard that
	// covers them, inboxes, or a source in another domain is refused with the gateway's reason.
	js, err := jetstream.NewWithAPIPrefix(nc, overlay.JSGatewayAPI(a1ID))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, cfg := range []jetstream.StreamConfig{
		{Name: "spy", Subjects: []string{"fd.00b0.>"}},
		{Name: "spy", Subjects: []string{"fd.*.>"}},
		{Name: "spy", Subjects: []string{">"}},
		{Name: "spy", Subjects: []string{"_INBOX.>"}},
		{Name: "spy", Subjects: []string{"fdh.>"}},
		{Name: "spy", Sources: []*jetstream.StreamSource{{Name: "x", Domain: "fd-00b0"}}},
		{Name: "KV_fedist-registry", Subjects: []string{"$KV.fedist-registry.>"}},
		{Name: "other", Subjects: []string{"orders.>"}}, // outside FeDist: not region-bound, refused
	} {
		_, err := js.CreateStream(ctx, cfg)
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 403 {
			t.Fatalf("stream %+v: %v, want the gateway's 403", cfg, err)
		}
	}
	// Its own data: a stream of its own region's subjects and a KV bucket, through the gateway.
	for _, cfg := range []jetstream.StreamConfig{
		{Name: "mine", Subjects: []string{"fd.00a1.orders.>"}},
	} {
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatalf("stream %s: %v", cfg.Name, err)
		}
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "carts"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	// The gateway forwards only calls whose reply is an inbox: one that names a JetStream call as
	// its reply (so that JetStream's answer would delete the stream) is dropped.
	if err := nc.PublishMsg(&nats.Msg{Subject: overlay.JSGatewayAPI(a1ID) + ".STREAM.INFO.mine",
		Reply: "$JS.API.STREAM.DELETE.mine"}); err != nil {
		t.Fatal(err)
	}
	// Own-region ID ranges: bad requests get an error, greed gets a bounded range.
	for req, want := range map[string]string{`{"n":0}`: "error", `garbage`: "error", `{"n":1000000000}`: "range"} {
		m, err := nc.Request(overlay.IDSubject(a1ID), []byte(req), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var rep overlay.IDRangeReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			t.Fatal(err)
		}
		if (want == "error") != (rep.Error != "") || (want == "range" && (rep.N == 0 || rep.N > 4096)) {
			t.Fatalf("ID range request %s: %+v, want %s", req, rep, want)
		}
	}
	if _, err := js.Stream(ctx, "mine"); err != nil {
		t.Fatalf("stream mine after a forged gateway reply: %v", err)
	}

	// 2: a relay does not answer a reply that is not an inbox (see TestRelayAndHopLimit too).
	via, _ := overlay.RelaySubject(rootID, "fd.00a1.evil")
	if err := nc.PublishMsg(&nats.Msg{Subject: via, Reply: "$KV.fedist-registry.region.00b0", Data: entry}); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if root.Overlay().Stats().BadReply == 0 {
			return errors.New("relay has not refused the forged reply yet")
		}
		return nil
	})

	// What an application may do still works: read the registry, get IDs.
	c := f.connect(t, a1ID)
	if _, err := c.WatchRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.NewID(ctx); err != nil {
		t.Fatal(err)
	}
	if after := registryBytes(t, f); !bytes.Equal(before, after) {
		t.Fatalf("the root's registry changed:\nbefore %s\nafter  %s", before, after)
	}
}

// registryBytes returns the root's registry values, in key order, as one JSON document.
func registryBytes(t *testing.T, f *fed) []byte {
	t.Helper()
	var all []json.RawMessage
	entries := f.nodes[rootID].View().Entries()
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	for _, e := range entries {
		b, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	out, _ := json.Marshal(all)
	return out
}

// TestNoStreamThroughConsumerDelivery: a JetStream consumer delivers with JetStream's own rights,
// so an application must not be able to point one at the JetStream API and have it create, from a
// message of its own, a stream the gateway would refuse.
func TestNoStreamThroughConsumerDelivery(t *testing.T) {
	f := startTree(t)
	nc, _ := f.plain(t, a1ID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	spy, _ := json.Marshal(jetstream.StreamConfig{Name: "spy", Subjects: []string{"fd.00b0.>"}})
	js, _ := deliverFromOwnStream(ctx, t, nc, spy, "$JS.API.STREAM.CREATE.spy")
	// The consumer delivers at once; give it 3 s to do harm. (nats-server ignores JetStream API
	// requests that carry no client info, which only clients and leafnodes get: jetstream_api.go,
	// apiDispatch.)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, err := js.Stream(ctx, "spy")
		if err == nil {
			t.Fatal("a consumer's delivery created stream spy over another region's subjects")
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatal(err)
		}
	}
}

// TestRegistryCopyCannotBeWritten: publishes to the applications' registry copy are refused (see
// TestAttacksAreRefused); the one other way to aim a message at it is a JetStream consumer that
// delivers there. The copy does not change (measured: nats-server does not deliver to a push
// consumer's subject that only a stream listens on). Were it ever to, the node puts the registry's
// value back, node/appcopy.go.
func TestRegistryCopyCannotBeWritten(t *testing.T) {
	f := startTree(t)
	nc, _ := f.plain(t, a1ID)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fake := []byte(`{"id":"00b0","name":"b","parent":"0001","status":"down"}`)
	js, cons := deliverFromOwnStream(ctx, t, nc, fake, "$KV.fedist-registry.region.00b0")
	kv, err := js.KeyValue(ctx, "fedist-registry")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := f.nodes[rootID].View().Get(bID)
	wantBytes, _ := want.Marshal()
	// The copy may still be filling when the regions are active; wait until it holds B's entry.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		e, err := kv.Get(ctx, "region.00b0")
		if err == nil && bytes.Equal(e.Value(), wantBytes) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy never held the registry's entry for 00b0: %v", err)
		}
	}
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		e, err := kv.Get(ctx, "region.00b0")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Value(), wantBytes) {
			t.Fatalf("the copy holds %s, want the registry's %s", e.Value(), wantBytes)
		}
	}
	if info, err := cons.Info(ctx); err == nil {
		t.Logf("consumer delivered %d message(s); the copy is unchanged", info.Delivered.Consumer)
	}
}

// deliverFromOwnStream does what an application of A1 may: it creates a stream of its own region's
// subjects through the gateway, stores data in it, and creates a push consumer on it that delivers
// to deliverTo. It returns the application's JetStream (without the gateway) and the consumer.
func deliverFromOwnStream(ctx context.Context, t *testing.T, nc *nats.Conn, data []byte, deliverTo string) (jetstream.JetStream, jetstream.Consumer) {
	t.Helper()
	gw, err := jetstream.NewWithAPIPrefix(nc, overlay.JSGatewayAPI(a1ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gw.CreateStream(ctx, jetstream.StreamConfig{Name: "carrier", Subjects: []string{"fd.00a1.carrier.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := gw.Publish(ctx, "fd.00a1.carrier.x", data); err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	cons, err := js.CreateOrUpdateConsumer(ctx, "carrier", jetstream.ConsumerConfig{
		DeliverSubject: deliverTo, AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	return js, cons
}
