package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// sseEvent is one server-sent event: its fields by name.
type sseEvent map[string]string

// readEvent reads one event (lines up to a blank line) of an event stream.
func readEvent(r *bufio.Reader) (sseEvent, error) {
	ev := sseEvent{}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return ev, nil
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			return ev, fmt.Errorf("event line %q: want \"field: value\"", line)
		}
		if _, dup := ev[k]; dup {
			return ev, fmt.Errorf("field %q twice in one event (data must be one line)", k)
		}
		ev[k] = v
	}
}

// stream is one open GET /api/events.
type stream struct {
	resp *http.Response
	r    *bufio.Reader
}

// openStream opens url's event stream; the request ends with the test, or after a minute.
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return &stream{resp: resp, r: bufio.NewReader(resp.Body)}
}

// next reads the next snapshot and checks its framing.
func (s *stream) next(t *testing.T) webSnapshot {
	t.Helper()
	ev, err := readEvent(s.r)
	if err != nil {
		t.Fatalf("read event: %v", err)
	}
	if ev["event"] != "snapshot" || ev["id"] == "" {
		t.Fatalf("event %v: want event: snapshot with an id", ev)
	}
	var snap webSnapshot
	if err := json.Unmarshal([]byte(ev["data"]), &snap); err != nil {
		t.Fatalf("event data %q: %v", ev["data"], err)
	}
	return snap
}

// TestWebPage: the page and its files are served with their content types and the security
// headers; directories are not listed, and only GET (and HEAD) is allowed.
func TestWebPage(t *testing.T) {
	root := startMonitored(t, 0x0001, "root", "", true)
	for path, ctype := range map[string]string{
		"/":              "text/html; charset=utf-8",
		"/web/app.js":    "text/javascript; charset=utf-8",
		"/web/style.css": "text/css; charset=utf-8",
		"/web/icon.svg":  "image/svg+xml",
	} {
		code, body, h := root.do(t, "GET", path)
		if code != 200 || h.Get("Content-Type") != ctype || body == "" {
			t.Errorf("GET %s: %d %q, %d bytes; want 200 %q", path, code, h.Get("Content-Type"), len(body), ctype)
		}
		if h.Get("Content-Security-Policy") != webSecurity || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: CSP %q, X-Content-Type-Options %q", path, h.Get("Content-Security-Policy"), h.Get("X-Content-Type-Options"))
		}
	}
	for _, path := range []string{"/web/", "/web/nothing.js", "/nothing"} {
		if code, _, _ := root.do(t, "GET", path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
	for _, path := range []string{"/", "/web/app.js", "/api/events", "/api/route?from=0001&to=0001"} {
		for _, method := range []string{"POST", "PUT", "DELETE"} {
			if code, _, _ := root.do(t, method, path); code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", method, path, code)
			}
		}
	}
	// HEAD of the event stream answers its headers and ends; it does not stream.
	if code, _, h := root.do(t, "HEAD", "/api/events"); code != 200 || h.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD /api/events: %d %q", code, h.Get("Content-Type"))
	}
}

// TestWebRendersTextOnly: the page's script puts values into the DOM as text only, and the page
// has no inline script or style that the Content-Security-Policy would have to allow. (The browser
// test shows a region named with markup as text.)
func TestWebRendersTextOnly(t *testing.T) {
	js, err := webFiles.ReadFile("web/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('on", "createContextualFragment"} {
		if strings.Contains(string(js), sink) {
			t.Errorf("app.js uses %s: values must reach the DOM as text", sink)
		}
	}
	html, err := webFiles.ReadFile("web/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`<script(\s[^>]*)?>[^<]`, `<script>`, `\sstyle=`, `<style`, `\son[a-z]+=`, `https?://`} {
		if loc := regexp.MustCompile(re).FindIndex(html); loc != nil {
			t.Errorf("index.html has %q (matches %s): no inline code, nothing from elsewhere", html[loc[0]:loc[1]], re)
		}
	}
}

// TestWebEvents: the stream opens with a retry hint and a snapshot of the node, sends another
// within Every, and one when the registry changes (a child region joins).
func TestWebEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation")
	}
	root := startMonitored(t, 0x0001, "root", "", true)
	s := openStream(t, root.url)
	if ct, cc := s.resp.Header.Get("Content-Type"), s.resp.Header.Get("Cache-Control"); s.resp.StatusCode != 200 || ct != "text/event-stream" || cc != "no-store" {
		t.Fatalf("GET /api/events: %d, Content-Type %q, Cache-Control %q", s.resp.StatusCode, ct, cc)
	}
	first, err := readEvent(s.r)
	if err != nil || first["retry"] != "2000" || first["id"] != "1" || first["event"] != "snapshot" {
		t.Fatalf("first event %v, %v: want retry: 2000, id: 1, event: snapshot", first, err)
	}
	var snap webSnapshot
	if err := json.Unmarshal([]byte(first["data"]), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Node.Region != "0001" || snap.Node.Name != "root" || !snap.Node.Ready || len(snap.Regions) != 1 ||
		snap.Regions[0].ID != "0001" || snap.Regions[0].Status != "active" {
		t.Fatalf("first snapshot: %+v", snap)
	}
	s.next(t) // the periodic one

	startMonitored(t, 0x00a0, "a", root.n.Broker().LeafURL(), false)
	for {
		snap := s.next(t) // bounded by the stream's request timeout
		if i := slices.IndexFunc(snap.Regions, func(r webRegion) bool { return r.ID == "00a0" }); i >= 0 &&
			snap.Regions[i].Status == "active" && snap.Regions[i].Parent == "0001" && snap.Regions[i].Name == "a" {
			break
		}
	}
}

// TestWebEventsCap: beyond MaxStreams a stream is refused with 503 and Retry-After; a stream
// that closes frees its place.
func TestWebEventsCap(t *testing.T) {
	root := startMonitored(t, 0x0001, "root", "", true)
	cfg := defaultWebConfig()
	cfg.MaxStreams = 2
	w := newWeb(root.n, cfg)
	mux := http.NewServeMux()
	w.register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { w.close(); ts.Close() })

	a, b := openStream(t, ts.URL), openStream(t, ts.URL)
	a.next(t)
	b.next(t)
	resp, err := http.Get(ts.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many event streams") {
		t.Fatalf("third stream: %d %q, Retry-After %q; want 503", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	a.resp.Body.Close()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("stream after one closed: %d", resp.StatusCode)
		}
		return nil
	})
}

// TestWebEventsEndOnShutdown: Monitor.Shutdown ends open event streams instead of waiting for
// them, and the client sees the stream end.
func TestWebEventsEndOnShutdown(t *testing.T) {
	root := startMonitored(t, 0x0001, "root", "", true)
	mon, err := StartMonitor("127.0.0.1:0", root.n, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	s := openStream(t, "http://"+mon.Addr())
	s.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := mon.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an open event stream: %v", err)
	}
	for {
		if _, err := readEvent(s.r); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("stream after Shutdown: %v, want EOF", err)
			}
			break
		}
	}
}

// TestWebRoute: GET /api/route refuses a missing or malformed region ID with 400 and names the
// parameter, answers 404 for a region not in the registry, the one-region path for from = to,
// and the tree path between two regions.
func TestWebRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a federation")
	}
	root, _ := startPair(t)
	for _, q := range []string{"", "?from=0001", "?to=0001", "?from=xyz&to=0001", "?from=0001&to=00A0",
		"?from=0000&to=0001", "?from=0001&to=00a00", "?from=&to=0001"} {
		code, body, _ := root.do(t, "GET", "/api/route"+q)
		want := "from: "
		if strings.HasPrefix(q, "?from=0001") {
			want = "to: "
		}
		if code != http.StatusBadRequest || !strings.HasPrefix(body, want) {
			t.Errorf("GET /api/route%s: %d %q, want 400 starting %q", q, code, body, want)
		}
	}
	if code, body, _ := root.do(t, "GET", "/api/route?from=0001&to=0bad"); code != http.StatusNotFound || !strings.Contains(body, "not in the registry") {
		t.Errorf("route to an unregistered region: %d %q, want 404", code, body)
	}
	type route struct {
		From  string   `json:"from"`
		Dest  string   `json:"dest"`
		Path  []string `json:"path"`
		Kinds []string `json:"kinds"`
	}
	get := func(q string) (route, error) {
		code, body, h := root.do(t, "GET", "/api/route"+q)
		if code != 200 || h.Get("Content-Type") != "application/json" {
			return route{}, fmt.Errorf("GET /api/route%s: %d %q", q, code, body)
		}
		var rt route
		return rt, json.Unmarshal([]byte(body), &rt)
	}
	if rt, err := get("?from=00a0&to=00a0"); err != nil || !slices.Equal(rt.Path, []string{"00a0"}) {
		t.Errorf("route from a region to itself: %+v, %v", rt, err)
	}
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		for q, want := range map[string][]string{"?from=0001&to=00a0": {"0001", "00a0"}, "?from=00a0&to=0001": {"00a0", "0001"}} {
			rt, err := get(q)
			if err != nil {
				return err
			}
			if rt.From != want[0] || rt.Dest != want[1] || !slices.Equal(rt.Path, want) || !slices.Equal(rt.Kinds, []string{"tree"}) {
				return fmt.Errorf("GET /api/route%s: %+v, want path %v over the tree", q, rt, want)
			}
		}
		return nil
	})
}
