package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// A new subscription is known at once to the client's own server, and to the rest of the
// federation only after its interest has travelled the tree: up to the root and down to every
// region, one hop at a time (a few milliseconds on loopback, about the round trip to the farthest
// region across a WAN). A message published, or a lookup made, in another region before its server
// knows the interest finds nobody: the message is dropped, the lookup fails with ErrNoResponder.
//
// WaitInterest closes that window. It asks each region's relay to deliver a probe to the subject;
// the relay answers "no responder" until its region knows the interest, and the subscription (every
// Subscribe and Serve of this package answers probes, without passing them to the handler) answers
// once it does. Plain NATS clients get the same guarantee by retrying a request through the
// region's relay (fdh.<region>.<subject after fd.>) with header Fd-Probe until a subscriber of
// theirs answers it.

// probeRetry bounds the pause between probes of a region that does not know the interest yet.
const (
	probeRetryMin = 5 * time.Millisecond
	probeRetryMax = 200 * time.Millisecond
	probeParallel = 16 // regions probed at once
)

// WaitInterest returns once every region in (every active region of the registry when none is
// given) knows of a subscription of this client that matches subject, which must be a subject of
// the client's own region without wildcards. After it returns, a message published to subject in
// those regions, or a lookup made there, reaches the subscription. It fails when ctx ends, naming
// the regions that still did not know.
func (c *Client) WaitInterest(ctx context.Context, subject string, in ...regions.RegionID) error {
	if err := overlay.CheckPublish(subject); err != nil {
		return err
	}
	if r, _, _ := overlay.ParseSubject(subject); r != c.region {
		return fmt.Errorf("wait for interest in %s from region %s: %w", subject, c.region, ErrOtherRegion)
	}
	if len(in) == 0 {
		for _, e := range c.view.Entries() {
			if e.Status == regions.StatusActive {
				in = append(in, e.ID)
			}
		}
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, probeParallel)
	errs := make([]error, len(in))
	for i, r := range in {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			errs[i] = c.probe(ctx, r, subject)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WaitServe is WaitInterest for the lookups Serve(kind, …) answers.
func (c *Client) WaitServe(ctx context.Context, kind string, in ...regions.RegionID) error {
	if err := overlay.CheckKind(kind); err != nil {
		return err
	}
	return c.WaitInterest(ctx, overlay.LookupSubject(kind, c.region.FirstID()), in...)
}

// probe sends probes to subject through region r's relay (directly in the client's own region)
// until the subscription answers one.
func (c *Client) probe(ctx context.Context, r regions.RegionID, subject string) error {
	target := subject
	if r != c.region {
		var err error
		if target, err = overlay.RelaySubject(r, subject); err != nil {
			return err
		}
	}
	wait := probeRetryMin
	for {
		m := nats.NewMsg(target)
		m.Header.Set(overlay.HeaderProbe, "1")
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		reply, err := c.nc.RequestMsgWithContext(rctx, m)
		cancel()
		if err == nil && overlay.ReplyStatus(reply) == overlay.StatusOK {
			return nil
		}
		if err != nil && !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("probe %s in region %s: %w", subject, r, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interest in %s not known in region %s yet: %w", subject, r, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, probeRetryMax)
	}
}

// answerProbe answers m if it is a readiness probe, and reports whether it was.
func (c *Client) answerProbe(m *nats.Msg) bool {
	if m.Header == nil || m.Header.Get(overlay.HeaderProbe) == "" {
		return false
	}
	if m.Reply != "" {
		_ = c.nc.Publish(m.Reply, nil)
	}
	return true
}
