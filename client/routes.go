package client

import (
	"bytes"
	"fmt"
	"sync/atomic"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

// routeHints is the set of destinations for which the region's cost engine found a path better
// than the tree. The node publishes it on overlay.RoutesSubject on every change and every second;
// the client sends traffic for those destinations into its own region's relay
// (fdh.<own>.<d>.…), which carries it over the engine's path. Everything else goes straight onto
// the tree, with no relay in the way.
type routeHints struct {
	set atomic.Pointer[map[regions.RegionID]bool]
}

func (h *routeHints) subscribe(nc *nats.Conn, me regions.RegionID) error {
	_, err := nc.Subscribe(overlay.RoutesSubject(me), func(m *nats.Msg) {
		set, err := decodeHints(m.Data)
		if err != nil {
			return // only the region's nodes can publish here (clients may not)
		}
		h.set.Store(&set)
	})
	return err
}

// via reports whether traffic for d takes the relay.
func (h *routeHints) via(d regions.RegionID) bool {
	set := h.set.Load()
	return set != nil && (*set)[d]
}

// route returns the subject to publish a region subject on: the subject itself for the tree, or
// the relay subject of the client's own region when the engine routes d elsewhere.
func (c *Client) route(subject string, d regions.RegionID) string {
	if d == c.region {
		return subject
	}
	if !c.hints.via(d) {
		c.traffic.add(d)
		return subject
	}
	relayed, err := overlay.RelaySubject(c.region, subject)
	if err != nil {
		return subject
	}
	return relayed
}

// decodeHints reads a msgpack array of region IDs, its length checked before anything is
// allocated (msgpack v5.4's own slice decoding does not bound it, vmihailenco/msgpack#401).
func decodeHints(data []byte) (map[regions.RegionID]bool, error) {
	d := msgpack.NewDecoder(bytes.NewReader(data))
	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n > len(data) { // every ID takes at least one byte
		return nil, fmt.Errorf("route hints claim %d regions in %d bytes", n, len(data))
	}
	set := make(map[regions.RegionID]bool, max(n, 0))
	for range n {
		id, err := d.DecodeUint16()
		if err != nil {
			return nil, err
		}
		set[regions.RegionID(id)] = true
	}
	return set, nil
}
