package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHealthzProbes: ?live and ?ready answer 200 on a joined root and child, plain /healthz says
// what it said before; when the child's parent goes away ?ready turns 503 and names the parent link,
// while ?live and plain /healthz stay 200.
func TestHealthzProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation")
	}
	root, child := startPair(t)
	for _, m := range []*monitored{root, child} {
		for _, q := range []string{"/healthz", "/healthz?live", "/healthz?ready"} {
			if code, body, _ := m.do(t, "GET", q); code != 200 || body != "ok\n" {
				t.Fatalf("%s GET %s: %d %q", m.n.Name(), q, code, body)
			}
		}
	}

	if err := root.n.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		code, body, _ := child.do(t, "GET", "/healthz?ready")
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "link to the parent region is down") {
			return fmt.Errorf("GET /healthz?ready with the parent gone: %d %q", code, body)
		}
		return nil
	})
	if code, body, _ := child.do(t, "GET", "/healthz?live"); code != 200 {
		t.Fatalf("GET /healthz?live with the parent gone: %d %q", code, body)
	}
	if code, body, _ := child.do(t, "GET", "/healthz"); code != 200 || !strings.Contains(body, "is down, reconnecting") {
		t.Fatalf("plain GET /healthz with the parent gone: %d %q (want it unchanged: 200, parent down)", code, body)
	}
	// Without the root's beats the child's registry copy is stale, and every view says so.
	checkFor(t, 15*time.Second, 50*time.Millisecond, func() error {
		if code, body, _ := child.do(t, "GET", "/healthz"); code != 200 || !strings.Contains(body, "registry stale: no word from the root") {
			return fmt.Errorf("plain GET /healthz with the root gone: %d %q", code, body)
		}
		return nil
	})
	_, body, _ := child.do(t, "GET", "/api/status")
	var st struct {
		Ready    bool `json:"ready"`
		Registry struct {
			Stale  bool   `json:"stale"`
			Reason string `json:"reason"`
		} `json:"registry"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Ready || !st.Registry.Stale || st.Registry.Reason == "" {
		t.Fatalf("GET /api/status with the root gone: %v %s", err, body)
	}
	if _, _, h := child.do(t, "GET", "/api/regions"); !strings.Contains(h.Get("X-Fedist-Registry-Stale"), "no word from the root") {
		t.Fatalf("GET /api/regions with the root gone: X-Fedist-Registry-Stale %q", h.Get("X-Fedist-Registry-Stale"))
	}
}

// TestHealthzReadyBeforeJoin: a node whose parent never answers is live but not ready.
func TestHealthzReadyBeforeJoin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "nats-leaf://" + ln.Addr().String()
	_ = ln.Close() // nothing listens there any more
	m := startMonitored(t, 0x00a0, "a", dead, false)
	if code, body, _ := m.do(t, "GET", "/healthz?live"); code != 200 || body != "ok\n" {
		t.Fatalf("GET /healthz?live: %d %q", code, body)
	}
	code, body, _ := m.do(t, "GET", "/healthz?ready")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: ") {
		t.Fatalf("GET /healthz?ready before the join: %d %q", code, body)
	}
	if err := readiness(m.n); err == nil || errors.Is(err, errParentDown) {
		t.Fatalf("readiness before the join = %v, want the join's phase", err)
	}
}

// TestAPIServesJSON: /api/regions, /api/links, /api/routes and /api/replication serve the JSON of
// /registry, /links, /routes and /replication, query parameters included.
func TestAPIServesJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation")
	}
	_, child := startPair(t)
	get := func(path string, v any) {
		t.Helper()
		code, body, h := child.do(t, "GET", path)
		if code != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("GET %s: %d %s %q", path, code, h.Get("Content-Type"), body)
		}
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	type entry struct{ ID, Status string }
	var api, old []entry
	get("/api/regions", &api)
	get("/registry", &old)
	if fmt.Sprint(api) != fmt.Sprint(old) || len(api) != 2 || api[0].ID != "0001" || api[1].ID != "00a0" {
		t.Fatalf("/api/regions %v, /registry %v", api, old)
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error { // the engine adds the link on its next tick
		var links []struct{ Peer, Kind string }
		get("/api/links", &links)
		if len(links) != 1 || links[0].Peer != "0001" || links[0].Kind != "tree" {
			return fmt.Errorf("/api/links: %+v", links)
		}
		return nil
	})
	var routes struct {
		Routes []struct{ Dest string } `json:"routes"`
	}
	get("/api/routes", &routes)
	var repl struct{ Enabled bool }
	get("/api/replication?top=3", &repl)
	if !repl.Enabled {
		t.Fatalf("/api/replication: %+v", repl)
	}
	// The same handler as /replication: the same refusal of a bad query.
	if code, body, _ := child.do(t, "GET", "/api/replication?top=5000"); code != http.StatusBadRequest {
		t.Fatalf("GET /api/replication?top=5000: %d %q, want 400 as /replication", code, body)
	}
}

// TestMonitorIsGETOnly: every endpoint refuses other methods with 405 and names GET in Allow.
func TestMonitorIsGETOnly(t *testing.T) {
	m := startMonitored(t, 0x0001, "root", "", false)
	paths := []string{"/healthz", "/healthz?live", "/healthz?ready", "/registry", "/links", "/routes",
		"/replication", "/metrics", "/api/regions", "/api/links", "/api/routes", "/api/replication", "/api/status"}
	for _, p := range paths {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			code, body, h := m.do(t, method, p)
			if code != http.StatusMethodNotAllowed || !strings.Contains(h.Get("Allow"), "GET") {
				t.Errorf("%s %s: %d (Allow %q) %q, want 405", method, p, code, h.Get("Allow"), body)
			}
		}
		if code, body, _ := m.do(t, "GET", p); code == http.StatusMethodNotAllowed || code == http.StatusNotFound {
			t.Errorf("GET %s: %d %q", p, code, body)
		}
	}
}
