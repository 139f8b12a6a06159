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

// Monitor serves /healthz and /registry for one node.
type Monitor struct {
	srv *http.Server
	ln  net.Listener
	wg  sync.WaitGroup
}

// StartMonitor listens on addr. GET /healthz answers 200 once the node has joined and 503 with the
// reason before that; GET /registry returns the node's view of the registry as JSON.
func StartMonitor(addr string, n *node.Node, log zerolog.Logger) (*Monitor, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := n.Health(); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		msg := "ok\n"
		if _, _, up := n.Broker().Parent(); n.Parent() != 0 && !up {
			// Still 200: the region keeps serving its own clients; only other regions are cut off.
			msg = "ok; link to parent region " + n.Parent().String() + " is down, reconnecting\n"
		}
		_, _ = w.Write([]byte(msg))
	})
	mux.HandleFunc("GET /registry", func(w http.ResponseWriter, r *http.Request) {
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
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &Monitor{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg("monitoring server")
		}
	}()
	log.Info().Str("http", "http://"+ln.Addr().String()).Msg("monitoring: /healthz /registry")
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
