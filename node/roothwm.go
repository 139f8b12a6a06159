package node

import (
	"context"
	"fmt"
	"strconv"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HWMBucket is the root's bucket, in FeDist's account, of every region's ID high-water mark
// (key hwm.<rrrr>): the end of the last block a node of the region was allowed to hand out.
const HWMBucket = "fedist-hwm"

// openHWM creates the root's high-water bucket.
func (n *Node) openHWM() error {
	return n.retryJS("open the ID high-water bucket", func(ctx context.Context) error {
		kv, err := n.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      HWMBucket,
			Description: "FeDist: each region's ID high-water mark; a region restarted on an empty store resumes above it",
			History:     1,
			Replicas:    n.replicas(),
		})
		n.hwm = kv
		return err
	})
}

// rootRecordHWM raises region r's mark to end (never lowers it) with compare-and-set, and returns
// nothing but an error: callers that need the value read it with rootReadHWM.
func (n *Node) rootRecordHWM(ctx context.Context, r regions.RegionID, end uint64) error {
	for {
		cur, rev, err := n.rootReadHWM(ctx, r)
		if err != nil {
			return err
		}
		if end <= cur {
			return nil
		}
		val := []byte(strconv.FormatUint(end, 10))
		if rev == 0 {
			_, err = n.hwm.Create(ctx, hwmKey(r), val)
		} else {
			_, err = n.hwm.Update(ctx, hwmKey(r), val, rev)
		}
		if err == nil {
			return nil
		}
		if !isConflict(err) {
			return fmt.Errorf("record ID high-water mark of %s: %w", r, err)
		}
	}
}

// rootReadHWM returns region r's mark and its revision (0, 0 when none is recorded).
func (n *Node) rootReadHWM(ctx context.Context, r regions.RegionID) (uint64, uint64, error) {
	e, err := n.hwm.Get(ctx, hwmKey(r))
	if isNotFound(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("read ID high-water mark of %s: %w", r, err)
	}
	v, err := parseHWM(e.Value())
	if err != nil {
		return 0, 0, fmt.Errorf("ID high-water mark of %s is corrupt (%q): %w", r, e.Value(), regions.ErrBadCounter)
	}
	return v, e.Revision(), nil
}

// onHWM records or reads a region's mark for one of its nodes.
func (s *rootService) onHWM(m *nats.Msg) {
	var req HWMRequest
	id, err := s.n.sec.open(SubjectHWM, m.Data, &req)
	if err != nil {
		s.respondAny(m, &HWMReply{Reply: refuse(CodeBadRequest, "high-water request: %v", err)})
		return
	}
	r, err := regions.ParseRegion(req.ID)
	if err != nil {
		s.respondAny(m, &HWMReply{Reply: refuse(CodeBadRequest, "region ID: %v", err)})
		return
	}
	if id != nil && id.Region != r {
		s.n.log.Warn().Str("signer", id.String()).Str("id", req.ID).Msg("high-water request for another region refused")
		s.respondAny(m, &HWMReply{Reply: refuse(CodeIdentity, "signed by %s, not by a node of region %s", id, r)})
		return
	}
	if req.End > regions.MaxSeq+1 {
		s.respondAny(m, &HWMReply{Reply: refuse(CodeBadRequest, "high-water mark %d is past the last sequence %d", req.End, uint64(regions.MaxSeq))})
		return
	}
	ctx, cancel := context.WithTimeout(s.n.ctx, s.n.cfg.JSTimeout)
	defer cancel()
	if req.End > 0 {
		if err := s.n.rootRecordHWM(ctx, r, req.End); err != nil {
			s.respondAny(m, &HWMReply{Reply: refuse(CodeInternal, "%v", err)})
			return
		}
	}
	end, _, err := s.n.rootReadHWM(ctx, r)
	if err != nil {
		s.respondAny(m, &HWMReply{Reply: refuse(CodeInternal, "%v", err)})
		return
	}
	s.respondAny(m, &HWMReply{Reply: Reply{OK: true}, End: end})
}
