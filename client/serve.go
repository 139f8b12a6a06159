package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Handler answers a lookup of one record. Return ErrNotFound (or an error wrapping it) when the
// record does not exist, and Moved(newID) when it lives on under another ID (a user who moved to
// another region): Lookup follows it. Any other error is sent to the caller as a failure with its
// text.
type Handler func(ctx context.Context, id regions.ID) ([]byte, error)

// ServeQueue is the queue group of Serve: the servers of one kind in a region share the load.
func ServeQueue(kind string) string { return "fd-serve-" + kind }

// Serve answers lookups of kind for records of the client's region, as a member of a queue group.
// Handlers run one at a time per Serve call, in nats.go's delivery goroutine.
func (c *Client) Serve(kind string, h Handler) (*nats.Subscription, error) {
	if err := overlay.CheckKind(kind); err != nil {
		return nil, err
	}
	subject := overlay.ServeSubject(c.region, kind)
	sub, err := c.nc.QueueSubscribe(subject, ServeQueue(kind), func(m *nats.Msg) {
		if c.answerProbe(m) {
			return
		}
		_, id, err := overlay.ParseLookup(m.Subject)
		if err != nil {
			c.respond(m, overlay.StatusReply(m.Reply, overlay.StatusError, err.Error()))
			return
		}
		data, err := h(c.ctx, id)
		var moved *MovedError
		switch {
		case errors.As(err, &moved):
			reply := &nats.Msg{Subject: m.Reply, Header: nats.Header{overlay.HeaderMoved: []string{moved.To.String()}}}
			c.respond(m, reply)
		case errors.Is(err, ErrNotFound):
			c.respond(m, overlay.StatusReply(m.Reply, overlay.StatusNotFound, fmt.Sprintf("%s %s", kind, id)))
		case err != nil:
			c.respond(m, overlay.StatusReply(m.Reply, overlay.StatusError, err.Error()))
		default:
			reply := &nats.Msg{Subject: m.Reply, Data: data}
			if p := m.Header.Get(overlay.HeaderPath); p != "" {
				reply.Header = nats.Header{overlay.HeaderPath: []string{p}} // the caller sees the path taken
			}
			c.respond(m, reply)
		}
	})
	if err != nil {
		return nil, err
	}
	// Once Serve returns, the client's own server knows the responder; WaitServe waits until the
	// other regions do.
	return sub, c.nc.Flush()
}

// respond sends reply; when that fails (an answer over the server's payload limit, say), it sends an
// error status instead, so the caller is not left waiting for its timeout.
func (c *Client) respond(m *nats.Msg, reply *nats.Msg) {
	if m.Reply == "" {
		return
	}
	if err := c.nc.PublishMsg(reply); err != nil {
		_ = c.nc.PublishMsg(overlay.StatusReply(m.Reply, overlay.StatusError, "answer not sent: "+err.Error()))
	}
}

// MovedError is a Handler's answer for a record that lives on under another ID.
type MovedError struct{ To regions.ID }

func (e *MovedError) Error() string { return "record moved to " + e.To.String() }

// Moved returns the error a Handler returns for a record now kept under the ID to: the caller's
// Lookup asks for that one instead (at most MaxMoves times).
func Moved(to regions.ID) error { return &MovedError{To: to} }
