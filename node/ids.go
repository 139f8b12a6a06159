package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Record IDs. The region's counter lives in FeDist's account (no application can write it); the
// node claims blocks from it and hands out ranges to applications on overlay.IDSubject. Before any
// ID of a block is handed out, the block's end is made durable twice: in a synced file in the
// node's store (a power cut cannot roll it back) and, for regions other than the root, at the root
// (a region restarted on an empty store resumes above it). A node that cannot reach the root keeps
// handing out the block it holds and claims no new one until the root answers.

// HWMRequest records (End > 0) or reads (End == 0) region ID's ID high-water mark at the root.
type HWMRequest struct {
	ID  string `json:"id"`
	End uint64 `json:"end,omitempty"`
}

// HWMReply is the root's answer: the recorded high-water mark after the request.
type HWMReply struct {
	Reply
	End uint64 `json:"end"`
}

// maxIDRange bounds one range handed to an application; a client that dies loses at most this many.
const maxIDRange = 4096

// openIDs creates this region's ID bucket and the generator on it, resuming above every high-water
// mark the node can learn, and starts serving ID ranges.
func (n *Node) openIDs() error {
	hw, err := regions.OpenHighWater(filepath.Join(n.cfg.Broker.StoreDir, "fedist-ids-"+n.Region().String()+".hwm"))
	if err != nil {
		return fmt.Errorf("ID high-water mark: %w", err)
	}
	floor := hw.Load()
	if !n.cfg.IsRoot() {
		var root uint64
		if err := n.retryJS("read the ID high-water mark at the root", func(ctx context.Context) error {
			var err error
			root, err = n.rootHWM(ctx, 0)
			return err
		}); err != nil {
			return err
		}
		floor = max(floor, root)
	}
	cfg := regions.IDBucketConfig()
	cfg.Replicas = n.replicas()
	var kv jetstream.KeyValue
	if err := n.retryJS("open ID bucket", func(ctx context.Context) error {
		var err error
		kv, err = n.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	}); err != nil {
		return err
	}
	gcfg := regions.DefaultGeneratorConfig()
	gcfg.Floor = floor
	gcfg.Commit = func(ctx context.Context, end uint64) error {
		if err := hw.Raise(end); err != nil {
			return err
		}
		if n.cfg.IsRoot() {
			return n.rootRecordHWM(ctx, n.Region(), end)
		}
		_, err := n.rootHWM(ctx, end)
		return err
	}
	var g *regions.Generator
	var fatal error
	if err := n.retryJS("start ID generator", func(ctx context.Context) error {
		var err error
		g, err = regions.NewGenerator(ctx, kv, n.Region(), gcfg)
		if errors.Is(err, regions.ErrBadCounter) || errors.Is(err, regions.ErrCounterDeleted) || errors.Is(err, regions.ErrBadConfig) {
			fatal = err // retrying cannot mend the stored counter; an operator must look
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	if fatal != nil {
		return fmt.Errorf("ID generator of region %s: %w", n.Region(), fatal)
	}
	n.mu.Lock()
	n.ids = g
	n.mu.Unlock()
	_, err = n.anc.QueueSubscribe(overlay.IDSubject(n.Region()), "fedist-ids", n.serveIDRange)
	return err
}

// rootHWM records end (0: only reads) at the root and returns the root's mark for this region.
func (n *Node) rootHWM(ctx context.Context, end uint64) (uint64, error) {
	data, err := n.sec.seal(SubjectHWM, &HWMRequest{ID: n.Region().String(), End: end})
	if err != nil {
		return 0, err
	}
	msg, err := n.nc.RequestWithContext(ctx, SubjectHWM, data)
	if err != nil {
		return 0, fmt.Errorf("ID high-water mark at the root: %w", err)
	}
	var rep HWMReply
	if err := json.Unmarshal(msg.Data, &rep); err != nil {
		return 0, fmt.Errorf("ID high-water mark at the root: unreadable reply: %w", err)
	}
	if !rep.OK {
		return 0, &RefusedError{Code: rep.Code, Reason: rep.Reason}
	}
	return rep.End, nil
}

func (n *Node) serveIDRange(m *nats.Msg) {
	var req overlay.IDRangeRequest
	var rep overlay.IDRangeReply
	if err := json.Unmarshal(m.Data, &req); err != nil || req.N == 0 {
		rep.Error = "want {\"n\": count} with count ≥ 1"
	} else if g := n.generator(); g == nil {
		rep.Error = ErrNotJoined.Error()
	} else {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.JSTimeout)
		first, k, err := g.NextRange(ctx, min(req.N, maxIDRange))
		cancel()
		if err != nil {
			rep.Error = err.Error()
		} else {
			rep.First, rep.N = first.String(), k
		}
	}
	data, _ := json.Marshal(&rep)
	if err := m.Respond(data); err != nil {
		n.log.Debug().Err(err).Msg("ID range reply")
	}
}

func (n *Node) generator() *regions.Generator {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ids
}

// hwmKey is the root's key for region r's high-water mark in the HWM bucket.
func hwmKey(r regions.RegionID) string { return "hwm." + r.String() }

func parseHWM(b []byte) (uint64, error) { return strconv.ParseUint(string(b), 10, 64) }
