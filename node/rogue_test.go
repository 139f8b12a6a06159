package node

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRogueChildNode plays a child node whose code was changed: it has full rights in its own
// server's FeDist account and tries to reach the root's registry and another region's ID counter
// through its leafnode link. The parent lets through only what a child's control plane needs
// (childControlExports), so each attempt finds nobody to answer at once (the parent never shows the
// child its JetStream API), and nothing changes.
func TestRogueChildNode(t *testing.T) {
	root := runNode(t, fastConfig(t, 0x0001, "r1", "root", nil))
	a := runNode(t, fastConfig(t, 0x00a0, "a1", "a", root))
	b := runNode(t, fastConfig(t, 0x00b0, "b1", "b", root))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	before, err := registryValues(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.NewID(ctx); err != nil {
		t.Fatal(err)
	}
	bSeq, err := counter(ctx, b)
	if err != nil {
		t.Fatal(err)
	}

	nc, err := a.Broker().Connect("rogue", broker.FedistAccount)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, tc := range []struct {
		domain string
		try    func(ctx context.Context, js jetstream.JetStream) error
	}{
		{"fd-0001", func(ctx context.Context, js jetstream.JetStream) error {
			return js.DeleteStream(ctx, "KV_"+regions.Bucket)
		}},
		{"fd-0001", func(ctx context.Context, js jetstream.JetStream) error {
			s, err := js.Stream(ctx, "KV_"+regions.Bucket)
			if err != nil {
				return err
			}
			return s.Purge(ctx)
		}},
		{"fd-00b0", func(ctx context.Context, js jetstream.JetStream) error {
			_, err := js.Stream(ctx, "KV_"+regions.IDBucket)
			return err
		}},
	} {
		js, err := jetstream.NewWithDomain(nc, tc.domain)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = tc.try(ctx, js)
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Fatalf("JetStream of %s through the parent: %v, want no responders", tc.domain, err)
		}
		t.Logf("JetStream of %s: %v after %v", tc.domain, err, time.Since(start))
	}
	// Raw writes to the subjects the root's registry and B's counter listen on, in every form.
	for _, subj := range []string{
		"$JS.fd-0001.API.$KV." + regions.Bucket + ".region.00b0",
		"$KV." + regions.Bucket + ".region.00b0",
		"$JS.fd-00b0.API.$KV." + regions.IDBucket + "." + regions.SeqKey(0x00b0),
	} {
		if err := nc.Publish(subj, []byte(`{"id":"00b0","name":"b","parent":"0001","status":"down"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	// A request to the root still crosses (and is judged by the root on its merits).
	if _, err := nc.Request(SubjectHWM, []byte(`{"id":"00a0"}`), 5*time.Second); err != nil {
		t.Fatalf("a child's request to the root: %v", err)
	}
	after, err := registryValues(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Fatalf("the root's registry changed:\n%s\n%s", before, after)
	}
	if seq, err := counter(ctx, b); err != nil || seq != bSeq {
		t.Fatalf("B's counter is %d (%v), was %d", seq, err, bSeq)
	}
}

// registryValues returns every value of the node's registry bucket, concatenated in key order.
func registryValues(ctx context.Context, n *Node) ([]byte, error) {
	kv, err := n.js.KeyValue(ctx, regions.Bucket)
	if err != nil {
		return nil, err
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(append(out, k...), e.Value()...)
	}
	return out, nil
}

// counter returns the raw sequence counter of n's region.
func counter(ctx context.Context, n *Node) (uint64, error) {
	kv, err := n.js.KeyValue(ctx, regions.IDBucket)
	if err != nil {
		return 0, err
	}
	e, err := kv.Get(ctx, regions.SeqKey(n.Region()))
	if err != nil {
		return 0, err
	}
	return parseHWM(e.Value())
}
