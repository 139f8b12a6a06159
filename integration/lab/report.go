package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// Report is the outcome of a lab run: one row per ordered pair of regions.
type Report struct {
	Topology string // the topology file, if any
	Modes    []fed.Mode
	Started  time.Time
	Took     time.Duration
	Settings string
	StartUp  map[fed.Mode]time.Duration // from Start until every region was ready and converged
	Notes    []string                   // warnings and failures a reader must see
	Rows     []*Row

	// Concurrency is how many pairs were measured at once, and Procs the GOMAXPROCS they shared.
	Concurrency, Procs int

	// Skew is each region's clock offset in ModeFeDist (Config.Skew), drawn with SkewSeed.
	Skew         map[regions.RegionID]time.Duration
	SkewMax      time.Duration
	SkewSeed     int64
	Warmup       *WarmupResult // the routing warm-up of ModeFeDist, if it ran
	TimedTook    map[fed.Mode]time.Duration
	RouteChanges int                 // seconds with a route change while FeDist's lookups were timed
	Background   map[fed.Mode]counts // background lookups while lookups were timed
	Links        []LinkRecord        // links.json: FeDist's links at the end of its timed lookups
	Regions      []RegionStats       // FeDist's shortcuts and control traffic per region
	Failover     *FailoverReport     // failover.json, with -scenario failover
	Load         *LoadReport         // load.json, with -scenario load
	Replication  *ReplicationReport  // replication.json and replication.png, with -scenario replication

	index map[[2]regions.RegionID]int
	top   *topo.Topology // nil in a report not built by Run
}

// Row is one ordered pair: its references and what each mode measured.
type Row struct {
	From, To             topo.Region
	OracleMs, TreeMs     float64
	OraclePath, TreePath []string
	Lookup               map[fed.Mode]*LookupResult     // absent for a mode not run
	Control              map[fed.Mode]*LookupResult     // the same lookups with every link at 0 ms; absent if not run
	Throughput           map[fed.Mode]*ThroughputResult // present only for sampled pairs
	// Route is the path FeDist's timed lookups took most often, from their answers' Fd-Path; nil
	// when FeDist was not run or the pair not answered.
	Route *RouteTaken
}

// RouteTaken is the path most of a pair's FeDist lookups took.
type RouteTaken struct {
	Header string  // the Fd-Path header, "" for the tree with no relay
	Share  float64 // of the pair's answers that took it
	Path   Path
	Names  []string // Path's regions by name
	RTTMs  float64  // the matrix RTT of Path: the sum of its links' RTTs
}

// setRoute sets the row's Route from its FeDist lookups' paths, and returns an error for a header
// that cannot be read.
func (row *Row) setRoute(top *topo.Topology) error {
	l := row.Lookup[fed.ModeFeDist]
	if l == nil {
		return nil
	}
	h, share, ok := l.Path()
	if !ok {
		return nil
	}
	p, err := ExpandPath(top.Tree(), row.From.ID, row.To.ID, h)
	if err != nil {
		return err
	}
	rtt, err := pathRTT(top, p)
	if err != nil {
		return err
	}
	row.Route = &RouteTaken{Header: h, Share: share, Path: p, Names: names(top, p.Regions), RTTMs: rtt}
	return nil
}

func (r *Report) row(k [2]regions.RegionID) *Row { return r.Rows[r.index[k]] }

// ratio returns x/oracle, or NaN when there is no oracle to divide by.
func (row *Row) ratio(x float64) float64 {
	if row.OracleMs <= 0 {
		return math.NaN()
	}
	return x / row.OracleMs
}

// p50 returns the mode's lookup p50 in ms, and false when it was not measured.
func (row *Row) p50(m fed.Mode) (float64, bool) { return p50Of(row.Lookup[m]) }

// controlP50 returns the mode's lookup p50 with every link at 0 ms, and false when it was not measured.
func (row *Row) controlP50(m fed.Mode) (float64, bool) { return p50Of(row.Control[m]) }

func p50Of(l *LookupResult) (float64, bool) {
	if l == nil || l.N == 0 {
		return 0, false
	}
	return l.P50, true
}

// jsonRow is the machine-readable form of a Row. A pointer is null for a mode not run.
type jsonRow struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	FromID     string   `json:"from_id"`
	ToID       string   `json:"to_id"`
	OracleMs   float64  `json:"oracle_ms"`
	TreeMs     float64  `json:"tree_ms"`
	OraclePath []string `json:"oracle_path"`
	TreePath   []string `json:"tree_path"`

	NATSP50      *float64 `json:"nats_p50_ms"`
	NATSP99      *float64 `json:"nats_p99_ms"`
	FeDistP50    *float64 `json:"fedist_p50_ms"`
	FeDistP99    *float64 `json:"fedist_p99_ms"`
	NATSRatio    *float64 `json:"nats_p50_over_oracle"`
	NATSRatio99  *float64 `json:"nats_p99_over_oracle"`
	FeDistRatio  *float64 `json:"fedist_p50_over_oracle"`
	FeDist99     *float64 `json:"fedist_p99_over_oracle"`
	TreeRatio    *float64 `json:"tree_over_oracle"`
	NATSSamples  *int     `json:"nats_samples"`
	FeDistSample *int     `json:"fedist_samples"`
	NATSErrors   *int     `json:"nats_errors"`
	FeDistErrors *int     `json:"fedist_errors"`
	NATSMsgs     *float64 `json:"nats_msgs_per_s"`
	FeDistMsgs   *float64 `json:"fedist_msgs_per_s"`
	NATSZero     *float64 `json:"nats_zero_delay_p50_ms"`
	FeDistZero   *float64 `json:"fedist_zero_delay_p50_ms"`

	// The path FeDist's lookups took most often (region IDs and names), its Fd-Path header, the
	// share of the answers that took it, and whether it crossed a shortcut.
	FeDistPath      []string `json:"fedist_path"`
	FeDistPathNames []string `json:"fedist_path_names"`
	FeDistRelays    *string  `json:"fedist_relays"`
	FeDistPathShare *float64 `json:"fedist_path_share"`
	FeDistShortcut  *bool    `json:"fedist_shortcut"`
	FeDistPathRTT   *float64 `json:"fedist_path_rtt_ms"` // the matrix RTT of fedist_path
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	r := math.Round(x*1000) / 1000
	return &r
}

func (row *Row) json() jsonRow {
	j := jsonRow{
		From: row.From.Name, To: row.To.Name, FromID: row.From.ID.String(), ToID: row.To.ID.String(),
		OracleMs: *num(row.OracleMs), TreeMs: *num(row.TreeMs), OraclePath: row.OraclePath, TreePath: row.TreePath,
		TreeRatio: num(row.ratio(row.TreeMs)),
	}
	fill := func(m fed.Mode, p50, p99, ratio, ratio99 **float64, n, errs **int, msgs, zero **float64) {
		if l := row.Lookup[m]; l != nil {
			n0, e0 := l.N, l.Errors
			*n, *errs = &n0, &e0
			if l.N > 0 {
				*p50, *p99 = num(l.P50), num(l.P99)
				*ratio, *ratio99 = num(row.ratio(l.P50)), num(row.ratio(l.P99))
			}
		}
		if t := row.Throughput[m]; t != nil && t.Err == "" {
			*msgs = num(t.MsgsPerSec)
		}
		if v, ok := row.controlP50(m); ok {
			*zero = num(v)
		}
	}
	fill(fed.ModeNATS, &j.NATSP50, &j.NATSP99, &j.NATSRatio, &j.NATSRatio99, &j.NATSSamples, &j.NATSErrors, &j.NATSMsgs, &j.NATSZero)
	fill(fed.ModeFeDist, &j.FeDistP50, &j.FeDistP99, &j.FeDistRatio, &j.FeDist99, &j.FeDistSample, &j.FeDistErrors, &j.FeDistMsgs, &j.FeDistZero)
	if rt := row.Route; rt != nil {
		sc, h := rt.Path.UsesShortcut(), rt.Header
		j.FeDistPath, j.FeDistPathNames, j.FeDistRelays, j.FeDistPathShare, j.FeDistShortcut = rt.Path.IDs(), rt.Names, &h, num(rt.Share), &sc
		j.FeDistPathRTT = num(rt.RTTMs)
	}
	return j
}

// jsonReport is report.json.
type jsonReport struct {
	Topology string    `json:"topology"`
	Started  time.Time `json:"started"`
	TookS    float64   `json:"took_s"`
	Settings string    `json:"settings"`
	Notes    []string  `json:"notes"`
	// Skew is each region's clock offset in ms (by region name), null without -skew.
	Skew     map[string]float64 `json:"skew_ms"`
	SkewSeed *int64             `json:"skew_seed"`
	Warmup   *WarmupResult      `json:"routing_warmup"`
	// RouteChanges counts the seconds with a route change while FeDist's lookups were timed.
	RouteChanges *int          `json:"fedist_route_changes_timed"`
	Links        *LinkSummary  `json:"links_summary"`
	Regions      []RegionStats `json:"regions"`
	Pairs        []jsonRow     `json:"pairs"`
}

// WriteJSON writes report.json: the run's settings, the FeDist cost engine's figures (routing
// warm-up, links summary, regions) and one object per pair.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Topology: r.Topology, Started: r.Started, TookS: r.Took.Seconds(), Settings: r.Settings,
		Notes: r.Notes, Warmup: r.Warmup, Regions: r.Regions, Pairs: make([]jsonRow, len(r.Rows))}
	for i, row := range r.Rows {
		out.Pairs[i] = row.json()
	}
	if r.Skew != nil {
		out.Skew, out.SkewSeed = map[string]float64{}, &r.SkewSeed
		for id, d := range r.Skew {
			out.Skew[r.name(id)] = *num(ms(d))
		}
	}
	if _, ok := r.TimedTook[fed.ModeFeDist]; ok {
		out.RouteChanges = &r.RouteChanges
		s := summarizeLinks(r.Links)
		out.Links = &s
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// name returns a region's name from the rows, or its ID.
func (r *Report) name(id regions.RegionID) string {
	for _, row := range r.Rows {
		if row.From.ID == id {
			return row.From.Name
		}
	}
	return id.String()
}

// WriteFiles writes report.md, report.json and report.png into dir, creating it, and links.json,
// failover.json, load.json and replication.json with replication.png when the run has them.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	files := map[string]func(io.Writer) error{"report.md": r.WriteMarkdown, "report.json": r.WriteJSON, "report.png": r.WritePNG}
	if r.Links != nil {
		files["links.json"] = r.WriteLinks
	}
	if r.Failover != nil {
		files["failover.json"] = r.Failover.WriteJSON
	}
	if r.Load != nil {
		files["load.json"] = r.Load.WriteJSON
	}
	if r.Replication != nil {
		files["replication.json"], files["replication.png"] = r.Replication.WriteJSON, r.Replication.WritePNG
	}
	for name, write := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := write(f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// pathRTT returns the matrix RTT of a path: the sum of its links' RTTs.
func pathRTT(top *topo.Topology, p Path) (float64, error) {
	rtt := 0.0
	for i := 1; i < len(p.Regions); i++ {
		ms, ok := top.LinkRTT(p.Regions[i-1], p.Regions[i])
		if !ok {
			return 0, fmt.Errorf("path %v crosses %s-%s, which the topology allows no link between", names(top, p.Regions),
				top.Name(p.Regions[i-1]), top.Name(p.Regions[i]))
		}
		rtt += ms
	}
	return rtt, nil
}
