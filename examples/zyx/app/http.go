package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// Handler returns the instance's HTTP API (JSON):
//
//	POST /users                  {"handle","name"}  create a user of this region
//	GET  /users/{key}            a user of any region, by ID or handle
//	POST /users/{key}/posts      {"text"}           post (the user must live in this region)
//	POST /users/{key}/follow     {"target"}         follow a user of any region
//	GET  /users/{key}/timeline   ?limit=N           the home timeline
//	POST /users/{key}/move                          move the user into this region
//	GET  /healthz                                   200 while connected to the node
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		var in struct{ Handle, Name string }
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		u, err := a.CreateUser(ctx, in.Handle, in.Name)
		return http.StatusCreated, u, err
	}))
	mux.HandleFunc("GET /users/{key}", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		u, err := a.lookupUser(ctx, r.PathValue("key"))
		return http.StatusOK, u, err
	}))
	mux.HandleFunc("POST /users/{key}/posts", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		var in struct{ Text string }
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		p, err := a.Post(ctx, r.PathValue("key"), in.Text)
		return http.StatusCreated, p, err
	}))
	mux.HandleFunc("POST /users/{key}/follow", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		var in struct{ Target string }
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
		u, err := a.Follow(ctx, r.PathValue("key"), in.Target)
		return http.StatusOK, u, err
	}))
	mux.HandleFunc("GET /users/{key}/timeline", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		limit := a.cfg.TimelineDefault
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > a.cfg.TimelineMax {
				return 0, nil, fmt.Errorf("limit %q: want 1 to %d: %w", s, a.cfg.TimelineMax, ErrBadInput)
			}
			limit = n
		}
		tl, err := a.Timeline(ctx, r.PathValue("key"), limit)
		return http.StatusOK, tl, err
	}))
	mux.HandleFunc("POST /users/{key}/move", a.call(func(ctx context.Context, r *http.Request) (int, any, error) {
		u, err := a.Move(ctx, r.PathValue("key"))
		return http.StatusCreated, u, err
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.c.Conn().IsConnected() {
			http.Error(w, "not connected to the region's node", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// call adapts fn to an http.HandlerFunc: fn's FeDist work is bounded by RequestTimeout, its result
// is written as JSON, and its error as {"error": …} with the status statusOf gives.
func (a *App) call(fn func(ctx context.Context, r *http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
		defer cancel()
		code, v, err := fn(ctx, r)
		if err != nil {
			code = statusOf(err)
			body := map[string]string{"error": err.Error()}
			if moved := (*store.MovedError)(nil); errors.As(err, &moved) {
				body["moved_to"] = moved.To.String()
			}
			if code >= 500 {
				a.log.Warn().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Int("status", code).Msg("request failed")
			}
			v = body
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
}

// decode reads a JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %v: %w", err, ErrBadInput)
	}
	return nil
}

// statusOf maps an error to the HTTP status that tells the caller what to change.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrBadInput), errors.Is(err, regions.ErrBadID):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrNotFound), errors.Is(err, client.ErrNotFound),
		errors.Is(err, ErrNoSuchRegion), errors.Is(err, client.ErrUnknownRegion):
		return http.StatusNotFound
	case errors.Is(err, store.ErrHandleTaken), errors.Is(err, store.ErrMoved),
		errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrTooMany):
		return http.StatusConflict
	case errors.Is(err, ErrWrongRegion):
		return http.StatusMisdirectedRequest
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, client.ErrRegionDown), errors.Is(err, client.ErrNoResponder),
		errors.Is(err, client.ErrHopLimit), errors.Is(err, client.ErrRemote), errors.Is(err, ErrBadRecord):
		return http.StatusBadGateway
	}
	return http.StatusInternalServerError
}
