package costs

import (
	"math"
	"testing"
	"time"
)

// TestCost checks each term of the cost formula against the documented weights.
func TestCost(t *testing.T) {
	cfg := DefaultConfig()
	rtt := 40 * time.Millisecond
	for _, tc := range []struct {
		name string
		far  Load
		want float64
	}{
		{"idle", Load{}, 40},
		{"queue, service not measured", Load{RelayQueue: 100}, 40 + 100*cfg.QueueWeight},
		{"service time below the knee", Load{Service: 300}, 40},
		{"service time above the knee", Load{Service: 3000}, 40 + 3},
		{"each queued message waits its service", Load{Service: 20_000, RelayQueue: 10}, 40 + 20 + 20*10},
		{"fast relay: QueueWeight per queued message", Load{Service: 10, RelayQueue: 10}, 40 + cfg.QueueWeight*10},
		{"pending bytes", Load{PendingBytes: 3 << 20}, 40 + 3*cfg.PendingWeight},
		{"slow consumers", Load{SlowConsumers: 2}, 40 + 2*cfg.SlowWeight},
		{"CPU below the knee", Load{CPU: cfg.CPUKnee}, 40},
		{"CPU full", Load{CPU: 1}, 40 + cfg.CPUWeight},
		{"CPU above one core is one core", Load{CPU: 3}, 40 + cfg.CPUWeight},
		{"negative figures count as 0", Load{RelayQueue: -5, Service: -5, PendingBytes: -1, SlowConsumers: -1}, 40},
	} {
		if got := Cost(&cfg, rtt, tc.far); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: Cost = %v, want %v", tc.name, got, tc.want)
		}
	}
}
