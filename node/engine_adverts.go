package node

import (
	"fmt"
	"strings"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// SubjectAdverts prefixes the link-state adverts every node publishes in FeDist's account:
// fdc.ls.<rrrr>. They cross every tree link (childControlExports), so each reaches every region.
const SubjectAdverts = "fdc.ls."

// publishAdvert signs (with TLS) and sends one advert.
func (e *engine) publishAdvert(a *costs.Advert) {
	data, err := a.Marshal()
	if err != nil {
		e.log.Warn().Err(err).Msg("advert")
		return
	}
	subject := SubjectAdverts + a.Region.String()
	if e.n.sec.signer != nil {
		if data, err = e.n.sec.signer.Sign(subject, data, time.Now()); err != nil {
			e.log.Warn().Err(err).Msg("advert signature")
			return
		}
	}
	e.bytes.Add(uint64(len(data) + len(subject)))
	if err := e.n.nc.Publish(subject, data); err != nil {
		e.log.Debug().Err(err).Msg("advert publish")
	}
}

// subscribeAdverts takes every other node's adverts.
func (e *engine) subscribeAdverts() error {
	_, err := e.n.nc.Subscribe(SubjectAdverts+"*", func(m *nats.Msg) {
		e.bytes.Add(uint64(len(m.Data) + len(m.Subject)))
		a, err := e.openAdvert(m.Subject, m.Data)
		if err != nil {
			e.log.Warn().Err(err).Str("subject", m.Subject).Msg("advert refused")
			return
		}
		if a.Region == e.n.Region() && a.Node == e.n.cfg.Broker.Node {
			return // my own, back from the tree
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.state.Apply(a, e.clock()) {
			e.dirty = true
		}
	})
	return err
}

// openAdvert checks an advert's signature (with TLS) and that it speaks for the region and node
// that signed it and whose subject it came on.
func (e *engine) openAdvert(subject string, data []byte) (*costs.Advert, error) {
	r, err := regions.ParseRegion(strings.TrimPrefix(subject, SubjectAdverts))
	if err != nil {
		return nil, err
	}
	var signer string
	if v := e.n.sec.verifier; v != nil {
		id, payload, err := v.Verify(subject, data, time.Now())
		if err != nil {
			return nil, err
		}
		if !id.IsNode() || id.Region != r {
			return nil, fmt.Errorf("%w: advert for %s signed by %s", ErrIdentity, r, id)
		}
		data, signer = payload, id.Node
	}
	a, err := costs.ParseAdvert(data)
	if err != nil {
		return nil, err
	}
	if a.Region != r || (signer != "" && a.Node != signer) {
		return nil, fmt.Errorf("%w: advert of %s/%s on %s", ErrIdentity, a.Region, a.Node, subject)
	}
	return a, nil
}
