package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors a caller can test with errors.Is.
var (
	ErrNotFound      = errors.New("record not found")
	ErrUnknownRegion = errors.New("region is not in the registry")
	ErrRegionDown    = errors.New("region is down")
	ErrNoResponder   = errors.New("no responder in the region")
	ErrHopLimit      = errors.New("message dropped at the hop limit")
	ErrRemote        = errors.New("responder failed")
	ErrNotFedist     = errors.New("server is not a FeDist region node")
	ErrOtherRegion   = errors.New("limited to the client's own region")
)

// DefaultTimeout bounds a Request or Lookup whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// Client is a connection to one region.
type Client struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	region regions.RegionID
	view   *regions.View

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // owns the registry watch and the traffic reports

	ids     idRange
	hints   routeHints
	traffic traffic

	delineator atomic.Pointer[Delineator] // SetDelineator; nil: PrefixDelineator

	closeOnce sync.Once
}

// Connect connects to a region's node(s); urls is a comma-separated list, as for nats.Connect. It
// returns once the client knows its region and holds a copy of the registry.
//
// A client may receive replies only on its own region's inboxes (overlay.InboxPrefix), which a
// nats.go connection fixes before it connects. Connect therefore asks the server for its region on
// a first, short connection, and then connects with the region's inbox prefix.
func Connect(ctx context.Context, urls string, opts ...nats.Option) (*Client, error) {
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}, opts...)
	probe, err := nats.Connect(urls, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", urls, err)
	}
	name := probe.ConnectedServerName()
	probe.Close()
	r, _, ok := regions.ParseServerName(name)
	if !ok {
		return nil, fmt.Errorf("connect %s: server %q: %w", urls, name, ErrNotFedist)
	}
	nc, err := nats.Connect(urls, append(opts, nats.CustomInboxPrefix(overlay.InboxPrefix(r)))...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", urls, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	reg, err := regions.OpenRegistry(ctx, js)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("connect %s: %w (has region %s joined yet?)", urls, err, r)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{nc: nc, js: js, region: r, view: regions.NewView(), ctx: cctx, cancel: cancel}
	if err := c.hints.subscribe(nc, r); err != nil {
		c.Close()
		return nil, err
	}
	w, err := reg.Watch(cctx) // the watch lives as long as the client, not as long as Connect
	if err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.view.Run(cctx, w, func(error) {})
	}()
	go func() {
		defer c.wg.Done()
		c.reportTraffic()
	}()
	if err := c.view.WaitFor(ctx, (*regions.View).CaughtUp); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect %s: reading the registry: %w", urls, err)
	}
	return c, nil
}

// Region returns the client's own region.
func (c *Client) Region() regions.RegionID { return c.region }

// Conn returns the underlying NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Registry returns the client's live copy of the registry.
func (c *Client) Registry() *regions.View { return c.view }

// Close drains nothing and closes the connection; it is idempotent.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.wg.Wait()
		c.nc.Close()
	})
}

// reachable reports, from the local registry copy, why region r cannot answer, or nil. A region
// the registry shows down but the cost engine still reaches over another path (its tree link is
// cut, a shortcut is not) is reachable: the registry's down says the tree lost it.
func (c *Client) reachable(r regions.RegionID) error {
	st, ok := c.view.Status(r)
	switch {
	case !ok:
		return fmt.Errorf("region %s: %w", r, ErrUnknownRegion)
	case st == regions.StatusDown && !c.hints.via(r):
		return fmt.Errorf("region %s: %w", r, ErrRegionDown)
	}
	return nil
}

// Publish sends data to subject, which must be a region subject fd.<rrrr>.…; it reaches every
// subscriber of that region once. Publishing to an unknown or down region is not an error: NATS
// publishes are fire-and-forget, and a down region may be back by the time the message arrives.
func (c *Client) Publish(subject string, data []byte) error {
	d, _, err := overlay.ParseSubject(subject)
	if err == nil {
		err = overlay.CheckPublish(subject)
	}
	if err != nil {
		return err
	}
	return c.nc.Publish(c.route(subject, d), data)
}

// Subscribe subscribes to a subject of the client's own region. queue may be empty. Messages
// published in other regions reach it once its interest has crossed the tree: call WaitInterest
// before relying on that.
func (c *Client) Subscribe(subject, queue string, h nats.MsgHandler) (*nats.Subscription, error) {
	r, _, err := overlay.ParseSubject(subject)
	if err != nil {
		return nil, err
	}
	if r != c.region {
		return nil, fmt.Errorf("subscribe %s from region %s: %w", subject, c.region, ErrOtherRegion)
	}
	wrapped := func(m *nats.Msg) {
		if !c.answerProbe(m) {
			h(m)
		}
	}
	var sub *nats.Subscription
	if queue != "" {
		sub, err = c.nc.QueueSubscribe(subject, queue, wrapped)
	} else {
		sub, err = c.nc.Subscribe(subject, wrapped)
	}
	if err != nil {
		return nil, err
	}
	// The client's own server knows the subscription once the flush returns; WaitInterest waits
	// until the other regions do.
	return sub, c.nc.Flush()
}

// Request sends a request to a region subject and waits for the reply or ctx (DefaultTimeout when
// ctx has no deadline). A reply with a failure status becomes the matching error.
func (c *Client) Request(ctx context.Context, subject string, data []byte) (*nats.Msg, error) {
	if err := overlay.CheckPublish(subject); err != nil {
		return nil, err
	}
	r, _, _ := overlay.ParseSubject(subject)
	if err := c.reachable(r); err != nil {
		return nil, err
	}
	return c.requestMsg(ctx, &nats.Msg{Subject: c.route(subject, r), Data: data}, subject, r)
}

// requestMsg sends msg (subject, or its relayed form, for region r) and waits for the reply or
// ctx (DefaultTimeout when ctx has no deadline).
func (c *Client) requestMsg(ctx context.Context, msg *nats.Msg, subject string, r regions.RegionID) (*nats.Msg, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	m, err := c.nc.RequestMsgWithContext(ctx, msg)
	if errors.Is(err, nats.ErrNoResponders) {
		// nats.go reads every 503 (the server's own, or a FeDist status saying nobody will answer) as
		// "no responders". The registry may have learnt meanwhile that the region is gone; that is the
		// better answer.
		if rerr := c.reachable(r); rerr != nil {
			return nil, rerr
		}
		return nil, fmt.Errorf("%s: %w", subject, ErrNoResponder)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	return m, statusErr(subject, m)
}

func statusErr(subject string, m *nats.Msg) error {
	switch overlay.ReplyStatus(m) {
	case overlay.StatusOK:
		return nil
	case overlay.StatusNotFound:
		return fmt.Errorf("%s: %w", subject, ErrNotFound)
	case overlay.StatusNoResponder:
		return fmt.Errorf("%s: %w", subject, ErrNoResponder)
	case overlay.StatusUnknownRegion:
		return fmt.Errorf("%s: %w", subject, ErrUnknownRegion)
	case overlay.StatusRegionDown:
		return fmt.Errorf("%s: %w", subject, ErrRegionDown)
	case overlay.StatusHopLimit:
		return fmt.Errorf("%s: %w", subject, ErrHopLimit)
	default:
		return fmt.Errorf("%s: %w: %s", subject, ErrRemote, m.Header.Get(overlay.HeaderError))
	}
}

// WatchRegistry watches the registry: every current entry, a CaughtUp event, then each change.
func (c *Client) WatchRegistry(ctx context.Context) (*regions.Watcher, error) {
	reg, err := regions.OpenRegistry(ctx, c.js)
	if err != nil {
		return nil, err
	}
	return reg.Watch(ctx)
}
