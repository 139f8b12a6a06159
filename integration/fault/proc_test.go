package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fedist/fedist/internal/testutil"
)

// This file runs the daemons as separate processes, the way internal/daemon/process_test.go does:
// built once per test binary, listeners on free ports of 127.0.0.1, ports read from the JSON log.

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// bin returns the path of a daemon binary, building both daemons on first use.
func bin(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "fedist-fault-bin-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/",
			"github.com/fedist/fedist/cmd/fedist-root", "github.com/fedist/fedist/cmd/fedist-node")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is one running daemon process.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed once the process has exited and err is set
	err  error         // cmd.Wait's result, valid once done is closed
}

// spawn starts a daemon process; it does not wait for anything. The caller owns its end.
func spawn(path, name string, args []string) (*proc, error) {
	p := &proc{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = sysProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the process: SIGCONT (in case a test stopped it), SIGTERM, and SIGKILL if it is still
// running after grace. It waits until the process is gone.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9() error {
	if err := p.cmd.Process.Kill(); err != nil && !p.exited() {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) still running 10 s after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// logged reports whether the process has logged a JSON line whose message contains msg.
func (p *proc) logged(msg string) bool {
	for _, line := range strings.Split(p.out.String(), "\n") {
		var rec struct {
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && strings.Contains(rec.Message, msg) {
			return true
		}
	}
	return false
}

// addrs returns the client, leafnode and HTTP URLs the process logged, "" for those not yet logged.
func (p *proc) addrs() (client, leaf, http string) { return testutil.DaemonAddrs(p.out.String()) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// hostPort returns the host:port of a URL.
func hostPort(t testing.TB, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		t.Fatalf("listener URL %q: %v", u, err)
	}
	return p.Host
}

// daemon is one FeDist daemon the test starts, kills, stops and restarts on the same store and the
// same ports: its listeners take free ports at the first start and keep them afterwards, the way an
// operator's fixed ports do, so that clients and child regions reconnect to a restarted process.
type daemon struct {
	bin, name string
	args      []string // every flag but the listeners, -store and -log-json
	store     string

	mu                 sync.Mutex // guards the fields below
	listen, leaf, http string     // host:port; "-1"/"0" ports until the first start
	clientURL, leafURL string
	httpURL            string
	p                  *proc
}

// newDaemon describes a daemon; bin is "fedist-root" or "fedist-node", args its region flags.
func newDaemon(t *testing.T, binName, name string, args ...string) *daemon {
	return &daemon{bin: binName, name: name, args: args, store: filepath.Join(t.TempDir(), "store"),
		listen: "127.0.0.1:-1", leaf: "127.0.0.1:-1", http: "127.0.0.1:0"}
}

// start runs the daemon and waits until it logs its listeners. The process is stopped when the
// test ends, and its log tail printed if the test failed.
func (d *daemon) start(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	args := append(slices.Clone(d.args), "-listen", d.listen, "-leaf-listen", d.leaf, "-http", d.http,
		"-store", d.store, "-log-json")
	d.mu.Unlock()
	p, err := spawn(bin(t, d.bin), d.name, args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop(15 * time.Second)
		if out := p.out.String(); crashed(out) {
			t.Errorf("CRASH: %s (pid %d):\n%s", p.name, p.cmd.Process.Pid, crashReport(out))
		}
		if t.Failed() {
			t.Logf("--- %s (pid %d) output:\n%s", p.name, p.cmd.Process.Pid, tail(p.out.String(), 30))
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, l, h := p.addrs()
		if c != "" && h != "" {
			d.mu.Lock()
			d.p, d.clientURL, d.leafURL, d.httpURL = p, c, l, h
			d.listen, d.http = hostPort(t, c), hostPort(t, h)
			if l != "" {
				d.leaf = hostPort(t, l)
			}
			d.mu.Unlock()
			return
		}
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("%s never logged its listeners (exited: %v, %v):\n%s", d.name, p.exited(), p.err, tail(p.out.String(), 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// proc returns the current process.
func (d *daemon) proc() *proc {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.p
}

// URL returns the client URL.
func (d *daemon) URL() string { d.mu.Lock(); defer d.mu.Unlock(); return d.clientURL }

// LeafURL returns the leafnode URL children dial.
func (d *daemon) LeafURL() string { d.mu.Lock(); defer d.mu.Unlock(); return d.leafURL }

// HTTP returns the monitoring URL.
func (d *daemon) HTTP() string { d.mu.Lock(); defer d.mu.Unlock(); return d.httpURL }

// kill9 kills the current process with SIGKILL and waits until it is gone.
func (d *daemon) kill9(t *testing.T) {
	t.Helper()
	if err := d.proc().kill9(); err != nil {
		t.Fatal(err)
	}
}

// signal sends sig (SIGSTOP, SIGCONT) to the current process.
func (d *daemon) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := d.proc().cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// crashed reports whether a daemon's output shows a Go panic or fatal error.
func crashed(out string) bool {
	return strings.Contains(out, "\npanic: ") || strings.HasPrefix(out, "panic: ") || strings.Contains(out, "fatal error: ")
}

// crashReport returns the part of a crashed daemon's output from the panic on (at most 60 lines),
// with the last log lines before it.
func crashReport(out string) string {
	i := strings.Index(out, "panic: ")
	if j := strings.Index(out, "fatal error: "); i < 0 || (j >= 0 && j < i) {
		i = j
	}
	if i < 0 {
		return tail(out, 20)
	}
	before := tail(out[:i], 5)
	lines := strings.Split(out[i:], "\n")
	if len(lines) > 60 {
		lines = lines[:60]
	}
	return before + "\n" + strings.Join(lines, "\n")
}
