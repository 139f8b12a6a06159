package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
)

// ErrIDs is returned when the region's node cannot hand out IDs.
var ErrIDs = errors.New("region's node could not hand out IDs")

// idRange is the unused part of a range of IDs the client holds: [next, end).
type idRange struct {
	mu   sync.Mutex // guards next, end, and serialises refills
	next regions.ID
	end  regions.ID
}

// idBatch is how many IDs the client asks its node for at once: one request per this many IDs.
// Unused IDs of a range are lost when the client closes, so it stays modest.
const idBatch = 1024

// NewID hands out a record ID of the client's region. The client takes ranges of IDs from its
// region's node (applications cannot touch the counter) and hands them out in order; IDs never
// repeat across clients, nodes and restarts.
func (c *Client) NewID(ctx context.Context) (regions.ID, error) {
	c.ids.mu.Lock()
	defer c.ids.mu.Unlock()
	if c.ids.next < c.ids.end {
		id := c.ids.next
		c.ids.next++
		return id, nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	req, _ := json.Marshal(&overlay.IDRangeRequest{N: idBatch})
	m, err := c.nc.RequestWithContext(ctx, overlay.IDSubject(c.region), req)
	if err != nil {
		return 0, fmt.Errorf("new ID in region %s: %w: %w", c.region, ErrIDs, err)
	}
	var rep overlay.IDRangeReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return 0, fmt.Errorf("new ID in region %s: %w: unreadable answer: %v", c.region, ErrIDs, err)
	}
	if rep.Error != "" {
		return 0, fmt.Errorf("new ID in region %s: %w: %s", c.region, ErrIDs, rep.Error)
	}
	first, err := regions.ParseID(rep.First)
	if err != nil || rep.N == 0 || first.Region() != c.region || first.Seq()+rep.N-1 > regions.MaxSeq {
		return 0, fmt.Errorf("new ID in region %s: %w: bad range %q+%d", c.region, ErrIDs, rep.First, rep.N)
	}
	c.ids.next, c.ids.end = first+1, first+regions.ID(rep.N)
	return first, nil
}
