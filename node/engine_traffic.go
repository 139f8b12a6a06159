package node

import (
	"bytes"
	"fmt"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"
)

// subscribeTraffic takes the region's clients' reports of what they sent straight over the tree
// (overlay.TrafficSubject): with what the relay counts itself, it is the traffic shortcuts are
// chosen by. A client can inflate its counts; the worst it gets is a shortcut chosen for its
// destinations, still within K.
func (e *engine) subscribeTraffic() error {
	_, err := e.n.anc.Subscribe(overlay.TrafficSubject(e.n.Region()), func(m *nats.Msg) {
		counts, err := decodeTraffic(m.Data)
		if err != nil {
			e.log.Debug().Err(err).Msg("traffic report refused")
			return
		}
		e.sentMu.Lock()
		defer e.sentMu.Unlock()
		for d, n := range counts {
			if d != e.n.Region() && d.Valid() {
				e.sent[d] += uint64(n)
			}
		}
	})
	return err
}

// decodeTraffic reads a msgpack map of region ID to count, its size checked before anything is
// allocated (msgpack v5.4 does not bound it, vmihailenco/msgpack#401).
func decodeTraffic(data []byte) (map[regions.RegionID]uint32, error) {
	d := msgpack.NewDecoder(bytes.NewReader(data))
	n, err := d.DecodeMapLen()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > len(data)/2 { // every entry takes at least two bytes
		return nil, fmt.Errorf("traffic report claims %d regions in %d bytes", n, len(data))
	}
	out := make(map[regions.RegionID]uint32, n)
	for range n {
		r, err := d.DecodeUint16()
		if err != nil {
			return nil, err
		}
		c, err := d.DecodeUint32()
		if err != nil {
			return nil, err
		}
		out[regions.RegionID(r)] = c
	}
	return out, nil
}
