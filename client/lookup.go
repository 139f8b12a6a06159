package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// ErrMoveLoop is returned when a lookup followed more forwards (Moved) than MaxMoves allows.
var ErrMoveLoop = errors.New("record forwarded too many times")

// MaxMoves bounds how many forwards one lookup follows.
const MaxMoves = 4

// LookupOption changes one lookup.
type LookupOption func(*lookupOptions)

type lookupOptions struct {
	fresh bool
}

// Fresh bypasses replicas: the record's home region answers, as of now, at the price of the WAN
// trip. Use it where a read must see a write just made in another region.
func Fresh() LookupOption { return func(o *lookupOptions) { o.fresh = true } }

// Lookup fetches record id of the given kind. A record of another region is answered by a replica
// in this region when one is fresh (see package replication), otherwise by its home region. A
// record that moved (Moved) is followed to its new ID.
func (c *Client) Lookup(ctx context.Context, kind string, id regions.ID, opts ...LookupOption) ([]byte, error) {
	m, err := c.LookupMsg(ctx, kind, id, opts...)
	if err != nil {
		return nil, err
	}
	return m.Data, nil
}

// LookupMsg is Lookup returning the answer itself, whose headers tell who answered: a replica
// (overlay.HeaderReplica) and the relays crossed (overlay.HeaderPath).
func (c *Client) LookupMsg(ctx context.Context, kind string, id regions.ID, opts ...LookupOption) (*nats.Msg, error) {
	if err := overlay.CheckKind(kind); err != nil {
		return nil, err
	}
	var o lookupOptions
	for _, opt := range opts {
		opt(&o)
	}
	for range MaxMoves + 1 {
		if !id.Valid() {
			return nil, fmt.Errorf("lookup %s: %w", id, regions.ErrBadID)
		}
		m, err := c.lookupOnce(ctx, kind, id, o)
		if err != nil {
			return nil, err
		}
		moved := m.Header.Get(overlay.HeaderMoved)
		if moved == "" {
			return m, nil
		}
		next, err := regions.ParseID(moved)
		if err != nil {
			return nil, fmt.Errorf("lookup %s %s: bad forward %q: %w", kind, id, moved, err)
		}
		id = next
	}
	return nil, fmt.Errorf("lookup %s: %w (more than %d)", kind, ErrMoveLoop, MaxMoves)
}

// lookupOnce asks for one record. A record of another region goes through this region's relay,
// which answers from a replica or carries it on by the cost engine's route, and learns from it
// which records this region reads.
func (c *Client) lookupOnce(ctx context.Context, kind string, id regions.ID, o lookupOptions) (*nats.Msg, error) {
	subject := overlay.LookupSubject(kind, id)
	d := id.Region()
	if err := c.reachable(d); err != nil {
		return nil, err
	}
	msg := &nats.Msg{Subject: subject}
	if d != c.region {
		relayed, err := overlay.LocalSubject(c.region, subject)
		if err != nil {
			return nil, err
		}
		msg.Subject = relayed
		if o.fresh {
			msg.Header = nats.Header{overlay.HeaderFresh: []string{"1"}}
		}
	}
	return c.requestMsg(ctx, msg, subject, d)
}
