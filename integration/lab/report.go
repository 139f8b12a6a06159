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

	index map[[2]regions.RegionID]int
}

// Row is one ordered pair: its references and what each mode measured.
type Row struct {
	From, To             topo.Region
	OracleMs, TreeMs     float64
	OraclePath, TreePath []string
	Lookup               map[fed.Mode]*LookupResult     // absent for a mode not run
	Control              map[fed.Mode]*LookupResult     // the same lookups with every link at 0 ms; absent if not run
	Throughput           map[fed.Mode]*ThroughputResult // present only for sampled pairs
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
	return j
}

// WriteJSON writes the rows as a JSON list.
func (r *Report) WriteJSON(w io.Writer) error {
	out := make([]jsonRow, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = row.json()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteFiles writes report.md, report.json and report.png into dir, creating it.
func (r *Report) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for name, write := range map[string]func(io.Writer) error{
		"report.md": r.WriteMarkdown, "report.json": r.WriteJSON, "report.png": r.WritePNG,
	} {
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
