package daemon

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestReadmeAgainstDemo runs the README's plain-text `nats` CLI lines (the sections on watching the
// registry and talking to other regions) as written, against the demo on its fixed ports, so the
// docs cannot drift from the code. It needs the stock nats CLI (.ci/run installs it) and the
// README's ports free; outside CI it skips when either is missing.
func TestReadmeAgainstDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	if _, err := exec.LookPath("nats"); err != nil {
		t.Skip("nats CLI not on PATH")
	}
	lines := readmeCLILines(t, "../../README.md")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	d, err := StartDemo(ctx, "", true, zerolog.Nop(), zerolog.Disabled)
	if err != nil {
		if os.Getenv("CI") == "" && strings.Contains(err.Error(), "is taken") {
			t.Skipf("README ports in use: %v", err)
		}
		t.Fatal(err)
	}
	defer d.Shutdown()

	// Long-running lines (reply, sub, kv watch) run in the background until the test ends.
	var bg []*cliRun
	for _, l := range lines {
		if l.long() {
			bg = append(bg, startCLI(t, ctx, l))
		}
	}
	// The short lines, in README order; a responder or subscriber started just before may need a
	// moment to be known across the tree, so each is retried until it succeeds or 20 s pass.
	want := map[string]string{"req": "alice", "kv get": `"status":"active"`}
	for _, l := range lines {
		if l.long() {
			continue
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := runCLI(ctx, l)
			ok := err == nil
			for verb, s := range want {
				if strings.Contains(l.text, " "+verb+" ") && !strings.Contains(out, s) {
					ok = false
				}
			}
			if ok && strings.Contains(l.text, " pub ") {
				ok = seenWithin(bg, " sub ", "hello", time.Second) // published before the sub was known: again
			}
			if ok {
				t.Logf("%s\n%s", l.text, firstLine(out))
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("README line %d: %s\n%v\n%s", l.n, l.text, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// What the background lines saw.
	expect := map[string]string{" sub ": "hello", " kv watch ": "region.00b0"}
	for _, r := range bg {
		for verb, s := range expect {
			if !strings.Contains(r.l.text, verb) {
				continue
			}
			checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
				if !strings.Contains(r.output(), s) {
					return &cliErr{r.l, r.output(), s}
				}
				return nil
			})
		}
	}
}

type readmeLine struct {
	n    int
	text string
	args []string
}

func (l readmeLine) long() bool {
	return strings.Contains(l.text, " reply ") || strings.Contains(l.text, " sub ") || strings.Contains(l.text, " kv watch ")
}

// readmeCLILines returns the README's `nats` lines that use plain (nats://) URLs: the ones the demo
// answers. TLS lines need certificates and belong to the Security section.
func readmeCLILines(t *testing.T, path string) []readmeLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []readmeLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(text, "nats --server nats://") {
			continue
		}
		if i := strings.Index(text, "  #"); i > 0 {
			text = strings.TrimSpace(text[:i])
		}
		args, err := shellWords(strings.TrimPrefix(text, "nats "))
		if err != nil {
			t.Fatalf("README line %d: %v", n, err)
		}
		out = append(out, readmeLine{n: n, text: text, args: args})
	}
	if len(out) < 6 {
		t.Fatalf("found %d nats CLI lines in %s, want the six of the registry and overlay sections", len(out), path)
	}
	return out
}

// shellWords splits a command line the way a shell would for the README's lines: spaces, and
// single-quoted words (which may be empty).
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, &cliErr{readmeLine{text: s}, "", "a closing quote"}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}

func runCLI(ctx context.Context, l readmeLine) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nats", l.args...).CombinedOutput()
	return string(out), err
}

// cliRun is a long-running CLI line and what it printed so far.
type cliRun struct {
	l   readmeLine
	mu  sync.Mutex // guards out
	out bytes.Buffer
}

func (r *cliRun) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.Write(p)
}

func (r *cliRun) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

func startCLI(t *testing.T, ctx context.Context, l readmeLine) *cliRun {
	r := &cliRun{l: l}
	cmd := exec.CommandContext(ctx, "nats", l.args...)
	cmd.Stdout, cmd.Stderr = r, r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return r
}

type cliErr struct {
	l    readmeLine
	out  string
	want string
}

func (e *cliErr) Error() string {
	return "README line " + e.l.text + ": want " + e.want + " in its output, have:\n" + e.out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// seenWithin reports whether a background line containing verb prints want within d.
func seenWithin(bg []*cliRun, verb, want string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		for _, r := range bg {
			if strings.Contains(r.l.text, verb) && strings.Contains(r.output(), want) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
