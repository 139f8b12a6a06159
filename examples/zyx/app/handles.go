package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

// Errors a caller can test with errors.Is.
var (
	ErrBadInput     = errors.New("bad input")
	ErrNoSuchRegion = errors.New("no region of that name in the registry")
)

// maxLocal bounds a handle's local part.
const maxLocal = 32

// parseHandle splits local@region-name. local is 1 to maxLocal of [a-z0-9_], so that it is one
// NATS subject token and one spelling per name.
func parseHandle(s string) (local, region string, err error) {
	local, region, ok := strings.Cut(s, "@")
	if !ok || region == "" {
		return "", "", fmt.Errorf("handle %q: want name@region: %w", s, ErrBadInput)
	}
	if err := checkLocal(local); err != nil {
		return "", "", err
	}
	return local, region, nil
}

func checkLocal(local string) error {
	if local == "" || len(local) > maxLocal {
		return fmt.Errorf("handle name %q: want 1 to %d characters: %w", local, maxLocal, ErrBadInput)
	}
	for _, c := range local {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return fmt.Errorf("handle name %q: use only a-z, 0-9 and _: %w", local, ErrBadInput)
		}
	}
	return nil
}

// handleSubject is where region r's instances answer which user a handle of theirs names.
func handleSubject(r regions.RegionID, local string) string {
	return overlay.Subject(r, "zyx", "handle", local)
}

// handleReply is the answer on handleSubject.
type handleReply struct {
	ID string `json:"id"`
}

// regionByName finds a region by its registry name.
func regionByName(view *regions.View, name string) (regions.RegionID, error) {
	for _, e := range view.Entries() {
		if e.Name == name {
			return e.ID, nil
		}
	}
	return 0, fmt.Errorf("region %q: %w", name, ErrNoSuchRegion)
}

// regionName is region r's registry name, or its ID when the registry does not know it.
func regionName(view *regions.View, r regions.RegionID) string {
	if e, _ := view.Get(r); e != nil && e.Name != "" {
		return e.Name
	}
	return r.String()
}

// delineator is Zyx's client.Delineator. A user key is a record ID or a handle local@name; a
// handle is located by asking the instance of region name, whose directory holds the user's
// current ID. Keys of other kinds are record IDs.
type delineator struct {
	c *client.Client
}

// Locate returns the ID a key names, asking the handle's region for a handle.
func (d delineator) Locate(ctx context.Context, kind, key string) (regions.ID, error) {
	if id, err := regions.ParseID(key); err == nil {
		return id, nil
	}
	if kind != kindUser {
		return 0, fmt.Errorf("%s key %q: want a record ID: %w", kind, key, ErrBadInput)
	}
	if !strings.Contains(key, "@") {
		return 0, fmt.Errorf("user key %q: want a record ID (16 hex digits) or a handle name@region: %w", key, ErrBadInput)
	}
	local, name, err := parseHandle(key)
	if err != nil {
		return 0, err
	}
	r, err := regionByName(d.c.Registry(), name)
	if err != nil {
		return 0, fmt.Errorf("handle %q: %w", key, err)
	}
	m, err := d.c.Request(ctx, handleSubject(r, local), nil)
	if err != nil {
		return 0, fmt.Errorf("handle %q: %w", key, err)
	}
	var rep handleReply
	if err := json.Unmarshal(m.Data, &rep); err != nil {
		return 0, fmt.Errorf("handle %q: bad answer from region %s: %w", key, r, err)
	}
	id, err := regions.ParseID(rep.ID)
	if err != nil {
		return 0, fmt.Errorf("handle %q: bad answer from region %s: %w", key, r, err)
	}
	return id, nil
}

// Place returns from, the region of the instance that creates the record: a user lives where
// they signed up (until they move) and a post where its author lives. Zyx itself never asks, since
// an instance writes only its own region's records, but FeDist's callers may.
func (delineator) Place(_ context.Context, _ string, from regions.RegionID) (regions.RegionID, error) {
	if !from.Valid() {
		return 0, fmt.Errorf("place in region %s: %w", from, regions.ErrBadRegion)
	}
	return from, nil
}

// serveHandle answers handleSubject requests from this region's directory.
func (a *App) serveHandle(m *nats.Msg) {
	local := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	ctx, cancel := context.WithTimeout(a.ctx, a.cfg.RequestTimeout)
	defer cancel()
	id, err := a.st.HandleOwner(ctx, local)
	switch {
	case errors.Is(err, store.ErrNotFound):
		respond(m, overlay.StatusReply(m.Reply, overlay.StatusNotFound, "no handle "+local+"@"+a.regionName()))
	case err != nil:
		respond(m, overlay.StatusReply(m.Reply, overlay.StatusError, err.Error()))
	default:
		data, _ := json.Marshal(handleReply{ID: id.String()})
		respond(m, &nats.Msg{Subject: m.Reply, Data: data})
	}
}

func respond(m *nats.Msg, reply *nats.Msg) {
	if m.Reply != "" {
		_ = m.RespondMsg(reply)
	}
}
