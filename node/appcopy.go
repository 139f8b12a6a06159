package node

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// The applications' registry. FeDist's own registry (the root's bucket and every region's mirror)
// lives in broker.FedistAccount, which no application can reach. Applications read and watch an
// identical copy of it in broker.AppAccount, under the same bucket name, so `nats kv watch
// fedist-registry` works against any region's client port. This node keeps that copy: every value
// of its own registry is written into the copy byte for byte, and a value the registry never held
// (an application may not write the copy, but a JetStream consumer it creates could deliver into
// it) is put back within about a second (appCopyGrace) and logged.
//
// The copy is never chained between regions: application leafnode links carry no JetStream traffic.

// openAppRegistry creates the application account's copy and starts keeping it.
func (n *Node) openAppRegistry(src jetstream.KeyValue) error {
	cfg := jetstream.KeyValueConfig{
		Bucket:      regions.Bucket,
		Description: "FeDist region registry, read-only copy for applications; kept by the node",
		History:     registryHistory,
		Replicas:    n.replicas(),
	}
	var dst jetstream.KeyValue
	if err := n.retryJS("open the applications' registry copy", func(ctx context.Context) error {
		var err error
		dst, err = n.ajs.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	}); err != nil {
		return err
	}
	var srcW, dstW jetstream.KeyWatcher
	if err := n.retryJS("watch the registry for the applications' copy", func(ctx context.Context) error {
		var err error
		if srcW, err = src.WatchAll(n.ctx); err != nil {
			return err
		}
		if dstW, err = dst.WatchAll(n.ctx, jetstream.MetaOnly()); err != nil {
			_ = srcW.Stop()
		}
		return err
	}); err != nil {
		return err
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer srcW.Stop()
		defer dstW.Stop()
		n.keepAppRegistry(src, dst, srcW, dstW)
	}()
	return nil
}

// keepAppRegistry copies every change of src into dst and mends dst wherever it drifts.
//
// In a region of several nodes every node keeps the same copy (one stream in the region's cluster)
// and their watches of src run a little apart, so a value this node has not seen yet may be another
// node's newer copy. A value in dst is therefore left alone when it is one src has held recently;
// any other value is looked at again after appCopyGrace and put back only if it is still unknown.
func (n *Node) keepAppRegistry(src, dst jetstream.KeyValue, srcW, dstW jetstream.KeyWatcher) {
	want := map[string][]byte{}       // the latest value of each key in src; nil means deleted
	known := map[string][][]byte{}    // the recent values of each key in src, newest last
	suspect := map[string]time.Time{} // keys whose dst value was unknown, and when to look again
	tick := time.NewTicker(appCopyGrace / 4)
	defer tick.Stop()
	isKnown := func(key string, v []byte) bool {
		for _, k := range known[key] {
			if bytes.Equal(k, v) {
				return true
			}
		}
		return false
	}
	for {
		select {
		case <-n.ctx.Done():
			return
		case e, ok := <-srcW.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			var v []byte
			if e.Operation() == jetstream.KeyValuePut {
				v = bytes.Clone(e.Value())
			}
			want[e.Key()] = v
			known[e.Key()] = append(known[e.Key()], v)
			if len(known[e.Key()]) > 2*registryHistory {
				known[e.Key()] = known[e.Key()][1:]
			}
			n.mendAppRegistry(dst, e.Key(), v)
		case e, ok := <-dstW.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			if _, waiting := suspect[e.Key()]; !waiting {
				suspect[e.Key()] = time.Now().Add(appCopyGrace)
			}
		case now := <-tick.C:
			for key, at := range suspect {
				if now.Before(at) {
					continue
				}
				delete(suspect, key)
				var cur []byte
				got, err := dst.Get(n.ctx, key)
				switch {
				case err == nil:
					cur = got.Value()
				case !isNotFound(err):
					continue
				}
				if isKnown(key, cur) || (cur == nil && want[key] == nil) {
					continue
				}
				n.log.Warn().Str("key", key).Msg("the applications' registry copy holds a value FeDist's registry never had; putting it back")
				n.mendAppRegistry(dst, key, want[key])
			}
		}
	}
}

// appCopyGrace is how long an unknown value in the applications' registry copy may stand before the
// node puts the registry's back: longer than the watches of two nodes of one region run apart.
const appCopyGrace = time.Second

// mendAppRegistry makes key hold v in dst (nil: deleted) unless it already does.
func (n *Node) mendAppRegistry(dst jetstream.KeyValue, key string, v []byte) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.JSTimeout)
	defer cancel()
	cur, err := dst.Get(ctx, key)
	var werr error
	switch {
	case v == nil && err == nil:
		werr = dst.Delete(ctx, key)
	case v == nil:
		return
	case err == nil && bytes.Equal(cur.Value(), v):
		return
	default:
		_, werr = dst.Put(ctx, key, v)
	}
	if werr != nil && n.ctx.Err() == nil {
		n.log.Warn().Err(fmt.Errorf("registry copy %s: %w", key, werr)).Msg("applications' registry copy")
	}
}
