package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedist/fedist/internal/testutil"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go/jetstream"
)

// This file runs the daemons as separate processes, the way an operator does.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func buildDaemons(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "fedist-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "github.com/fedist/fedist/cmd/fedist-root", "github.com/fedist/fedist/cmd/fedist-node")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
}

type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	http string
	nats string
	leaf string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startProc starts a daemon with the given flags plus any-free-port listeners, and reads the ports it
// got from its log, so that parallel test packages never race for a port.
func startProc(t *testing.T, bin, name string, args ...string) *proc {
	t.Helper()
	return launch(t, bin, name, append(args, "-listen", "127.0.0.1:-1", "-leaf-listen", "127.0.0.1:-1",
		"-http", "127.0.0.1:0", "-store", t.TempDir(), "-log-json"))
}

// launch starts daemon bin with args, stops it (SIGTERM, then SIGKILL after 20 s) when the test
// ends, printing its output if the test failed, and waits until it logs its listeners.
func launch(t *testing.T, bin, name string, args []string) *proc {
	t.Helper()
	pr := &proc{name: name, out: &syncBuffer{}, done: make(chan error, 1)}
	pr.cmd = exec.Command(filepath.Join(buildDaemons(t), bin), args...)
	pr.cmd.Stdout, pr.cmd.Stderr = pr.out, pr.out
	if err := pr.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { pr.done <- pr.cmd.Wait() }()
	t.Cleanup(func() {
		_ = pr.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-pr.done:
		case <-time.After(20 * time.Second):
			_ = pr.cmd.Process.Kill()
			<-pr.done
		}
		if t.Failed() {
			t.Logf("--- %s (pid %d) output:\n%s", pr.name, pr.cmd.Process.Pid, tail(pr.out.String(), 40))
		}
	})
	pr.readAddrs(t)
	return pr
}

// readAddrs waits for the log lines that name the listeners, unless the process exits first.
func (p *proc) readAddrs(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, l, h := testutil.DaemonAddrs(p.out.String()); c != "" && h != "" {
			p.nats, p.leaf, p.http = c, l, h
			return
		}
		select {
		case err := <-p.done:
			p.done <- err
			return // the caller checks how it ended
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s never logged its listeners:\n%s", p.name, tail(p.out.String(), 20))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (p *proc) healthz() (int, string) {
	resp, err := http.Get(p.http + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (p *proc) waitHealthy(t *testing.T) {
	t.Helper()
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited: %v", p.name, err)
		default:
		}
		if code, body := p.healthz(); code != 200 {
			return fmt.Errorf("%s /healthz: %d %s", p.name, code, body)
		}
		return nil
	})
}

func checkFor(t testing.TB, total, step time.Duration, fn func() error) {
	t.Helper()
	testutil.CheckFor(t, total, step, fn)
}

// registryOf reads the registry through a region's client port, as `nats kv get` would.
func registryOf(t *testing.T, url string) map[string]*regions.Entry {
	t.Helper()
	nc := testutil.ConnectRegion(t, url)
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reg, err := regions.OpenRegistry(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := reg.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*regions.Entry{}
	for _, e := range entries {
		e.Updated = ""
		out[e.ID.String()] = e
	}
	return out
}

func statusesAre(t *testing.T, url string, want map[string]regions.Status) error {
	got := registryOf(t, url)
	for id, st := range want {
		e := got[id]
		if e == nil {
			return fmt.Errorf("%s missing from the registry at %s", id, url)
		}
		if e.Status != st {
			return fmt.Errorf("%s is %s at %s, want %s", id, e.Status, url, st)
		}
	}
	return nil
}

// startFourRegions runs root ← A ← A1 and root ← B as four processes and waits until all are healthy.
func startFourRegions(t *testing.T) (root, a, a1, b *proc) {
	t.Helper()
	root = startProc(t, "fedist-root", "root", "-id", "0001", "-name", "root")
	root.waitHealthy(t)
	a = startProc(t, "fedist-node", "a", "-id", "00a0", "-name", "a", "-parent", root.leaf)
	b = startProc(t, "fedist-node", "b", "-id", "00b0", "-name", "b", "-parent", root.leaf)
	a.waitHealthy(t)
	a1 = startProc(t, "fedist-node", "a1", "-id", "00a1", "-name", "a1", "-parent", a.leaf)
	b.waitHealthy(t)
	a1.waitHealthy(t)
	return root, a, a1, b
}

func TestDaemonsAsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons")
	}
	root, a, a1, b := startFourRegions(t)

	all := map[string]regions.Status{"0001": "active", "00a0": "active", "00a1": "active", "00b0": "active"}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error { return statusesAre(t, a1.nats, all) })
	before := registryOf(t, a1.nats)

	// The cost engine's view over HTTP: A1 measures its link to its parent A.
	checkFor(t, 10*time.Second, 100*time.Millisecond, func() error {
		var links []struct {
			Peer, Kind string
			Up         bool
			RTTMs      float64 `json:"rtt_ms"`
		}
		if err := getJSON(a1.http+"/links", &links); err != nil {
			return err
		}
		if len(links) != 1 || links[0].Peer != "00a0" || links[0].Kind != "tree" || !links[0].Up || links[0].RTTMs <= 0 {
			return fmt.Errorf("A1's links: %+v, want its measured tree link to 00a0", links)
		}
		var routes struct {
			Routes []routeJSON `json:"routes"`
		}
		if err := getJSON(a1.http+"/routes", &routes); err != nil {
			return err
		}
		if len(routes.Routes) != 3 {
			return fmt.Errorf("A1's routes: %+v, want one to each of the 3 other regions", routes.Routes)
		}
		var rep struct {
			Enabled bool `json:"enabled"`
			Store   struct {
				MaxBytes int64 `json:"MaxBytes"`
			} `json:"store"`
		}
		if err := getJSON(a1.http+"/replication", &rep); err != nil {
			return err
		}
		if !rep.Enabled || rep.Store.MaxBytes <= 0 {
			return fmt.Errorf("A1's replication: %+v, want it on with a byte budget", rep)
		}
		return nil
	})
	if resp, err := http.Get(a1.http + "/replication?top=-1"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("GET /replication?top=-1: %s, want 400", resp.Status)
	}

	// The monitoring port is read-only: anything but GET is refused.
	for _, path := range []string{"/links", "/routes", "/replication", "/registry"} {
		resp, err := http.Post(a1.http+path, "application/json", strings.NewReader(`{"peer":"00b0","up":false}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("POST %s: %s, want 405", path, resp.Status)
		}
	}

	// A second node claiming B's ID is refused with a reason and exits 2; the registry is unchanged.
	for _, args := range [][]string{
		{"-id", "00b0", "-name", "b-impostor", "-parent", root.leaf},
		{"-id", "00b0", "-name", "b", "-node", "b-second", "-parent", a.leaf},
		{"-id", "00b0", "-name", "b", "-parent", root.leaf}, // same name, same default node name
		{"-id", "00b0", "-name", "b", "-parent", a.leaf},
	} {
		imp := startProc(t, "fedist-node", "impostor", args...)
		select {
		case err := <-imp.done:
			imp.done <- err
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Fatalf("impostor %v exited with %v, want status 2", args, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("impostor %v still running", args)
		}
		if !strings.Contains(imp.out.String(), "join refused: region") {
			t.Fatalf("impostor output has no readable reason:\n%s", tail(imp.out.String(), 5))
		}
		t.Logf("impostor %v: %s", args, tail(imp.out.String(), 1))
	}
	// A refused join removes the store it created (and only one it created).
	store := filepath.Join(t.TempDir(), "new-store")
	imp := launch(t, "fedist-node", "impostor-store", []string{"-id", "00b0", "-name", "b-impostor", "-parent", root.leaf,
		"-listen", "127.0.0.1:-1", "-leaf-listen", "127.0.0.1:-1", "-store", store, "-log-json"})
	select {
	case err := <-imp.done:
		imp.done <- err
	case <-time.After(20 * time.Second):
		t.Fatal("impostor with a new store still running")
	}
	if _, err := os.Stat(store); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refused join's new store %s is still there (%v)", store, err)
	}
	after := registryOf(t, a1.nats)
	for id, e := range before {
		x, _ := e.Marshal()
		y, _ := after[id].Marshal()
		if !bytes.Equal(x, y) {
			t.Errorf("entry %s changed:\n%s\n%s", id, x, y)
		}
	}

	// Killing B marks it down in A1's mirror.
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		return statusesAre(t, a1.nats, map[string]regions.Status{"00b0": regions.StatusDown})
	})
	t.Logf("B down in A1's mirror %v after SIGKILL", time.Since(start).Round(time.Millisecond))
}

func TestHealthzBeforeJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons")
	}
	// A node whose parent does not exist yet answers 503 with the reason.
	orphan := startProc(t, "fedist-node", "orphan", "-id", "00c0", "-name", "c", "-parent", "nats-leaf://127.0.0.1:1")
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		code, body := orphan.healthz()
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "connecting") {
			return fmt.Errorf("/healthz = %d %q, want 503 naming the phase", code, body)
		}
		return nil
	})
}
