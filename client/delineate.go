package client

import (
	"context"
	"fmt"

	"github.com/fedist/fedist/regions"
)

// Delineator is the application's answer to "where does this belong?". FeDist calls it to turn
// the keys an application uses (a record ID, a user handle, an e-mail address…) into the record's
// ID, whose 16-bit prefix names its home region, and to choose the region of new records. Lookups
// by key (LookupKey) and replication work on the IDs it returns, so replicas and demand are
// counted per record whatever key found it.
type Delineator interface {
	// Locate returns the ID of the record of kind that key names.
	Locate(ctx context.Context, kind, key string) (regions.ID, error)
	// Place returns the region where a new record of kind should live, for a request that arrived
	// in region from.
	Place(ctx context.Context, kind string, from regions.RegionID) (regions.RegionID, error)
}

// PrefixDelineator is the default: a key is the record's ID in 16 hex digits, its home region is
// the ID's prefix, and a new record lives where the request arrived.
type PrefixDelineator struct{}

// Locate parses key as an ID.
func (PrefixDelineator) Locate(_ context.Context, kind, key string) (regions.ID, error) {
	id, err := regions.ParseID(key)
	if err != nil {
		return 0, fmt.Errorf("%s key %q: %w", kind, key, err)
	}
	return id, nil
}

// Place returns from.
func (PrefixDelineator) Place(_ context.Context, _ string, from regions.RegionID) (regions.RegionID, error) {
	if !from.Valid() {
		return 0, fmt.Errorf("place in region %s: %w", from, regions.ErrBadRegion)
	}
	return from, nil
}

// SetDelineator sets the delineator LookupKey and Place use (PrefixDelineator until then).
func (c *Client) SetDelineator(d Delineator) {
	if d == nil {
		d = PrefixDelineator{}
	}
	c.delineator.Store(&d)
}

func (c *Client) delineate() Delineator {
	if d := c.delineator.Load(); d != nil {
		return *d
	}
	return PrefixDelineator{}
}

// LookupKey locates key with the delineator and looks the record up (see Lookup).
func (c *Client) LookupKey(ctx context.Context, kind, key string, opts ...LookupOption) ([]byte, error) {
	id, err := c.delineate().Locate(ctx, kind, key)
	if err != nil {
		return nil, err
	}
	return c.Lookup(ctx, kind, id, opts...)
}

// Place asks the delineator where a new record of kind, created by this client, should live.
func (c *Client) Place(ctx context.Context, kind string) (regions.RegionID, error) {
	return c.delineate().Place(ctx, kind, c.region)
}
