package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// registryHistory keeps a few past values per region so operators can see recent transitions.
const registryHistory = 8

// retryJS runs op until it succeeds, fails permanently, or the node stops. JetStream answers "not
// ready" for a while after start in a clustered region (no meta leader yet) or while a mirror's
// origin is still unreachable: those are retried with exponential backoff and jitter (from
// JoinRetry up to 5 s) and no limit on attempts. An error that no retry can fix (a bad request, an
// invalid configuration: permanentJS) stops at once with a message that says what failed.
func (n *Node) retryJS(what string, op func(ctx context.Context) error) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = n.cfg.JoinRetry, max(n.cfg.JoinRetry, 5*time.Second)
	attempt := 0
	_, err := backoff.Retry(n.ctx, func() (struct{}, error) {
		attempt++
		ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
		defer cancel()
		err := op(ctx)
		if err != nil && permanentJS(err) {
			return struct{}{}, backoff.Permanent(fmt.Errorf("%s: %w (not retried: JetStream refused the request itself)", what, err))
		}
		return struct{}{}, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, next time.Duration) {
		ev := n.log.Warn()
		if attempt < 3 {
			ev = n.log.Debug()
		}
		ev.Err(err).Int("attempt", attempt).Dur("next", next).Msg(what + ": retrying")
	}))
	if n.ctx.Err() != nil {
		return n.ctx.Err()
	}
	return err
}

// permanentJS reports whether err is JetStream refusing the request itself (HTTP-style 400, or an
// invalid configuration) rather than being unavailable for now.
func permanentJS(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.Code == 400 || apiErr.ErrorCode == jsErrInvalidConfig
}

// jsErrInvalidConfig is nats-server's JSStreamInvalidConfigF, which it sends with code 500.
const jsErrInvalidConfig jetstream.ErrorCode = 10052

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
		cfg.Mirror = n.mirrorSource(parent)
	}
	var kv jetstream.KeyValue
	err := n.retryJS("open registry bucket", func(ctx context.Context) error {
		if parent != 0 {
			if err := n.prepareMirror(ctx, parent); err != nil {
				return err
			}
		}
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
		n.superviseWatch(reg, w)
	}()
	if err := n.openAppRegistry(kv); err != nil {
		return nil, err
	}
	return kv, nil
}

// superviseWatch feeds the view from w, and from a new watch whenever one ends or is restarted
// (rewatch), until the node stops. A watch is an ordered consumer on the stream's leader: when a
// clustered region loses that node, nats.go notices only after missed heartbeats, so the node
// restarts the watch itself once its view stays behind the root's beats (beat.go).
func (n *Node) superviseWatch(reg *regions.Registry, w *regions.Watcher) {
	for {
		wctx, cancel := context.WithCancel(n.ctx)
		n.beat.mu.Lock()
		n.beat.rewatch = cancel
		n.beat.mu.Unlock()
		n.view.Run(wctx, w, func(err error) { n.log.Warn().Err(err).Msg("registry watch") })
		cancel()
		if n.ctx.Err() != nil {
			return
		}
		if err := n.retryJS("watch the registry again", func(ctx context.Context) error {
			var err error
			w, err = reg.Watch(n.ctx)
			return err
		}); err != nil {
			return
		}
		n.log.Info().Uint64("revision", n.view.Revision()).Msg("registry watch restarted")
	}
}
