package node

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// A region's registry copy mirrors its parent's through a durable push consumer that the region
// keeps on its parent's registry stream (nats-server 2.15's durable sourcing), not through the
// ephemeral consumer a plain mirror creates. The ephemeral one lives on the source's stream leader
// only: when that server restarts, or the root loses the node that led, the mirror notices at its
// 10 s stall check and retries with backoff, and the region shows old statuses for ~17–20 s. A
// durable survives both (it is replicated with the stream), keeps pushing to the same deliver
// subject, and the mirror only asks it to reset: measured 0.01–2 s instead of 17 s
// (node/testdata/mirrorprobe, DESIGN.md).
//
// Each child has its own durable (mirrorDurable) and deliver subject (mirrorDeliver); its link may
// manage and acknowledge only those (childMirrorExports), so no child can stall another's feed.

// mirrorDurable names child's durable feed on its parent's registry stream.
func mirrorDurable(child regions.RegionID) string { return "mirror-" + child.String() }

// mirrorDeliver is the subject child's feed is pushed to.
func mirrorDeliver(child regions.RegionID) string { return "fdc.rm." + child.String() }

// mirrorSource is the source of this region's registry mirror under parent.
func (n *Node) mirrorSource(parent regions.RegionID) *jetstream.StreamSource {
	me := n.Region()
	return &jetstream.StreamSource{Name: regions.Bucket, Domain: broker.Domain(parent),
		Consumer: &jetstream.StreamConsumerSource{Name: mirrorDurable(me), DeliverSubject: mirrorDeliver(me)}}
}

// mirrorFeedIdle is how long a feed whose mirror never asks for it lives on at the parent: a
// region gone for longer gets a new one when it returns.
const mirrorFeedIdle = 24 * time.Hour

// prepareMirror readies the parent's side before the mirror is created or opened:
//   - a mirror that sources from another region (the region was re-parented) or without a durable
//     feed (made by an older FeDist) is deleted: a mirror's source cannot change in place;
//   - a mirror made from scratch gets a new feed: one left from an earlier mirror would start at its
//     acknowledged position and the new mirror would skip everything before it;
//   - an existing mirror keeps its feed, or gets a new one if the parent lost it (a new feed only
//     sends again what the mirror has, which it ignores).
func (n *Node) prepareMirror(ctx context.Context, parent regions.RegionID) error {
	want := n.mirrorSource(parent)
	fresh := false
	st, err := n.js.Stream(ctx, registryStream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		fresh = true
	case err != nil:
		return err
	default:
		if old := st.CachedInfo().Config.Mirror; old == nil || mirrorDomain(old) != want.Domain || old.Consumer == nil || old.Consumer.Name != want.Consumer.Name {
			n.log.Info().Str("to", want.Domain).Msg("replacing the registry mirror: re-parented, or not fed by a durable consumer yet (a mirror's source cannot change in place)")
			if err := n.js.DeleteStream(ctx, registryStream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return err
			}
			fresh = true
		}
	}
	pjs, err := jetstream.NewWithDomain(n.nc, broker.Domain(parent))
	if err != nil {
		return err
	}
	if fresh {
		if err := pjs.DeleteConsumer(ctx, registryStream, want.Consumer.Name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return err
		}
	}
	_, err = pjs.CreateOrUpdatePushConsumer(ctx, registryStream, jetstream.ConsumerConfig{
		Durable:           want.Consumer.Name,
		Description:       "FeDist: registry feed of child region " + n.Region().String(),
		DeliverSubject:    want.Consumer.DeliverSubject,
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckFlowControlPolicy, // the only policy a durable mirror accepts
		FlowControl:       true,
		IdleHeartbeat:     time.Second,
		InactiveThreshold: mirrorFeedIdle,
	})
	return err
}

// dropMirrorFeed deletes this region's feed at its parent, when the region leaves for good.
func (n *Node) dropMirrorFeed(ctx context.Context) {
	p := n.Parent()
	if p == 0 {
		return
	}
	pjs, err := jetstream.NewWithDomain(n.nc, broker.Domain(p))
	if err == nil {
		err = pjs.DeleteConsumer(ctx, registryStream, mirrorDurable(n.Region()))
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		n.log.Warn().Err(err).Msg("could not delete the registry feed at the parent; it expires after a day unused")
	}
}

// mirrorDomain returns the JetStream domain a mirror sources from, as the server stores it (the
// client's Domain becomes External.APIPrefix $JS.<domain>.API).
func mirrorDomain(s *jetstream.StreamSource) string {
	if s.Domain != "" {
		return s.Domain
	}
	if s.External != nil {
		p := strings.TrimPrefix(s.External.APIPrefix, "$JS.")
		return strings.TrimSuffix(p, ".API")
	}
	return ""
}
