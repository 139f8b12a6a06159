package daemon

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
)

// routeJSON is one route of GET /routes.
type routeJSON struct {
	Dest   string   `json:"dest"`
	Path   []string `json:"path"`
	Kinds  []string `json:"kinds"`
	CostMs float64  `json:"cost_ms"`
	Step   string   `json:"step"`
}

// costsHandlers serves the cost engine's view: GET /links (every link this node measures) and
// GET /routes (its route to every region it reaches, and the shortcuts it holds); and
// replication's: GET /replication (node.ReplicationStats, with the ?top=N records of highest
// demand, 20 by default, at most 1000).
func costsHandlers(mux *http.ServeMux, n *node.Node) {
	mux.HandleFunc("GET /links", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, append([]costs.LinkStatus{}, n.Links()...)) // [] rather than null when none
	})
	mux.HandleFunc("GET /routes", func(w http.ResponseWriter, r *http.Request) {
		out := struct {
			Routes    []routeJSON `json:"routes"`
			Shortcuts []string    `json:"shortcuts_opened"`
			Accepted  int         `json:"shortcuts_accepted"`
		}{Routes: []routeJSON{}, Shortcuts: []string{}}
		for _, rt := range n.Routes() {
			out.Routes = append(out.Routes, routeView(rt))
		}
		sc := n.Shortcuts()
		for _, p := range sc.Opened {
			out.Shortcuts = append(out.Shortcuts, p.String())
		}
		out.Accepted = sc.Accepted
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /replication", func(w http.ResponseWriter, r *http.Request) {
		top := 20
		if v := r.URL.Query().Get("top"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1000 {
				http.Error(w, "top: want a number of records from 0 to 1000", http.StatusBadRequest)
				return
			}
			top = n
		}
		writeJSON(w, n.ReplicationStats(top))
	})
}

func routeView(rt costs.Route) routeJSON {
	v := routeJSON{Dest: rt.Dest.String(), CostMs: rt.Cost, Step: rt.Step().Kind.String(),
		Path: ids(rt.Path), Kinds: make([]string, len(rt.Kinds))}
	for i, k := range rt.Kinds {
		v.Kinds[i] = k.String()
	}
	return v
}

func ids(rs []regions.RegionID) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
