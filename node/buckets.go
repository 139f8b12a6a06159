package node

import (
	"context"
	"fmt"
	"time"

	"github.com/fedist/fedist/broker"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// registryHistory keeps a few past values per region so operators can see recent transitions.
const registryHistory = 8

// retryJS runs op until it succeeds or the node stops. JetStream answers "not ready" for a while after
// start in a clustered region (no meta leader yet) or while a mirror's origin is still unreachable.
func (n *Node) retryJS(what string, op func(ctx context.Context) error) error {
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		err := op(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if n.ctx.Err() != nil {
			return n.ctx.Err()
		}
		ev := n.log.Warn()
		if attempt < 3 {
			ev = n.log.Debug()
		}
		ev.Err(err).Int("attempt", attempt).Msg(what + ": retrying")
		if !n.sleep(n.cfg.JoinRetry) {
			return n.ctx.Err()
		}
	}
}

func (n *Node) replicas() int {
	if n.cfg.Replicas > 1 {
		return n.cfg.Replicas
	}
	return 1
}

// openRegistry creates the registry bucket (at the root) or this region's mirror of the parent's
// copy, then starts the view on it. Mirrors chain down the tree, so each server feeds only its
// children however many regions there are.
func (n *Node) openRegistry(parent regions.RegionID) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:      regions.Bucket,
		Description: "FeDist region registry; written only by the root",
		History:     registryHistory,
		Replicas:    n.replicas(),
	}
	if parent != 0 {
		cfg.Description = fmt.Sprintf("FeDist region registry, mirrored from region %s", parent)
		cfg.Mirror = &jetstream.StreamSource{Name: regions.Bucket, Domain: broker.Domain(parent)}
	}
	var kv jetstream.KeyValue
	err := n.retryJS("open registry bucket", func(ctx context.Context) error {
		var err error
		kv, err = n.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, err
	}
	reg := regions.NewRegistry(kv)
	var w *regions.Watcher
	if err := n.retryJS("watch registry", func(ctx context.Context) error {
		var err error
		w, err = reg.Watch(n.ctx)
		return err
	}); err != nil {
		return nil, err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.view.Run(n.ctx, w, func(err error) { n.log.Warn().Err(err).Msg("registry watch") })
	}()
	if err := n.openAppRegistry(kv); err != nil {
		return nil, err
	}
	return kv, nil
}
