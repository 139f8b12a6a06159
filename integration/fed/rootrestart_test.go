package fed

import (
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

// TestRootRestartKeepsDownDetection: the root is killed and restarted on its store; then region B
// is killed. The root marks B down, and A1, two mirrors down the tree, sees it too: each mirror is
// fed by a durable consumer that survived the root's restart (node/mirror.go). With plain mirrors
// A1 saw it only after ~19 s (nats-server's 10 s mirror stall check). Times are logged, not
// asserted.
func TestRootRestartKeepsDownDetection(t *testing.T) {
	f := startFed(t, smallTopo(t), ModeFeDist)
	if err := f.Kill(rootID); err != nil {
		t.Fatal(err)
	}
	if err := f.Restart(ctxFor(t, 30*time.Second), rootID); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitConverged(ctxFor(t, 30*time.Second)); err != nil {
		t.Fatal(err)
	}
	// Every region reconnected: the root's reports name them all live again.
	checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		for _, r := range []regions.RegionID{aID, a1ID, bID} {
			if st := f.Nodes(r)[0].RegistryState(); st.Stale {
				return fmt.Errorf("%s: registry stale after the root's restart: %s", r, st.Reason)
			}
		}
		return nil
	})
	start := time.Now()
	if err := f.Kill(bID); err != nil {
		t.Fatal(err)
	}
	var atRoot time.Duration
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if st, _ := f.Nodes(rootID)[0].View().Status(bID); st == regions.StatusDown && atRoot == 0 {
			atRoot = time.Since(start)
		}
		if st, _ := f.Nodes(a1ID)[0].View().Status(bID); st != regions.StatusDown {
			return fmt.Errorf("A1 sees B %s", st)
		}
		return nil
	})
	t.Logf("after a root restart, B killed: down at the root after %v, in A1's mirror after %v", atRoot, time.Since(start))
}
