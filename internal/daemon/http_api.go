package daemon

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fedist/fedist/node"
)

// errParentDown is why a joined node below the root is not ready.
var errParentDown = errors.New("leafnode link to the parent region is down")

// readiness returns nil when the node should take traffic: it has joined and, below the root, its
// leafnode link to the parent is up. The root is ready once its registry is up, which is when it
// has joined itself. GET /healthz?ready and fedist_node_ready report it.
func readiness(n *node.Node) error {
	if err := n.Health(); err != nil {
		return err
	}
	b := n.Broker()
	if len(b.Config().ParentURLs) == 0 {
		return nil
	}
	if _, _, up := b.Parent(); !up {
		return fmt.Errorf("%w (%s), reconnecting", errParentDown, n.Parent())
	}
	return nil
}

// probes wraps plain, the handler of GET /healthz, with the orchestrator probes:
//   - /healthz?live answers 200 as long as the process serves HTTP;
//   - /healthz?ready answers 200 when readiness is nil, else 503 with the reason.
//
// Plain /healthz (neither parameter) is left to plain.
func probes(n *node.Node, plain http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Has("live"):
			_, _ = w.Write([]byte("ok\n"))
		case q.Has("ready"):
			if err := readiness(n); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write([]byte("ok\n"))
		default:
			plain(w, r)
		}
	}
}

// apiHandlers serves GET /metrics and the JSON API: GET /api/regions is registry (the handler of
// GET /registry; a stale registry adds the header X-Fedist-Registry-Stale), GET /api/status the
// node's readiness and whether its registry copy is current (node.RegistryState), and GET /api/links, /api/routes and /api/replication are the handlers of
// /links, /routes and /replication, reached through mux itself so that each keeps one
// implementation. Every route is GET-only: the mux answers 405 to other methods.
func apiHandlers(mux *http.ServeMux, n *node.Node, registry http.HandlerFunc) {
	mux.Handle("GET /metrics", metricsHandler(n))
	mux.HandleFunc("GET /api/regions", registry)
	mux.HandleFunc("GET /api/status", func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Ready    bool               `json:"ready"`
			NotReady string             `json:"not_ready,omitempty"`
			Registry node.RegistryState `json:"registry"`
			Writer   bool               `json:"registry_writer"` // this root node is the elected writer
		}{Registry: n.RegistryState(), Writer: n.RegistryWriter()}
		if err := readiness(n); err != nil {
			out.NotReady = err.Error()
		} else {
			out.Ready = true
		}
		writeJSON(w, out)
	})
	strip := http.StripPrefix("/api", mux)
	for _, p := range []string{"/links", "/routes", "/replication"} {
		mux.Handle("GET /api"+p, strip)
	}
}
