package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
)

// ErrWrongRegion is returned for a write to a user of another region: only the user's own region
// writes it, so the caller must use that region's instance.
var ErrWrongRegion = errors.New("user lives in another region")

// CreateUser creates a user of this region. handle is name or name@<this region's name>; the
// handle directory of this region keeps it for ever.
func (a *App) CreateUser(ctx context.Context, handle, name string) (store.User, error) {
	own := a.regionName()
	local := handle
	if l, r, ok := strings.Cut(handle, "@"); ok {
		if r != own {
			return store.User{}, fmt.Errorf("handle %q names region %q, this is region %q: create it on that region's instance: %w", handle, r, own, ErrBadInput)
		}
		local = l
	}
	if err := checkLocal(local); err != nil {
		return store.User{}, err
	}
	if name = strings.TrimSpace(name); name == "" || len(name) > a.cfg.MaxNameLen {
		return store.User{}, fmt.Errorf("name: want 1 to %d bytes: %w", a.cfg.MaxNameLen, ErrBadInput)
	}
	id, err := a.c.NewID(ctx)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: id, Handle: local + "@" + own, Name: name, Created: a.cfg.now()}
	if err := a.st.CreateUser(ctx, u, local); err != nil {
		return store.User{}, err
	}
	a.changedUser(u)
	return u, nil
}

// localUser returns the ID key names, which must be a user of this region.
func (a *App) localUser(ctx context.Context, key string) (regions.ID, error) {
	id, err := delineator{c: a.c}.Locate(ctx, kindUser, key)
	if err != nil {
		return 0, err
	}
	if r := id.Region(); r != a.c.Region() {
		return 0, fmt.Errorf("user %s lives in region %s (%s), this is %s: use that region's instance: %w",
			id, r, regionName(a.c.Registry(), r), a.regionName(), ErrWrongRegion)
	}
	return id, nil
}

// Post writes a post of the user key names, who must live in this region.
func (a *App) Post(ctx context.Context, key, text string) (store.Post, error) {
	author, err := a.localUser(ctx, key)
	if err != nil {
		return store.Post{}, err
	}
	if strings.TrimSpace(text) == "" || len(text) > a.cfg.MaxPostLen {
		return store.Post{}, fmt.Errorf("text: want 1 to %d bytes: %w", a.cfg.MaxPostLen, ErrBadInput)
	}
	id, err := a.c.NewID(ctx)
	if err != nil {
		return store.Post{}, err
	}
	p := store.Post{ID: id, Author: author, Text: text, At: a.cfg.now()}
	u, err := a.st.AddPost(ctx, p)
	if err != nil {
		return store.Post{}, err
	}
	a.changedPost(p)
	a.changedUser(u) // its latest posts changed
	return p, nil
}

// Follow makes the user key names (of this region) follow target, a user of any region named by
// ID or handle. The follow keeps target's current ID; if target moves later, it forwards.
func (a *App) Follow(ctx context.Context, key, target string) (store.User, error) {
	id, err := a.localUser(ctx, key)
	if err != nil {
		return store.User{}, err
	}
	if target == "" {
		return store.User{}, fmt.Errorf("target: want a user ID or handle: %w", ErrBadInput)
	}
	t, err := a.lookupUser(ctx, target)
	if err != nil {
		return store.User{}, fmt.Errorf("target %s: %w", target, err)
	}
	if t.ID == id {
		return store.User{}, fmt.Errorf("user %s cannot follow themselves: %w", id, ErrBadInput)
	}
	u, err := a.st.Follow(ctx, id, t.ID, a.cfg.MaxFollowing, a.cfg.now())
	if err != nil {
		return store.User{}, err
	}
	a.changedUser(u)
	return u, nil
}
