package compose

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestCompose runs check.sh, which prints its progress and ends with PASS or FAIL.
func TestCompose(t *testing.T) {
	if os.Getenv("FEDIST_COMPOSE") != "1" {
		t.Skip("set FEDIST_COMPOSE=1 to run the docker compose check (needs Docker with Compose)")
	}
	// check.sh bounds each of its steps; this is a backstop below go test's default 10 min timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 9*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "check.sh")
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	// SIGTERM, not SIGKILL, so that check.sh's trap takes the federation down.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 2 * time.Minute
	if err := cmd.Run(); err != nil {
		t.Fatalf("check.sh: %v", err)
	}
}
