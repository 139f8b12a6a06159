package lab

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// Scenario names a scenario that runs on the FeDist federation after its timed lookups.
type Scenario string

// Scenarios.
const (
	// ScenarioFailover cuts links that FeDist's routes use and times the reroute and the return.
	ScenarioFailover Scenario = "failover"
	// ScenarioLoad slows the busiest intermediate relay down and watches whether routes avoid it.
	ScenarioLoad Scenario = "load"
)

// FailoverConfig tunes the failover scenario.
type FailoverConfig struct {
	// ShortcutPairs is how many pairs whose route crosses a shortcut get that shortcut's region
	// pair cut; TreePairs how many pairs whose route crosses a tree link with another path around
	// it (over shortcuts) get that tree link cut. Each cut link is cut once, one after the other.
	ShortcutPairs, TreePairs int
	// Every is how often each chosen pair sends a lookup, all through the scenario, without
	// waiting for the previous answer; RequestTimeout bounds one lookup.
	Every, RequestTimeout time.Duration
	// Settle is how long the chosen pairs send lookups before the cuts are planned again from the
	// routes of that moment: their traffic is far above the background's, and the engine may open
	// shortcuts for it. Before is how long lookups run before each cut (the path before is the one
	// the last second's answers agree on) and after the return (the path after).
	Settle, Before time.Duration
	// Hold is the least time a cut lasts; it lasts until the pair is rerouted, or RerouteTimeout.
	Hold, RerouteTimeout time.Duration
	// BackTimeout bounds the wait, after the heal, for the pair's path before the cut.
	BackTimeout time.Duration
	// Baseline repeats the tree-link cuts, held as long, on a plain-NATS federation.
	Baseline bool
}

// DefaultFailoverConfig returns the failover settings fedist-lab uses.
func DefaultFailoverConfig() FailoverConfig {
	return FailoverConfig{
		ShortcutPairs:  4,
		TreePairs:      2,
		Every:          20 * time.Millisecond, // the reroute is seen within 20 ms
		RequestTimeout: 5 * time.Second,       // above any path of the world matrix, below a reconnect
		Settle:         10 * time.Second,      // traffic rates settle in a few seconds, a new shortcut is measured in one more
		Before:         3 * time.Second,       // several of the engine's one-second decisions
		Hold:           5 * time.Second,       // the cut outlasts five of the engine's one-second decisions
		RerouteTimeout: 30 * time.Second,
		BackTimeout:    60 * time.Second, // a shortcut is reopened within seconds; adverts refresh every 10 s
		Baseline:       true,
	}
}

// Validate checks the config.
func (c *FailoverConfig) Validate() error {
	switch {
	case c.ShortcutPairs < 0 || c.TreePairs < 0 || c.ShortcutPairs+c.TreePairs == 0:
		return fmt.Errorf("%w: failover needs at least one pair (ShortcutPairs, TreePairs)", ErrConfig)
	case c.Every <= 0 || c.RequestTimeout <= 0 || c.Before <= 0 || c.Hold <= 0 || c.Settle < 0:
		return fmt.Errorf("%w: failover Every, RequestTimeout, Before and Hold must be positive, Settle not negative", ErrConfig)
	case c.RerouteTimeout < c.Hold || c.BackTimeout <= 0:
		return fmt.Errorf("%w: failover RerouteTimeout must be at least Hold, BackTimeout positive", ErrConfig)
	}
	return nil
}

// FailoverReport is failover.json.
type FailoverReport struct {
	Settings string         `json:"settings"`
	Pairs    []FailoverPair `json:"pairs"`
	Notes    []string       `json:"notes"`
}

// FailoverPair is one cut: the pair whose route crossed the cut link, and what its lookups saw.
type FailoverPair struct {
	From     string    `json:"from"`
	To       string    `json:"to"`
	FromID   string    `json:"from_id"`
	ToID     string    `json:"to_id"`
	CutKind  string    `json:"cut_kind"` // "shortcut" or "tree"
	Cut      [2]string `json:"cut"`      // region IDs
	CutNames [2]string `json:"cut_names"`
	CutMs    float64   `json:"cut_ms"` // how long the link stayed cut
	// Sent and Failed count the pair's lookups from the start of its Before window to the end.
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// RerouteMs is from the cut to the first answer on a path that does not cross the cut link;
	// BackMs from the heal to the first answer on the path before, or on one the router counts as
	// just as good: its RTT (the emulator's) within the switching margin of the path before's
	// (costs.Config SwitchRel and SwitchAbs), which hysteresis rightly does not leave. BackSame
	// says which. null: not seen in time.
	RerouteMs *float64 `json:"reroute_ms"`
	BackMs    *float64 `json:"back_ms"`
	BackSame  *bool    `json:"back_same_path"`
	// Paths are region IDs, with the Fd-Path header they come from (relays_*).
	PathBefore   []string `json:"path_before"`
	PathDuring   []string `json:"path_during"`
	PathAfter    []string `json:"path_after"`
	RelaysBefore string   `json:"relays_before"`
	RelaysDuring string   `json:"relays_during"`
	RelaysAfter  string   `json:"relays_after"`
	// NATS is the same tree-link cut on plain NATS (Baseline); null for shortcut cuts.
	NATS *NATSFailover `json:"nats"`

	pair   Pair
	cut    [2]regions.RegionID
	cutFor time.Duration
}

// NATSFailover is a tree-link cut on plain NATS, held as long as FeDist's.
type NATSFailover struct {
	Sent   int `json:"sent"`
	Failed int `json:"failed"`
	// RecoverMs is from the heal to the first answer; plain NATS has no other path while the cut
	// lasts.
	RecoverMs *float64 `json:"recover_ms"`
	// FirstDuringMs is from the cut to the first answer while the link was cut; null as expected.
	FirstDuringMs *float64 `json:"first_during_ms"`
}

// WriteJSON writes failover.json.
func (f *FailoverReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// failoverCut is one cut to make and the pairs whose path crosses the link.
type failoverCut struct {
	cut   [2]regions.RegionID
	kind  costs.Kind
	pairs []Pair
}

// linkGraph is the directed links the nodes measure as up: region → the regions it reaches.
type linkGraph map[regions.RegionID][]regions.RegionID

func newLinkGraph(snap []nodeLinks) linkGraph {
	g := linkGraph{}
	for _, nl := range snap {
		for _, l := range nl.Links {
			if l.Up && l.HasRTT && !slices.Contains(g[nl.Region], l.Peer) {
				g[nl.Region] = append(g[nl.Region], l.Peer)
			}
		}
	}
	return g
}

// reaches reports whether from reaches to without crossing the link between cut[0] and cut[1].
func (g linkGraph) reaches(from, to regions.RegionID, cut [2]regions.RegionID) bool {
	seen := map[regions.RegionID]bool{from: true}
	queue := []regions.RegionID{from}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if r == to {
			return true
		}
		for _, n := range g[r] {
			if seen[n] || r == cut[0] && n == cut[1] || r == cut[1] && n == cut[0] {
				continue
			}
			seen[n] = true
			queue = append(queue, n)
		}
	}
	return false
}

func samePair(a, b [2]regions.RegionID) bool {
	return a == b || a[0] == b[1] && a[1] == b[0]
}

// planFailover picks the cuts from the paths the engine routes the pairs on now (paths, see
// currentPaths). Tree cuts first, as the shortcut cuts leave redials held back: up to TreePairs
// pairs whose path crosses a tree link that is also on the pair's tree path (so plain NATS loses
// it too) and around which g still leads from sender to destination, those whose tree path is the
// shortest first, then the longest tree paths;
// pairs crossing the same tree link share its cut. Then shortcut cuts: up to ShortcutPairs pairs
// whose path crosses a shortcut, those whose FeDist lookups gained most over the tree first; each
// has the first shortcut of its path cut, and pairs whose first shortcut is the same link share
// one cut. No link is in two cuts, and none that skip reports (nil: none).
func planFailover(rows []*Row, paths map[[2]regions.RegionID]Path, tree *regions.Tree, g linkGraph, cfg *FailoverConfig, skip func([2]regions.RegionID) bool) []failoverCut {
	var out []failoverCut
	add := func(cut [2]regions.RegionID, kind costs.Kind, p Pair) bool {
		if skip != nil && skip(cut) {
			return false
		}
		for i := range out {
			if samePair(out[i].cut, cut) {
				if out[i].kind != kind {
					return false
				}
				out[i].pairs = append(out[i].pairs, p)
				return true
			}
		}
		out = append(out, failoverCut{cut: cut, kind: kind, pairs: []Pair{p}})
		return true
	}
	routed := slices.DeleteFunc(slices.Clone(rows), func(r *Row) bool { _, ok := paths[[2]regions.RegionID{r.From.ID, r.To.ID}]; return !ok })
	pathOf := func(r *Row) Path { return paths[[2]regions.RegionID{r.From.ID, r.To.ID}] }
	// Pairs whose tree path is the shortest first: the engine has no reason to move them off the
	// tree, not even for the traffic the scenario adds; then the longest tree paths.
	slices.SortStableFunc(routed, func(a, b *Row) int {
		return cmp.Or(-cmp.Compare(boolInt(a.treeShortest()), boolInt(b.treeShortest())), cmp.Compare(b.TreeMs, a.TreeMs))
	})
	n := 0
	for _, r := range routed {
		if n == cfg.TreePairs {
			break
		}
		p := pathOf(r)
		tp, err := tree.TreePath(r.From.ID, r.To.ID)
		if err != nil {
			continue
		}
		onTree := Path{Regions: tp}
		for i, sc := range p.Shortcut {
			cut := [2]regions.RegionID{p.Regions[i], p.Regions[i+1]}
			if sc || !onTree.Uses(cut[0], cut[1]) || !g.reaches(r.From.ID, r.To.ID, cut) {
				continue
			}
			if add(cut, costs.Tree, Pair{r.From, r.To}) {
				n++
				break
			}
		}
	}
	gain := func(r *Row) float64 {
		if v, ok := r.p50(fed.ModeFeDist); ok {
			return r.TreeMs - v
		}
		return r.TreeMs - r.OracleMs
	}
	slices.SortStableFunc(routed, func(a, b *Row) int { return cmp.Compare(gain(b), gain(a)) })
	n = 0
	for _, r := range routed {
		p := pathOf(r)
		if i := slices.Index(p.Shortcut, true); i >= 0 && n < cfg.ShortcutPairs {
			if add([2]regions.RegionID{p.Regions[i], p.Regions[i+1]}, costs.Shortcut, Pair{r.From, r.To}) {
				n++
			}
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
