package node

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuMeter reads the process's CPU time from /proc/self/stat (utime + stime, in clock ticks of
// 1/100 s on Linux) and turns two readings into the share of the CPUs used in between. Where /proc
// is missing it reports 0, so load then comes from queues and pending bytes only.
type cpuMeter struct {
	lastTicks int64
	lastAt    time.Time
	avg       float64 // smoothed share, see smoothed
}

// smoothed is share averaged over about five readings (an exponentially weighted mean, weight
// 0.2): one busy second does not make a node look loaded, and adverts do not follow every swing.
func (m *cpuMeter) smoothed(now time.Time, cpus int) float64 {
	m.avg = 0.8*m.avg + 0.2*m.share(now, cpus)
	return m.avg
}

func (m *cpuMeter) share(now time.Time, cpus int) float64 {
	ticks, ok := procTicks()
	if !ok || cpus < 1 {
		return 0
	}
	defer func() { m.lastTicks, m.lastAt = ticks, now }()
	if m.lastAt.IsZero() || !now.After(m.lastAt) {
		return 0
	}
	used := float64(ticks-m.lastTicks) / 100 // seconds of CPU
	return max(0, min(1, used/now.Sub(m.lastAt).Seconds()/float64(cpus)))
}

func procTicks() (int64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	// The command name (field 2) may hold spaces; fields after its closing parenthesis are fixed.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)  // utime, field 14
	st, err2 := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	return u + st, err1 == nil && err2 == nil
}
