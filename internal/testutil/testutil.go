// Package testutil holds the few helpers FeDist's tests share across packages.
package testutil

import (
	"testing"
	"time"
)

// CheckFor polls fn every step until it returns nil, and fails the test with fn's last error when
// total has passed. Use it instead of sleeping to wait for a condition.
func CheckFor(tb testing.TB, total, step time.Duration, fn func() error) {
	tb.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(step)
	}
}
