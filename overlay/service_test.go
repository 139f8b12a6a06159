package overlay

import (
	"testing"
	"time"
)

// TestServiceMeter: one message in serviceSample is timed, and the mean follows what they took.
func TestServiceMeter(t *testing.T) {
	var s serviceMeter
	if d, at := s.read(); d != 0 || !at.IsZero() {
		t.Fatalf("fresh meter reads %v at %v", d, at)
	}
	timed := 0
	for range 4 * serviceSample {
		if start, ok := s.begin(); ok {
			timed++
			s.end(start.Add(-10 * time.Millisecond)) // as if it had taken 10 ms
		}
	}
	if timed != 4 {
		t.Fatalf("%d of %d messages timed, want 4", timed, 4*serviceSample)
	}
	d, at := s.read()
	if d < 10*time.Millisecond || d > 11*time.Millisecond || time.Since(at) > time.Second {
		t.Fatalf("mean %v at %v, want about 10 ms just now", d, at)
	}
}
