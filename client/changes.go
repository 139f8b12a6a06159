package client

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Changed tells FeDist that record id of kind, one of this client's region, now holds value, as
// committed at the time of the call. Every other region holding a replica of it gets the new value
// (or, past that region's replication budget, loses the replica). It returns once a node of the
// region has the change on its way; call it after the application's own store committed.
func (c *Client) Changed(ctx context.Context, kind string, id regions.ID, value []byte) error {
	return c.change(ctx, kind, id, overlay.ChangePut, value)
}

// Deleted tells FeDist that record id of kind, one of this client's region, is gone: every replica
// of it is dropped.
func (c *Client) Deleted(ctx context.Context, kind string, id regions.ID) error {
	return c.change(ctx, kind, id, overlay.ChangeDelete, nil)
}

func (c *Client) change(ctx context.Context, kind string, id regions.ID, op string, value []byte) error {
	if err := overlay.CheckKind(kind); err != nil {
		return err
	}
	if !id.Valid() {
		return fmt.Errorf("change %s: %w", id, regions.ErrBadID)
	}
	if id.Region() != c.region {
		return fmt.Errorf("change of %s %s from region %s: only its home region %s writes it: %w", kind, id, c.region, id.Region(), ErrOtherRegion)
	}
	msg := &nats.Msg{Subject: overlay.ChangesSubject(c.region), Data: value, Header: nats.Header{}}
	msg.Header.Set(overlay.HeaderChangeKind, kind)
	msg.Header.Set(overlay.HeaderChangeID, id.String())
	msg.Header.Set(overlay.HeaderChangeOp, op)
	msg.Header.Set(overlay.HeaderCommit, strconv.FormatInt(time.Now().UnixNano(), 10))
	_, err := c.requestMsg(ctx, msg, msg.Subject, c.region)
	return err
}
