package client

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerInClient: an application that links the client must not compile in nats-server.
func TestNoServerInClient(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "nats-server") || dep == "github.com/fedist/fedist/broker" {
			t.Fatalf("package client depends on %s", dep)
		}
	}
}
