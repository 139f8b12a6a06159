package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/app"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
)

// zyx is one Zyx instance (examples/zyx) in this process, a client of one daemon's region, with
// its HTTP API on a test server.
type zyx struct {
	name string
	c    *client.Client
	url  string
}

// startZyx runs a Zyx instance on d's region, with a fresh SQLite file, ready once every region
// reaches it. It stops when the test ends.
func startZyx(t *testing.T, ctx context.Context, d *daemon) *zyx {
	t.Helper()
	c := connect(t, ctx, d)
	cfg := app.DefaultConfig(zerolog.Nop())
	st, err := store.Open(filepath.Join(t.TempDir(), "zyx.db"), cfg.RecentPosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	a, err := app.New(c, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.WaitReady(wctx); err != nil {
		t.Fatalf("zyx in %s: %v", d.name, err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &zyx{name: d.name, c: c, url: srv.URL}
}

// zyxHTTP bounds one call to a Zyx instance: its own FeDist work is bounded by 5 s
// (app.Config.RequestTimeout), so a call that takes longer has lost its answer.
var zyxHTTP = &http.Client{Timeout: 8 * time.Second}

// call sends a JSON request and decodes a 2xx answer into out.
func (z *zyx) call(ctx context.Context, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, z.url+path, rd)
	if err != nil {
		return 0, err
	}
	resp, err := zyxHTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// resultOf classifies a call to Zyx: 2xx acknowledged, 4xx refused (nothing written), anything else
// (5xx, no answer) unknown, since the write may have been committed before the failure.
func resultOf(code int, err error) Result {
	switch {
	case err == nil:
		return Ack
	case code >= 400 && code < 500:
		return Fail
	}
	return Unknown
}

// zyxWriter creates users and posts through the Zyx instances in turn, and records each write.
type zyxWriter struct {
	h       *History
	writers []*zyx

	cancel context.CancelFunc
	wg     sync.WaitGroup // the write loop
}

// startZyxWriter writes until stopped (at the latest when the test ends).
func startZyxWriter(t *testing.T, h *History, writers ...*zyx) *zyxWriter {
	w := &zyxWriter{h: h, writers: writers}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { w.run(ctx) })
	t.Cleanup(w.stop)
	return w
}

func (w *zyxWriter) stop() {
	w.cancel()
	w.wg.Wait()
}

func (w *zyxWriter) run(ctx context.Context) {
	for n := 1; ctx.Err() == nil; n++ {
		z := w.writers[n%len(w.writers)]
		handle := fmt.Sprintf("u%d", n)
		var u struct {
			ID     string `json:"id"`
			Handle string `json:"handle"`
		}
		start := time.Now()
		code, err := z.call(ctx, http.MethodPost, "/users", map[string]string{"handle": handle, "name": "User " + handle}, &u)
		if ctx.Err() != nil {
			return
		}
		op := Op{Kind: "zyx-user", Key: handle + "@" + z.name, Value: handle + "@" + z.name, Start: start, End: time.Now(), Result: resultOf(code, err)}
		if err != nil {
			op.Err = err.Error()
		} else {
			op.Key = u.ID
		}
		w.h.Add(op)
		if op.Result == Ack {
			for i := 1; i <= 2 && ctx.Err() == nil; i++ {
				w.post(ctx, z, u.ID, fmt.Sprintf("post %d of %s", i, handle))
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (w *zyxWriter) post(ctx context.Context, z *zyx, user, text string) {
	var p struct {
		ID string `json:"id"`
	}
	start := time.Now()
	code, err := z.call(ctx, http.MethodPost, "/users/"+user+"/posts", map[string]string{"text": text}, &p)
	if ctx.Err() != nil {
		return
	}
	op := Op{Kind: "zyx-post", Value: text, Start: start, End: time.Now(), Result: resultOf(code, err)}
	if err != nil {
		op.Err = err.Error()
	} else {
		op.Key = p.ID
	}
	w.h.Add(op)
}

// zyxPresent returns the checker's lookup of Zyx writes: a user through reader's HTTP API (by ID, or
// by handle when the write got no answer), a post with a fresh lookup from reader's client; both
// must carry what was written.
func zyxPresent(reader *zyx) func(context.Context, Op) error {
	return func(ctx context.Context, op Op) error {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		switch op.Kind {
		case "zyx-user":
			var u struct {
				Handle string `json:"handle"`
			}
			if _, err := reader.call(ctx, http.MethodGet, "/users/"+op.Key, nil, &u); err != nil {
				return err
			}
			if u.Handle != op.Value {
				return fmt.Errorf("user %s has handle %q, want %q", op.Key, u.Handle, op.Value)
			}
			return nil
		case "zyx-post":
			id, err := regions.ParseID(op.Key)
			if err != nil {
				return fmt.Errorf("post with no ID: %w", err)
			}
			data, err := reader.c.Lookup(ctx, "post", id, client.Fresh())
			if err != nil {
				return err
			}
			var p struct {
				Text string `json:"text"`
			}
			if err := json.Unmarshal(data, &p); err != nil {
				return err
			}
			if p.Text != op.Value {
				return fmt.Errorf("post %s reads %q, want %q", id, p.Text, op.Value)
			}
			return nil
		}
		return errors.New("not a Zyx write")
	}
}
