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

// TestRogueChildCannotTouchOtherFeeds: a child node whose code was changed (A) may manage its own
// registry feed at the root and nothing else there: deleting, resetting or reading B's feed, or
// creating a consumer of its own choosing, finds nobody to answer; B's mirror keeps following.
func TestRogueChildCannotTouchOtherFeeds(t *testing.T) {
	root := runNode(t, fastConfig(t, rootID, "r1", "root", nil))
	a := runNode(t, fastConfig(t, aID, "a1", "a", root))
	b := runNode(t, fastConfig(t, bID, "b1", "b", root))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	nc, err := a.Broker().Connect("rogue", broker.FedistAccount)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.NewWithDomain(nc, broker.Domain(rootID))
	if err != nil {
		t.Fatal(err)
	}
	// Its own feed is reachable: the refusals below are the permission, not a dead link.
	info := "$JS." + broker.Domain(rootID) + ".API.CONSUMER.INFO." + registryStream + "."
	if m, err := nc.Request(info+mirrorDurable(aID), nil, 2*time.Second); err != nil || !bytes.Contains(m.Data, []byte(mirrorDurable(aID))) {
		t.Fatalf("A's own feed at the root: %v", err)
	}
	refused := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Fatalf("%s: %v, want no responders", what, err)
		}
	}
	refused("delete B's feed", js.DeleteConsumer(ctx, registryStream, mirrorDurable(bID)))
	_, err = nc.Request(info+mirrorDurable(bID), nil, 2*time.Second)
	refused("read B's feed", err)
	_, err = js.CreateOrUpdatePushConsumer(ctx, registryStream, jetstream.ConsumerConfig{Durable: "spy", DeliverSubject: "fdc.rm.00a0"})
	refused("create a consumer of its own choosing", err)
	_, err = nc.Request("$JS."+broker.Domain(rootID)+".API.CONSUMER.RESET."+registryStream+"."+mirrorDurable(bID), nil, 2*time.Second)
	refused("reset B's feed", err)

	rjs, err := jetstream.New(root.Conn())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rjs.PushConsumer(ctx, registryStream, mirrorDurable(bID)); err != nil {
		t.Fatalf("B's feed at the root after the attempts: %v", err)
	}
	if _, err := rjs.PushConsumer(ctx, registryStream, "spy"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("the rogue consumer: %v, want not found", err)
	}
	// B's mirror follows a new write.
	if rep := rawJoin(t, root, JoinRequest{ID: "0e50", Name: "late", Parent: "0001", Node: "l1"}); !rep.OK {
		t.Fatalf("join: %+v", rep)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if e, _ := b.View().Get(regions.RegionID(0x0e50)); e == nil {
			return errFmt("B's mirror lacks the new region")
		}
		return nil
	})
}
