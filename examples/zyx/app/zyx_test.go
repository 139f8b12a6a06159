package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
)

// TestZyx runs two instances, in regions eu and us, on one federation, and walks through the
// application: each subtest builds on the ones before.
func TestZyx(t *testing.T) {
	f := startFed(t)
	eu, us := startZyx(t, f, euID), startZyx(t, f, usID)
	var alice, bob, carol store.User

	t.Run("users live where they sign up", func(t *testing.T) {
		eu.must(t, http.StatusCreated, "POST", "/users", map[string]string{"handle": "alice", "name": "Alice"}, &alice)
		eu.must(t, http.StatusCreated, "POST", "/users", map[string]string{"handle": "carol@eu", "name": "Carol"}, &carol)
		us.must(t, http.StatusCreated, "POST", "/users", map[string]string{"handle": "bob", "name": "Bob"}, &bob)
		if alice.ID.Region() != euID || carol.ID.Region() != euID || bob.ID.Region() != usID {
			t.Fatalf("IDs %s %s %s: want alice and carol in eu, bob in us", alice.ID, carol.ID, bob.ID)
		}
		if alice.Handle != "alice@eu" || bob.Handle != "bob@us" {
			t.Fatalf("handles %q %q", alice.Handle, bob.Handle)
		}
	})

	t.Run("handles resolve through the registry", func(t *testing.T) {
		for _, in := range []*instance{eu, us} {
			var got store.User
			in.must(t, http.StatusOK, "GET", "/users/bob@us", nil, &got)
			if got.ID != bob.ID || got.Name != "Bob" {
				t.Fatalf("bob@us: got %+v", got)
			}
			in.must(t, http.StatusOK, "GET", "/users/"+alice.ID.String(), nil, &got)
			if got.Handle != "alice@eu" {
				t.Fatalf("alice by ID: got %+v", got)
			}
		}
		ctx := ctxFor(t)
		if id, err := (delineator{c: us.c}).Locate(ctx, kindUser, "carol@eu"); err != nil || id != carol.ID {
			t.Fatalf("Locate carol@eu from us: %s, %v; want %s", id, err, carol.ID)
		}
		if _, err := us.c.LookupKey(ctx, kindUser, "nobody@eu"); !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("LookupKey nobody@eu: got %v, want ErrNotFound", err)
		}
		if r, err := us.c.Place(ctx, kindUser); err != nil || r != usID {
			t.Fatalf("Place from us: %s, %v; want us", r, err)
		}
	})

	var posts []store.Post
	post := func(in *instance, who store.User, text string) {
		var p store.Post
		in.must(t, http.StatusCreated, "POST", "/users/"+who.ID.String()+"/posts", map[string]string{"text": text}, &p)
		posts = append(posts, p)
	}

	t.Run("a timeline mixes regions, newest first", func(t *testing.T) {
		eu.must(t, http.StatusOK, "POST", "/users/alice@eu/follow", map[string]string{"target": "bob@us"}, nil)
		eu.must(t, http.StatusOK, "POST", "/users/"+alice.ID.String()+"/follow", map[string]string{"target": carol.ID.String()}, nil)
		us.must(t, http.StatusOK, "POST", "/users/bob@us/follow", map[string]string{"target": "alice@eu"}, nil)
		post(us, bob, "bob 1")
		post(eu, carol, "carol 1")
		post(us, bob, "bob 2")
		post(eu, alice, "alice 1")
		want := []string{"bob 2", "carol 1", "bob 1"} // alice's own post is not on her timeline
		for _, in := range []*instance{eu, us} {      // any instance reads any user's timeline
			checkTimeline(t, in, alice.ID.String(), want)
		}
		checkTimeline(t, eu, "bob@us", []string{"alice 1"})
		var tl Timeline
		eu.must(t, http.StatusOK, "GET", "/users/alice@eu/timeline?limit=1", nil, &tl)
		if len(tl.Posts) != 1 || tl.Posts[0].Text != "bob 2" {
			t.Fatalf("limit=1: got %+v", tl.Posts)
		}
	})

	t.Run("bad input gets a 4xx that says why", func(t *testing.T) { checkBadInput(t, eu, alice, bob) })

	var moved store.User
	t.Run("a user moves; the old ID and the handle forward", func(t *testing.T) {
		us.must(t, http.StatusCreated, "POST", "/users/alice@eu/move", nil, &moved)
		if moved.ID.Region() != usID || moved.Origin != alice.ID || moved.Handle != "alice@eu" || len(moved.Following) != 2 {
			t.Fatalf("moved alice: %+v", moved)
		}
		for _, in := range []*instance{eu, us} {
			for _, key := range []string{alice.ID.String(), "alice@eu", moved.ID.String()} {
				checkFor(t, func() error {
					var got store.User
					if code, data := in.do(t, "GET", "/users/"+key, nil); code != http.StatusOK {
						return fmt.Errorf("GET %s: %d %s", key, code, data)
					} else if err := json.Unmarshal(data, &got); err != nil || got.ID != moved.ID {
						return fmt.Errorf("GET %s: %s, want ID %s", key, data, moved.ID)
					}
					return nil
				})
			}
		}
		// The old region takes no more writes for the old ID and says where the user went.
		code, data := eu.do(t, "POST", "/users/"+alice.ID.String()+"/posts", map[string]string{"text": "x"})
		if code != http.StatusConflict || !strings.Contains(string(data), moved.ID.String()) {
			t.Fatalf("post to the old ID: %d %s, want 409 naming %s", code, data, moved.ID)
		}
		// The new region takes them, by handle too; posts from before the move keep their IDs.
		post(us, moved, "alice 2")
		checkTimeline(t, us, "bob@us", []string{"alice 2", "alice 1"})
		checkTimeline(t, eu, "alice@eu", []string{"bob 2", "carol 1", "bob 1"})
		if posts[3].ID.Region() != euID {
			t.Fatalf("alice's first post %s left eu", posts[3].ID)
		}
		// Moving again is not an error: it finishes what is left (here: nothing).
		var again store.User
		us.must(t, http.StatusCreated, "POST", "/users/alice@eu/move", nil, &again)
		if again.ID != moved.ID {
			t.Fatalf("second move: %s, want %s", again.ID, moved.ID)
		}
	})

	t.Run("the old region refuses a forged move", func(t *testing.T) {
		ctx := ctxFor(t)
		ghost := regions.NewID(usID, regions.MaxSeq-1)
		for _, tc := range []struct {
			name, subject string
			req           any
		}{
			{"forward to a record that does not exist", moveSubject(euID), moveRequest{carol.ID.String(), ghost.String()}},
			{"forward to another user", moveSubject(euID), moveRequest{carol.ID.String(), bob.ID.String()}},
			{"forward to a user of the same region", moveSubject(euID), moveRequest{carol.ID.String(), carol.ID.String()}},
			{"re-point a handle to another user", rehandleSubject(euID), rehandleRequest{"carol", bob.ID.String()}},
			{"re-point a moved handle back", rehandleSubject(euID), rehandleRequest{"alice", alice.ID.String()}},
		} {
			data, _ := json.Marshal(tc.req)
			_, err := us.c.Request(ctx, tc.subject, data)
			t.Logf("%s: %v", tc.name, err)
			if !errors.Is(err, client.ErrRemote) || !strings.Contains(err.Error(), ErrMoveRefused.Error()) {
				t.Errorf("%s: got %v, want ErrRemote saying %q", tc.name, err, ErrMoveRefused)
			}
		}
		var got store.User
		us.must(t, http.StatusOK, "GET", "/users/carol@eu", nil, &got)
		if got.ID != carol.ID {
			t.Fatalf("carol@eu resolves to %s after the forgeries, want %s", got.ID, carol.ID)
		}
		us.must(t, http.StatusOK, "GET", "/users/alice@eu", nil, &got)
		if got.ID != moved.ID {
			t.Fatalf("alice@eu resolves to %s after the forgeries, want %s", got.ID, moved.ID)
		}
	})
}

// checkTimeline waits until key's timeline on in shows exactly the texts want, in order.
func checkTimeline(t *testing.T, in *instance, key string, want []string) {
	t.Helper()
	checkFor(t, func() error {
		var tl Timeline
		code, data := in.do(t, "GET", "/users/"+key+"/timeline", nil)
		if code != http.StatusOK {
			return fmt.Errorf("timeline of %s: %d %s", key, code, data)
		}
		if err := json.Unmarshal(data, &tl); err != nil {
			return err
		}
		var got []string
		for _, p := range tl.Posts {
			got = append(got, p.Text)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			return fmt.Errorf("timeline of %s: %q (missing %q), want %q", key, got, tl.Missing, want)
		}
		return nil
	})
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
