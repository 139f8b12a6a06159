package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/fedist/fedist/node"
	"github.com/rs/zerolog"
)

// Monitor serves the web view at /, /healthz, /registry, /links, /routes, /replication, /metrics
// and /api/* for one node.
type Monitor struct {
	srv *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
}

// StartMonitor listens on addr. GET /healthz answers 200 once the node has joined and 503 with the
// reason before that; GET /registry returns the node's view of the registry as JSON; GET /links
// and GET /routes the cost engine's links and routes (http_costs.go); GET /healthz?live and
// ?ready, GET /metrics and GET /api/* are in http_api.go; GET / (the live web view), GET /api/events
// and GET /api/route in web.go.
func StartMonitor(addr string, n *node.Node, log zerolog.Logger) (*Monitor, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", probes(n, func(w http.ResponseWriter, r *http.Request) {
		if err := n.Health(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		msg := "ok\n"
		if _, _, up := n.Broker().Parent(); n.Parent() != 0 && !up {
			// Still 200: the region keeps serving its own clients; only other regions are cut off.
			msg = "ok; link to parent region " + n.Parent().String() + " is down, reconnecting\n"
		}
		if st := n.RegistryState(); st.Stale {
			msg += "registry stale: " + st.Reason + "\n"
		}
		_, _ = w.Write([]byte(msg))
	}))
	registry := func(w http.ResponseWriter, r *http.Request) {
		if st := n.RegistryState(); st.Stale {
			w.Header().Set("X-Fedist-Registry-Stale", st.Reason) // GET /api/status has it as JSON
		}
		entries := n.View().Entries()
		sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
		out := make([]json.RawMessage, 0, len(entries))
		for _, e := range entries {
			data, err := e.Marshal()
			if err != nil {
				continue
			}
			out = append(out, data)
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	}
	mux.HandleFunc("GET /registry", registry)
	costsHandlers(mux, n)
	apiHandlers(mux, n, registry)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &Monitor{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	webHandlers(mux, n, m) // before Serve: the mux is complete, and Shutdown ends the event streams
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("monitoring server")
		}
	}()
	log.Info().Str("http", "http://"+ln.Addr().String()).Msg("monitoring: / (web view) /healthz /registry /links /routes /replication /metrics /api/")
	return m, nil
}

// Addr returns the listening address.
func (m *Monitor) Addr() string { return m.ln.Addr().String() }

// Shutdown stops the server and waits for it.
func (m *Monitor) Shutdown(ctx context.Context) error {
	err := m.srv.Shutdown(ctx)
	m.wg.Wait()
	return err
}
