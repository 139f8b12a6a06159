package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedist/fedist/internal/testutil"
	"github.com/nats-io/nats.go"
)

// TestOverlayAsProcesses does what a new user does with separate daemons and plain NATS clients:
// a responder on B answers a lookup from A1, a subscriber on B counts one copy of each message
// published from root, A and A1, a subscription to B's subjects from A1 is refused, and requests to
// an unknown region or to an unserved lookup fail at once.
func TestOverlayAsProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons")
	}
	root, a, a1, b := startFourRegions(t)

	conn := func(url string, opts ...nats.Option) *nats.Conn { return testutil.ConnectRegion(t, url, opts...) }
	bc := conn(b.nats)
	if _, err := bc.Subscribe("fd.00b0.get.users.*", func(m *nats.Msg) { _ = m.Respond([]byte("alice")) }); err != nil {
		t.Fatal(err)
	}
	var counted atomic.Int64
	if _, err := bc.Subscribe("fd.00b0.events", func(*nats.Msg) { counted.Add(1) }); err != nil {
		t.Fatal(err)
	}
	if err := bc.Flush(); err != nil {
		t.Fatal(err)
	}
	a1c := conn(a1.nats)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		m, err := a1c.Request("fd.00b0.get.users.00b0000000000001", nil, time.Second)
		if err != nil {
			return err
		}
		if string(m.Data) != "alice" {
			return fmt.Errorf("got %q", m.Data)
		}
		return nil
	})
	for _, p := range []*proc{root, a, a1} {
		pc := conn(p.nats)
		if err := pc.Publish("fd.00b0.events", []byte(p.name)); err != nil {
			t.Fatal(err)
		}
		if err := pc.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := pc.Request("fd.00b0.get.users.00b0000000000001", nil, 5*time.Second); err != nil {
			t.Fatal(err) // behind the publish on the same path: the publish has arrived
		}
	}
	if got := counted.Load(); got != 3 {
		t.Fatalf("B counted %d messages, want exactly 3", got)
	}

	// Forbidden subscription: the normal NATS permissions error.
	errs := make(chan error, 1)
	fc := conn(a1.nats, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if _, err := fc.Subscribe("fd.00b0.events", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	_ = fc.Flush()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("forbidden subscription: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription to B's subjects from A1 was not refused")
	}

	// Fast failures.
	for _, subj := range []string{"fd.0bad.get.users.0bad000000000001", "fd.00b0.get.nobody.00b0000000000001", "fd.00b0.nobody-listens"} {
		start := time.Now()
		_, err := a1c.Request(subj, nil, 5*time.Second)
		if !errors.Is(err, nats.ErrNoResponders) {
			t.Fatalf("request %s: %v, want no responders", subj, err)
		}
		t.Logf("request %s: %v after %v", subj, err, time.Since(start))
	}

	// The same with the stock nats CLI, where it is installed.
	cli, err := exec.LookPath("nats")
	if err != nil {
		t.Log("nats CLI not on PATH; skipping the CLI half")
		return
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run("--server", a1.nats, "--inbox-prefix", "_INBOX.00a1", "req", "fd.00b0.get.users.00b0000000000002", "")
	if err != nil || !strings.Contains(out, "alice") {
		t.Fatalf("nats req from A1: %v\n%s", err, out)
	}
	out, err = run("--server", a1.nats, "--inbox-prefix", "_INBOX.00a1", "req", "--timeout", "3s", "fd.0bad.get.users.0bad000000000001", "")
	if !strings.Contains(strings.ToLower(out), "no responders") { // the CLI prints it and exits 0
		t.Fatalf("nats req to an unknown region: %v\n%s", err, out)
	}
	out, err = run("--server", a1.nats, "--inbox-prefix", "_INBOX.00a1", "kv", "get", "fedist-registry", "region.00b0", "--raw")
	if err != nil || !strings.Contains(out, `"status":"active"`) {
		t.Fatalf("nats kv get from A1: %v\n%s", err, out)
	}
}
