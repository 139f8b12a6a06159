package client

import (
	"sync"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

// trafficReportEvery is how often a client tells its node where its tree traffic went.
const trafficReportEvery = time.Second

// traffic counts the messages a client sends straight over the tree to each other region. The
// region's relay never sees them, so the client reports the counts to its node
// (overlay.TrafficSubject) every second: the cost engine opens shortcuts where traffic is, and
// only then routes the destination through the relay, where it is counted directly.
type traffic struct {
	mu   sync.Mutex // guards sent
	sent map[regions.RegionID]uint32
}

func (t *traffic) add(d regions.RegionID) {
	t.mu.Lock()
	if t.sent == nil {
		t.sent = map[regions.RegionID]uint32{}
	}
	t.sent[d]++
	t.mu.Unlock()
}

// take returns the counts since the last call, as the report's msgpack map.
func (t *traffic) take() map[uint16]uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.sent) == 0 {
		return nil
	}
	out := make(map[uint16]uint32, len(t.sent))
	for d, n := range t.sent {
		out[uint16(d)] = n
	}
	t.sent = nil
	return out
}

// reportTraffic runs until the client closes.
func (c *Client) reportTraffic() {
	tick := time.NewTicker(trafficReportEvery)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		counts := c.traffic.take()
		if counts == nil {
			continue
		}
		data, err := msgpack.Marshal(counts)
		if err == nil {
			// Best effort: a report lost while reconnecting only delays a shortcut.
			_ = c.nc.PublishMsg(&nats.Msg{Subject: overlay.TrafficSubject(c.region), Data: data})
		}
	}
}
