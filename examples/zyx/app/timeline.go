package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
)

// Timeline is a user's home timeline: the latest posts of the users they follow, newest first.
type Timeline struct {
	User  store.User   `json:"user"`
	Posts []store.Post `json:"posts"`
	// Missing lists what could not be read (a region down, say); the timeline shows the rest.
	Missing []string `json:"missing,omitempty"`
}

// Timeline reads the home timeline of the user key names, of any region, with at most limit
// posts. It looks up the user, each followee (whose record references their latest posts), and
// then only the limit newest of those posts: 1 + followees + limit lookups, at most
// LookupParallel at a time.
func (a *App) Timeline(ctx context.Context, key string, limit int) (Timeline, error) {
	u, err := a.lookupUser(ctx, key)
	if err != nil {
		return Timeline{}, err
	}
	tl := Timeline{User: u, Posts: []store.Post{}}
	followees := u.Following[:min(len(u.Following), a.cfg.MaxFollowing)]
	users := make([]store.User, len(followees))
	for i, err := range forEach(ctx, len(followees), a.cfg.LookupParallel, func(ctx context.Context, i int) (err error) {
		users[i], err = a.lookupUser(ctx, followees[i].String())
		return err
	}) {
		if err != nil {
			tl.Missing = append(tl.Missing, fmt.Sprintf("user %s: %v", followees[i], err))
		}
	}
	refs := newestRefs(users, a.cfg.RecentPosts, limit)
	posts := make([]store.Post, len(refs))
	for i, err := range forEach(ctx, len(refs), a.cfg.LookupParallel, func(ctx context.Context, i int) error {
		return a.lookupPost(ctx, refs[i].ID, &posts[i])
	}) {
		if err != nil {
			tl.Missing = append(tl.Missing, fmt.Sprintf("post %s: %v", refs[i].ID, err))
			continue
		}
		tl.Posts = append(tl.Posts, posts[i])
	}
	return tl, nil
}

// newestRefs returns the limit newest post references of users, each user counted once (two
// followed IDs may forward to one user) and each contributing at most perUser.
func newestRefs(users []store.User, perUser, limit int) []store.Ref {
	seenUser := map[regions.ID]bool{}
	seenPost := map[regions.ID]bool{}
	var refs []store.Ref
	for _, u := range users {
		if !u.ID.Valid() || seenUser[u.ID] {
			continue
		}
		seenUser[u.ID] = true
		for _, r := range u.Recent[:min(len(u.Recent), perUser)] {
			if !seenPost[r.ID] {
				seenPost[r.ID] = true
				refs = append(refs, r)
			}
		}
	}
	slices.SortFunc(refs, func(x, y store.Ref) int {
		if c := y.At.Compare(x.At); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	return refs[:min(len(refs), limit)]
}

func (a *App) lookupPost(ctx context.Context, id regions.ID, p *store.Post) error {
	data, err := a.c.Lookup(ctx, kindPost, id)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, p); err != nil || p.ID != id {
		return fmt.Errorf("post %s: %w", id, ErrBadRecord)
	}
	return nil
}

// forEach runs fn(ctx, i) for i in [0, n), at most limit at a time, and returns each call's error.
// It returns once every call it started has returned.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) []error {
	errs := make([]error, n)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(ctx, i)
		}()
	}
	wg.Wait()
	return errs
}
