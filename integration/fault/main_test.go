package fault

import (
	"fmt"
	"os"
	"testing"

	"github.com/fedist/fedist/internal/testutil"
	"go.uber.org/goleak"
)

// TestMain removes the daemon binaries after the tests and checks that no goroutine of the tests
// (lookers, writers, clients, Zyx instances, proxies) outlived them.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(testutil.NATSLeakIgnores()...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}
