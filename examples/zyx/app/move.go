package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// ErrMoveRefused is the reason a region gives when it will not forward a user or re-point a
// handle; the caller sees it in the text of a client.ErrRemote.
var ErrMoveRefused = errors.New("move refused")

// moveSubject is where the old region's instances mark a user moved (moveRequest).
func moveSubject(r regions.RegionID) string { return overlay.Subject(r, "zyx", "move") }

// rehandleSubject is where a handle's region re-points the handle (rehandleRequest).
func rehandleSubject(r regions.RegionID) string { return overlay.Subject(r, "zyx", "rehandle") }

type moveRequest struct {
	Old string `json:"old"`
	New string `json:"new"`
}

type rehandleRequest struct {
	Local string `json:"local"`
	New   string `json:"new"`
}

// Move moves the user key names into this instance's region and returns the user as it lives
// here: it creates the user anew (a new ID of this region, the same handle, name, follows and
// latest post references), asks the old region to forward the old ID to it, takes the follows and
// posts the old region reports as final, and asks the handle's region to re-point the handle.
// Posts keep their IDs and stay in the old region. Every step is idempotent: after a failure, Move
// again with the same key finishes the job.
func (a *App) Move(ctx context.Context, key string) (store.User, error) {
	old, err := a.lookupUser(ctx, key, client.Fresh())
	if err != nil {
		return store.User{}, err
	}
	if old.ID.Region() == a.c.Region() {
		if old.Origin == 0 {
			return store.User{}, fmt.Errorf("user %s lives in region %s already: %w", old.ID, a.regionName(), ErrBadInput)
		}
		return old, a.rehandle(ctx, old) // a move that got this far before: finish it
	}
	nu, err := a.st.UserByOrigin(ctx, old.ID)
	if errors.Is(err, store.ErrNotFound) {
		id, err := a.c.NewID(ctx)
		if err != nil {
			return store.User{}, err
		}
		nu = store.User{ID: id, Handle: old.Handle, Name: old.Name, Created: a.cfg.now(), Origin: old.ID,
			Following: old.Following, Recent: old.Recent}
		if err := a.st.CreateUser(ctx, nu, ""); err != nil {
			return store.User{}, err
		}
	} else if err != nil {
		return store.User{}, err
	}
	req, _ := json.Marshal(moveRequest{Old: old.ID.String(), New: nu.ID.String()})
	m, err := a.c.Request(ctx, moveSubject(old.ID.Region()), req)
	if err != nil {
		return store.User{}, fmt.Errorf("moving %s: region %s did not forward it: %w", old.ID, old.ID.Region(), err)
	}
	var final store.User
	if err := json.Unmarshal(m.Data, &final); err != nil || final.ID != old.ID || final.MovedTo != nu.ID {
		return store.User{}, fmt.Errorf("moving %s: region %s answered %q: %w", old.ID, old.ID.Region(), m.Data, ErrBadRecord)
	}
	if nu, err = a.st.Merge(ctx, nu.ID, final.Following, final.Recent, a.cfg.now()); err != nil {
		return store.User{}, err
	}
	a.changedUser(nu)
	a.log.Info().Stringer("old", old.ID).Stringer("new", nu.ID).Str("handle", nu.Handle).Msg("user moved in")
	return nu, a.rehandle(ctx, nu)
}

// rehandle asks the region of u's handle to map it to u.ID.
func (a *App) rehandle(ctx context.Context, u store.User) error {
	local, name, err := parseHandle(u.Handle)
	if err != nil {
		return err
	}
	r, err := regionByName(a.c.Registry(), name)
	if err != nil {
		return err
	}
	req, _ := json.Marshal(rehandleRequest{Local: local, New: u.ID.String()})
	if _, err := a.c.Request(ctx, rehandleSubject(r), req); err != nil {
		return fmt.Errorf("user %s moved, but region %s still maps handle %s to the old ID (move again to retry): %w", u.ID, name, u.Handle, err)
	}
	return nil
}

// serveMove marks a user of this region moved, if the move is genuine: the new record must exist
// in its own region, be another region's, name the old ID as its origin and carry the same handle.
// Only an instance that copied this user creates such a record, and the new ID's region alone
// answers lookups of it, so a request naming a made-up ID or another user is refused. The answer
// is the user's final state, whose follows and posts the new record takes over.
func (a *App) serveMove(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.RequestTimeout)
	defer cancel()
	final, err := a.markMoved(ctx, m.Data)
	if err != nil {
		a.log.Warn().Err(err).Msg("move request refused")
		respond(m, overlay.StatusReply(m.Reply, overlay.StatusError, err.Error()))
		return
	}
	a.changedUser(final)
	data, _ := json.Marshal(final)
	respond(m, &nats.Msg{Subject: m.Reply, Data: data})
}

func (a *App) markMoved(ctx context.Context, body []byte) (store.User, error) {
	var req moveRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return store.User{}, fmt.Errorf("%w: unreadable request: %v", ErrMoveRefused, err)
	}
	old, err1 := regions.ParseID(req.Old)
	to, err2 := regions.ParseID(req.New)
	if err := errors.Join(err1, err2); err != nil {
		return store.User{}, fmt.Errorf("%w: %v", ErrMoveRefused, err)
	}
	if old.Region() != a.c.Region() || to.Region() == a.c.Region() {
		return store.User{}, fmt.Errorf("%w: %s is not a user of region %s moving to another region", ErrMoveRefused, old, a.c.Region())
	}
	u, err := a.st.User(ctx, old)
	if err != nil {
		return store.User{}, fmt.Errorf("%w: %w", ErrMoveRefused, err)
	}
	rec, err := a.lookupUser(ctx, to.String(), client.Fresh())
	if err != nil {
		return store.User{}, fmt.Errorf("%w: new record %s: %w", ErrMoveRefused, to, err)
	}
	if rec.ID != to || rec.Origin != old || rec.Handle != u.Handle {
		return store.User{}, fmt.Errorf("%w: record %s (origin %s, handle %s) is not user %s (%s) moved", ErrMoveRefused, rec.ID, rec.Origin, rec.Handle, old, u.Handle)
	}
	final, err := a.st.MarkMoved(ctx, old, to)
	if err != nil {
		return store.User{}, fmt.Errorf("%w: %w", ErrMoveRefused, err)
	}
	a.log.Info().Stringer("old", old).Stringer("new", to).Str("handle", u.Handle).Msg("user moved away; its ID forwards")
	return final, nil
}

// serveRehandle re-points a handle of this region, if the move is genuine: looking the handle's
// current ID up (fresh, following forwards) must end at the new ID. Only the region that owned
// the user sets a forward, after its own check (serveMove), so the handle follows exactly the
// forwards the user's regions published.
func (a *App) serveRehandle(m *nats.Msg) {
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.RequestTimeout)
	defer cancel()
	if err := a.repoint(ctx, m.Data); err != nil {
		a.log.Warn().Err(err).Msg("handle re-point refused")
		respond(m, overlay.StatusReply(m.Reply, overlay.StatusError, err.Error()))
		return
	}
	respond(m, &nats.Msg{Subject: m.Reply})
}

func (a *App) repoint(ctx context.Context, body []byte) error {
	var req rehandleRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return fmt.Errorf("%w: unreadable request: %v", ErrMoveRefused, err)
	}
	to, err := regions.ParseID(req.New)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMoveRefused, err)
	}
	if err := checkLocal(req.Local); err != nil {
		return fmt.Errorf("%w: %w", ErrMoveRefused, err)
	}
	cur, err := a.st.HandleOwner(ctx, req.Local)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMoveRefused, err)
	}
	if cur == to {
		return nil
	}
	handle := req.Local + "@" + a.regionName()
	rec, err := a.lookupUser(ctx, cur.String(), client.Fresh())
	if err != nil {
		return fmt.Errorf("%w: current record %s: %w", ErrMoveRefused, cur, err)
	}
	if rec.ID != to || rec.Handle != handle {
		return fmt.Errorf("%w: %s (%s) does not forward to %s", ErrMoveRefused, cur, handle, to)
	}
	if err := a.st.RepointHandle(ctx, req.Local, cur, to); err != nil {
		return fmt.Errorf("%w: %w", ErrMoveRefused, err)
	}
	a.log.Info().Str("handle", handle).Stringer("old", cur).Stringer("new", to).Msg("handle re-pointed")
	return nil
}
