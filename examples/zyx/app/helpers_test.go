package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/client"
	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/regions"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// A mirror's consumer setup also waits on a plain timer (see integration/fed).
	goleak.VerifyTestMain(m, append(testutil.NATSLeakIgnores(),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*stream).setupMirrorConsumer.func3"))...)
}

const (
	rootID regions.RegionID = 0x0001
	euID   regions.RegionID = 0x00e0
	usID   regions.RegionID = 0x00b0
)

func testLog(t testing.TB) zerolog.Logger {
	if os.Getenv("FEDIST_TEST_LOG") != "" { // FEDIST_TEST_LOG=1 go test -v … shows the instances' logs
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

// startFed starts root ← eu and root ← us in this process (integration/fed) and closes it when the
// test ends.
func startFed(t *testing.T) *fed.Federation {
	t.Helper()
	m, err := topo.NewMatrix([]string{"root", "eu", "us"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"root", "eu"}, {"root", "us"}, {"eu", "us"}} {
		if err := m.Set(p[0], p[1], 2); err != nil {
			t.Fatal(err)
		}
	}
	top, err := topo.New([]topo.Region{
		{ID: rootID, Name: "root", Nodes: 1},
		{ID: euID, Name: "eu", Parent: rootID, Nodes: 1},
		{ID: usID, Name: "us", Parent: rootID, Nodes: 1},
	}, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := fed.Start(ctx, fed.DefaultConfig(top, fed.ModeFeDist))
	if err != nil {
		t.Fatalf("start federation: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Errorf("close federation: %v", err)
		}
	})
	if err := f.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// instance is one running Zyx instance and its HTTP API.
type instance struct {
	app *App
	c   *client.Client
	url string
}

// testConfig is DefaultConfig with small limits, so that the tests reach them.
func testConfig(t testing.TB) Config {
	cfg := DefaultConfig(testLog(t))
	cfg.RecentPosts = 3
	cfg.MaxFollowing = 4
	cfg.Notify.Attempts = 2
	cfg.Notify.Backoff = 10 * time.Millisecond
	cfg.Notify.MaxBackoff = 10 * time.Millisecond
	return cfg
}

// startZyx runs an instance in region r on a fresh SQLite file, ready once every region reaches it.
func startZyx(t *testing.T, f *fed.Federation, r regions.RegionID) *instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Connect(ctx, strings.Join(f.ClientURLs(r), ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := testConfig(t)
	st, err := store.Open(filepath.Join(t.TempDir(), "zyx.db"), cfg.RecentPosts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	a, err := New(c, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Shutdown)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &instance{app: a, c: c, url: srv.URL}
}

// do sends a JSON request and returns the status and the body.
func (in *instance) do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, in.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

// must sends a request that must answer want, and decodes the answer into out (if not nil).
func (in *instance) must(t testing.TB, want int, method, path string, body, out any) {
	t.Helper()
	code, data := in.do(t, method, path, body)
	if code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, code, data, want)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
}

func checkFor(t testing.TB, fn func() error) {
	t.Helper()
	testutil.CheckFor(t, 10*time.Second, 20*time.Millisecond, fn)
}
