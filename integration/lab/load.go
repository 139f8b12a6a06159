package lab

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// LoadConfig tunes the load scenario.
type LoadConfig struct {
	// Slowdown is how long the slowed relay waits before handling each message
	// (overlay.Overlay.SetSlowdown), on every node of its region.
	Slowdown time.Duration
	// Every is how often each affected pair sends a lookup, without waiting for the previous
	// answer, so that a slow relay's queue grows as it would under an application's load;
	// RequestTimeout bounds one lookup.
	Every, RequestTimeout time.Duration
	// Settle is how long the affected pairs send lookups before the first phase, so that the
	// engine has adapted to their traffic. Window is how long lookups are timed in each phase:
	// before the slowdown, during it (once the engine reacted, or ReactTimeout passed) and after
	// it (once the pairs are back on their path before, or ReactTimeout passed).
	Settle, Window, ReactTimeout time.Duration
	// MaxPairs bounds the affected pairs that send lookups.
	MaxPairs int
}

// DefaultLoadConfig returns the load settings fedist-lab uses.
func DefaultLoadConfig() LoadConfig {
	return LoadConfig{
		Slowdown:       20 * time.Millisecond, // 50 msg/s at most: one pair at 50/s fills it, more overload it
		Every:          20 * time.Millisecond, // 50 lookups/s per pair
		RequestTimeout: 5 * time.Second,
		Settle:         10 * time.Second, // traffic rates settle in a few seconds, a new shortcut is measured in one more
		Window:         5 * time.Second,
		ReactTimeout:   30 * time.Second, // adverts go out within 0.5 s of a significant change; routes follow
		MaxPairs:       12,
	}
}

// Validate checks the config.
func (c *LoadConfig) Validate() error {
	if c.Slowdown <= 0 || c.Every <= 0 || c.RequestTimeout <= 0 || c.Window <= 0 || c.ReactTimeout <= 0 || c.MaxPairs < 1 || c.Settle < 0 {
		return fmt.Errorf("%w: load Slowdown, Every, RequestTimeout, Window, ReactTimeout and MaxPairs must be positive, Settle not negative", ErrConfig)
	}
	return nil
}

// LoadReport is load.json.
type LoadReport struct {
	Settings string `json:"settings"`
	Region   string `json:"region"` // the slowed region
	RegionID string `json:"region_id"`
	// Intermediate is true when Region was chosen as the relay between sender and destination on
	// the most routes of the engine's tables when the scenario began (PathsThrough); false when no
	// route had such a relay and the relay at the destination end of the most shortcuts was
	// chosen instead.
	Intermediate bool    `json:"intermediate"`
	PathsThrough int     `json:"paths_through"`
	SlowdownMs   float64 `json:"slowdown_ms"`
	// QueueMax is the most messages that waited in the slowed relays, polled every 100 ms.
	QueueMax int `json:"relay_queue_max"`
	// RoutedAround counts the affected pairs that left the slowed relay during the slowdown for a
	// path no shorter on the matrix: only the slowdown explains the move. Improved counts those
	// that left it for a shorter path, which the engine could have taken without the slowdown (a
	// shortcut opened meanwhile, for instance); they are not evidence of a reaction.
	RoutedAround int        `json:"routed_around"`
	Improved     int        `json:"moved_to_shorter"`
	Verdict      string     `json:"verdict"`
	Pairs        []LoadPair `json:"pairs"`
	Notes        []string   `json:"notes"`
}

// LoadPair is one affected pair: its lookups before, during and after the slowdown.
type LoadPair struct {
	From                  string    `json:"from"`
	To                    string    `json:"to"`
	FromID                string    `json:"from_id"`
	ToID                  string    `json:"to_id"`
	Before, During, After LoadPhase `json:"-"`
	// Moved says what its path did during the slowdown: "stayed" on the slowed relay, "detoured"
	// around it on a path no shorter on the matrix, "improved" to a shorter path that avoids it,
	// or "unanswered".
	Moved string `json:"moved"`
	// ReactMs is from the slowdown to the first answer that did not cross the slowed relay; BackMs
	// from its removal to the first answer on the path before. null: not seen in time.
	ReactMs *float64 `json:"react_ms"`
	BackMs  *float64 `json:"back_ms"`
}

// MarshalJSON writes the three phases under before, during and after.
func (p LoadPair) MarshalJSON() ([]byte, error) {
	type plain LoadPair
	return json.Marshal(struct {
		plain
		Before LoadPhase `json:"before"`
		During LoadPhase `json:"during"`
		After  LoadPhase `json:"after"`
	}{plain(p), p.Before, p.During, p.After})
}

// LoadPhase is a pair's lookups over one phase's window.
type LoadPhase struct {
	Path      []string `json:"path"`   // region IDs
	Relays    string   `json:"relays"` // the Fd-Path header it comes from
	PathRTTMs *float64 `json:"path_rtt_ms"`
	Share     float64  `json:"path_share"` // of the answers that took Path
	P50Ms     *float64 `json:"p50_ms"`
	P99Ms     *float64 `json:"p99_ms"`
	Sent      int      `json:"sent"`
	Failed    int      `json:"failed"`
}

// WriteJSON writes load.json.
func (l *LoadReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(l)
}

// busiestRelay returns the region whose relay sits between sender and destination on the most
// paths, with that count and intermediate=true. When no path has such a relay it counts the
// relays at the destination end of shortcuts instead, with intermediate=false. n is 0 when no
// path crosses any relay but its sender's.
func busiestRelay(paths map[[2]regions.RegionID]Path) (r regions.RegionID, n int, intermediate bool) {
	for _, inter := range []bool{true, false} {
		count := map[regions.RegionID]int{}
		for _, p := range paths {
			for _, x := range p.Relays(!inter) {
				count[x]++
			}
		}
		for _, x := range slices.Sorted(maps.Keys(count)) {
			if count[x] > n {
				r, n = x, count[x]
			}
		}
		if n > 0 {
			return r, n, inter
		}
	}
	return 0, 0, false
}

// affectedPairs returns up to limit pairs whose path has r's relay as busiestRelay counted it,
// the longest tree paths first (they have the most to lose).
func affectedPairs(top *topo.Topology, paths map[[2]regions.RegionID]Path, r regions.RegionID, intermediate bool, limit int) []Pair {
	var out []Pair
	for k, p := range paths {
		if slices.Contains(p.Relays(!intermediate), r) {
			from, _ := top.Region(k[0])
			to, _ := top.Region(k[1])
			out = append(out, Pair{from, to})
		}
	}
	tree := func(p Pair) float64 { ms, _ := top.TreeRTT(p.From.ID, p.To.ID); return ms }
	slices.SortFunc(out, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(tree(b), tree(a)), cmp.Compare(a.From.ID, b.From.ID), cmp.Compare(a.To.ID, b.To.ID))
	})
	return out[:min(len(out), limit)]
}

func phaseOf(top *topo.Topology, w windowStats, expand func(string) (Path, bool)) LoadPhase {
	ph := LoadPhase{Sent: w.Sent, Failed: w.Failed, Share: *num(w.Share)}
	if w.N > 0 {
		ph.P50Ms, ph.P99Ms = num(w.P50), num(w.P99)
	}
	if p, ok := expand(w.Header); ok && w.Answered {
		ph.Path, ph.Relays = p.IDs(), w.Header
		if rtt, err := pathRTT(top, p); err == nil {
			ph.PathRTTMs = num(rtt)
		}
	}
	return ph
}

// moved classifies what a pair's path did during the slowdown of relay r.
func moved(before, during LoadPhase, avoids func(string) bool) string {
	switch {
	case during.Path == nil:
		return "unanswered"
	case !avoids(during.Relays):
		return "stayed"
	case before.PathRTTMs != nil && during.PathRTTMs != nil && *during.PathRTTMs < *before.PathRTTMs-0.5:
		return "improved"
	}
	return "detoured"
}
