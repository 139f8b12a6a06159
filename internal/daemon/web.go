package daemon

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fedist/fedist/node"
	"github.com/fedist/fedist/regions"
)

// The live web view: a read-only page (web/index.html, app.js, style.css; no build step, nothing
// loaded from elsewhere) fed by one server-sent event stream of snapshots. Every value reaches
// the page's DOM as text (textContent), never as markup, and the Content-Security-Policy allows
// scripts, styles and connections from this listener only.

//go:embed web
var webFiles embed.FS

// webSecurity is the Content-Security-Policy of every web-view response: own origin only, no
// inline script or style, no framing, no forms.
const webSecurity = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'"

// webConfig tunes the web view's event stream.
type webConfig struct {
	Every        time.Duration // a snapshot at least this often, so RTTs and counters move on the page
	MinGap       time.Duration // registry changes are coalesced for this long into one snapshot
	WriteTimeout time.Duration // a client that takes no event for this long is dropped
	MaxStreams   int           // concurrent event streams; more get 503, so a page left open in many tabs cannot exhaust the port
	Top          int           // records of highest demand in the replication figures
}

func defaultWebConfig() webConfig {
	return webConfig{
		Every:        time.Second,            // live enough to watch a link's RTT, cheap to build
		MinGap:       100 * time.Millisecond, // a join writes a few entries in a burst: one event for all
		WriteTimeout: 10 * time.Second,       // far above any healthy browser's pause
		MaxStreams:   64,                     // each costs one goroutine and a snapshot a second
		Top:          20,                     // as GET /replication
	}
}

// web serves the web view of one node.
type web struct {
	n       *node.Node
	cfg     webConfig
	streams atomic.Int64  // open event streams
	done    chan struct{} // closed when the server shuts down: every stream ends
	stop    sync.Once
}

// webHandlers serves the web view on mux: GET / (the page), GET /web/* (its script, style and
// icon), GET /api/events (the event stream) and GET /api/route?from=&to= (a route between any two
// regions). It ends open event streams when m's server shuts down, so Shutdown does not wait on
// them.
func webHandlers(mux *http.ServeMux, n *node.Node, m *Monitor) {
	w := newWeb(n, defaultWebConfig())
	w.register(mux)
	m.srv.RegisterOnShutdown(w.close)
}

// newWeb returns the web view of n; register puts it on a mux.
func newWeb(n *node.Node, cfg webConfig) *web {
	return &web{n: n, cfg: cfg, done: make(chan struct{})}
}

// close ends every event stream, now and later. It is idempotent.
func (w *web) close() { w.stop.Do(func() { close(w.done) }) }

// register adds the web view's routes to mux, each GET-only (the mux answers 405 to other methods).
func (w *web) register(mux *http.ServeMux) {
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic(err) // the embedded tree always has web/
	}
	files := http.FileServerFS(static)
	mux.Handle("GET /{$}", secured(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-cache")
		http.ServeFileFS(rw, r, static, "index.html")
	}))
	mux.Handle("GET /web/", secured(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(rw, r) // files only, no listings
			return
		}
		rw.Header().Set("Cache-Control", "no-cache") // embedded files carry no date: revalidate
		http.StripPrefix("/web", files).ServeHTTP(rw, r)
	}))
	mux.Handle("GET /api/events", secured(w.events))
	mux.Handle("GET /api/route", secured(w.route))
}

// secured sets the web view's security headers.
func secured(h http.HandlerFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", webSecurity)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h(rw, r)
	}
}

// events streams a snapshot (event "snapshot", data one line of JSON) at once, every cfg.Every,
// and cfg.MinGap after the registry view changes, until the client goes, the server shuts down,
// or a write stalls for cfg.WriteTimeout.
func (w *web) events(rw http.ResponseWriter, r *http.Request) {
	if w.streams.Add(1) > int64(w.cfg.MaxStreams) {
		w.streams.Add(-1)
		rw.Header().Set("Retry-After", "5")
		http.Error(rw, fmt.Sprintf("too many event streams open (%d); try again later", w.cfg.MaxStreams), http.StatusServiceUnavailable)
		return
	}
	defer w.streams.Add(-1)
	h := rw.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	rc := http.NewResponseController(rw)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	tick := time.NewTicker(w.cfg.Every)
	defer tick.Stop()
	for seq := 1; ; seq++ {
		changed := w.n.View().Changed() // before the snapshot: a change while it is built is not missed
		data, err := json.Marshal(w.snapshot())
		if err != nil {
			return
		}
		_ = rc.SetWriteDeadline(time.Now().Add(w.cfg.WriteTimeout))
		retry := ""
		if seq == 1 {
			retry = "retry: 2000\n" // the browser reconnects 2 s after a lost stream
		}
		if _, err := fmt.Fprintf(rw, "%sid: %d\nevent: snapshot\ndata: %s\n\n", retry, seq, data); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-w.done:
			return
		case <-tick.C:
		case <-changed:
			if !w.pause(r, w.cfg.MinGap) {
				return
			}
		}
	}
}

// pause waits d; false when the stream should end instead.
func (w *web) pause(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-w.done:
		return false
	}
}

// route answers GET /api/route?from=rrrr&to=rrrr with the route between two regions as the node
// sees it (node.RouteBetween), in the JSON of one route of GET /routes plus "from": 400 for a
// missing or malformed region ID, 404 for a region not in the registry or when no path joins them.
func (w *web) route(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var ends [2]regions.RegionID
	for i, name := range []string{"from", "to"} {
		v := q.Get(name)
		if v == "" {
			http.Error(rw, name+": missing; want ?from=rrrr&to=rrrr, region IDs of 4 lowercase hex digits", http.StatusBadRequest)
			return
		}
		id, err := regions.ParseRegion(v)
		if err != nil {
			http.Error(rw, name+": "+err.Error()+"; want a region ID of 4 lowercase hex digits, 0001–ffff", http.StatusBadRequest)
			return
		}
		ends[i] = id
	}
	rt, err := w.n.RouteBetween(ends[0], ends[1])
	switch {
	case errors.Is(err, node.ErrUnknownRegion), errors.Is(err, node.ErrNoRoute):
		http.Error(rw, err.Error(), http.StatusNotFound)
		return
	case err != nil:
		http.Error(rw, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(rw, struct {
		From string `json:"from"`
		routeJSON
	}{ends[0].String(), routeView(rt)})
}

// webSnapshot is one event of GET /api/events: everything the page shows.
type webSnapshot struct {
	Time        string                `json:"time"` // RFC 3339, when it was taken
	Node        webNode               `json:"node"`
	Regions     []webRegion           `json:"regions"` // by ID
	Links       []webLink             `json:"links"`   // by peer
	Routes      []routeJSON           `json:"routes"`  // by destination
	Shortcuts   []string              `json:"shortcuts_opened"`
	Accepted    int                   `json:"shortcuts_accepted"`
	Replication node.ReplicationStats `json:"replication"`
}

// webNode is the serving node itself.
type webNode struct {
	Region   string `json:"region"`
	Name     string `json:"name"` // the region's
	Server   string `json:"server"`
	Parent   string `json:"parent,omitempty"`
	Phase    string `json:"phase"`
	Ready    bool   `json:"ready"`
	NotReady string `json:"not_ready,omitempty"` // why not, as GET /healthz?ready says
	// Registry says whether this node's copy of the registry is current (node.RegistryState).
	Registry node.RegistryState `json:"registry"`
}

// webRegion is one registry entry.
type webRegion struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Parent  string   `json:"parent,omitempty"`
	Status  string   `json:"status"`
	Reason  string   `json:"reason,omitempty"`
	Updated string   `json:"updated,omitempty"`
	Nodes   []string `json:"nodes"`
}

// webLink is one link of this node, with its routing cost once measured.
type webLink struct {
	Peer       string   `json:"peer"`
	Kind       string   `json:"kind"`
	Up         bool     `json:"up"`
	RTTMs      *float64 `json:"rtt_ms"`  // null until measured
	CostMs     *float64 `json:"cost_ms"` // null until advertised
	Msgs       uint64   `json:"msgs"`
	Probes     uint64   `json:"probes"`
	LastAnswer string   `json:"last_answer,omitempty"`
}

// snapshot reads everything the page shows from the node, each part consistent in itself.
func (w *web) snapshot() webSnapshot {
	n := w.n
	s := webSnapshot{Time: time.Now().UTC().Format(time.RFC3339), Regions: []webRegion{}, Links: []webLink{},
		Routes: []routeJSON{}, Shortcuts: []string{}, Replication: n.ReplicationStats(w.cfg.Top)}
	s.Node = webNode{Region: n.Region().String(), Name: n.Name(), Server: n.Broker().Name(), Phase: n.Phase()}
	if p := n.Parent(); p != 0 {
		s.Node.Parent = p.String()
	}
	if err := readiness(n); err != nil {
		s.Node.NotReady = err.Error()
	} else {
		s.Node.Ready = true
	}
	s.Node.Registry = n.RegistryState()
	entries := n.View().Entries()
	sort.Slice(entries, func(i, j int) bool { return entries[i].ID < entries[j].ID })
	for _, e := range entries {
		r := webRegion{ID: e.ID.String(), Name: e.Name, Status: string(e.Status), Reason: e.Reason, Updated: e.Updated, Nodes: []string{}}
		if e.Parent != 0 {
			r.Parent = e.Parent.String()
		}
		for _, nd := range e.Nodes {
			r.Nodes = append(r.Nodes, nd.Name)
		}
		s.Regions = append(s.Regions, r)
	}
	cost := map[string]float64{}
	for _, e := range n.LinkCosts() {
		cost[e.To.String()+e.Kind.String()] = e.Cost
	}
	for _, l := range n.Links() {
		v := webLink{Peer: l.Peer.String(), Kind: l.Kind.String(), Up: l.Up, Msgs: l.Msgs,
			Probes: l.ProbesBusy + l.ProbesIdle + l.ProbesStall}
		if l.HasRTT {
			ms := float64(l.RTT) / float64(time.Millisecond)
			v.RTTMs = &ms
		}
		if c, ok := cost[v.Peer+v.Kind]; ok {
			v.CostMs = &c
		}
		if !l.LastAnswer.IsZero() {
			v.LastAnswer = l.LastAnswer.UTC().Format(time.RFC3339)
		}
		s.Links = append(s.Links, v)
	}
	for _, rt := range n.Routes() {
		s.Routes = append(s.Routes, routeView(rt))
	}
	sc := n.Shortcuts()
	for _, p := range sc.Opened {
		s.Shortcuts = append(s.Shortcuts, p.String())
	}
	s.Accepted = sc.Accepted
	return s
}
