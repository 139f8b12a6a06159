package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/overlay"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// The lookup kinds Zyx serves.
const (
	kindUser = "user"
	kindPost = "post"
)

// App is one Zyx instance: the records of its client's region, served to the federation and
// through an HTTP API (Handler).
type App struct {
	cfg   Config
	c     *client.Client
	st    *store.Store
	log   zerolog.Logger
	notes *notifier

	ctx    context.Context // ends at Shutdown; bounds the work of region requests
	cancel context.CancelFunc

	mu   sync.Mutex // guards subs
	subs []*nats.Subscription

	shutdownOnce sync.Once
}

// New starts an instance on c and st: it sets Zyx's delineator on c and starts serving lookups and
// region requests. Call WaitReady before relying on other regions reaching it, and Shutdown when
// done; New does not take ownership of c or st.
func New(c *client.Client, st *store.Store, cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &App{cfg: cfg, c: c, st: st, log: cfg.Log, ctx: ctx, cancel: cancel}
	a.notes = newNotifier(cfg.Notify, a.announce, cfg.Log)
	c.SetDelineator(delineator{c: c})
	r := c.Region()
	start := []func() (*nats.Subscription, error){
		func() (*nats.Subscription, error) { return c.Serve(kindUser, a.serveUser) },
		func() (*nats.Subscription, error) { return c.Serve(kindPost, a.servePost) },
		func() (*nats.Subscription, error) {
			return c.Subscribe(overlay.Subject(r, "zyx", "handle", "*"), "zyx-handle", a.serveHandle)
		},
		func() (*nats.Subscription, error) { return c.Subscribe(moveSubject(r), "zyx-move", a.serveMove) },
		func() (*nats.Subscription, error) {
			return c.Subscribe(rehandleSubject(r), "zyx-move", a.serveRehandle)
		},
	}
	for _, s := range start {
		sub, err := s()
		if err != nil {
			a.Shutdown()
			return nil, fmt.Errorf("zyx in region %s: %w", r, err)
		}
		a.mu.Lock()
		a.subs = append(a.subs, sub)
		a.mu.Unlock()
	}
	return a, nil
}

// WaitReady returns once every active region reaches this instance's lookups and requests.
func (a *App) WaitReady(ctx context.Context) error {
	r := a.c.Region()
	for _, k := range []string{kindUser, kindPost} {
		if err := a.c.WaitServe(ctx, k); err != nil {
			return err
		}
	}
	for _, s := range []string{overlay.Subject(r, "zyx", "handle", "probe"), moveSubject(r), rehandleSubject(r)} {
		if err := a.c.WaitInterest(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Shutdown stops serving and stops the announcer (changes still waiting are logged as lost). It is
// idempotent.
func (a *App) Shutdown() {
	a.shutdownOnce.Do(func() {
		a.mu.Lock()
		for _, s := range a.subs {
			_ = s.Unsubscribe()
		}
		a.subs = nil
		a.mu.Unlock()
		a.cancel()
		a.notes.shutdown()
	})
}

func (a *App) regionName() string { return regionName(a.c.Registry(), a.c.Region()) }

// serveUser answers lookups of this region's users; a user who moved away forwards.
func (a *App) serveUser(ctx context.Context, id regions.ID) ([]byte, error) {
	u, err := a.st.User(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, client.ErrNotFound
	case err != nil:
		return nil, err
	case u.MovedTo != 0:
		return nil, client.Moved(u.MovedTo)
	}
	return json.Marshal(u)
}

// servePost answers lookups of this region's posts.
func (a *App) servePost(ctx context.Context, id regions.ID) ([]byte, error) {
	p, err := a.st.Post(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, client.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(p)
}

// changedUser queues the announcement of u's committed state.
func (a *App) changedUser(u store.User) {
	if u.MovedTo != 0 { // lookups of it must reach this region, which forwards: drop the replicas
		a.notes.enqueue(change{kind: kindUser, id: u.ID, deleted: true})
		return
	}
	data, _ := json.Marshal(u)
	a.notes.enqueue(change{kind: kindUser, id: u.ID, value: data})
}

func (a *App) changedPost(p store.Post) {
	data, _ := json.Marshal(p)
	a.notes.enqueue(change{kind: kindPost, id: p.ID, value: data})
}

// announce tells FeDist of one change.
func (a *App) announce(ctx context.Context, ch change) error {
	if ch.deleted {
		return a.c.Deleted(ctx, ch.kind, ch.id)
	}
	return a.c.Changed(ctx, ch.kind, ch.id, ch.value)
}

// lookupUser looks a user up by key (ID or handle), following moves.
func (a *App) lookupUser(ctx context.Context, key string, opts ...client.LookupOption) (store.User, error) {
	data, err := a.c.LookupKey(ctx, kindUser, key, opts...)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	if err := json.Unmarshal(data, &u); err != nil || !u.ID.Valid() {
		return store.User{}, fmt.Errorf("user %s: unreadable record: %w", key, errors.Join(err, ErrBadRecord))
	}
	return u, nil
}

// ErrBadRecord is returned for a record another region answered that Zyx cannot read.
var ErrBadRecord = errors.New("unreadable record")
