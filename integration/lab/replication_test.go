package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/regions"
)

// TestReplicationScenarioSmall runs the replication scenario, a few seconds per phase, on the
// four-region topology with stores of 15 entries for 60 keys per reader, and checks that
// replication.json is well-formed and says what a working replication does: most repeat reads
// answered locally once warm, never a store over its budget, lag measured, no answer of the wrong
// record. It asserts no timing.
func TestReplicationScenarioSmall(t *testing.T) {
	cfg := DefaultConfig(smallTopo(t))
	cfg.Modes, cfg.Samples, cfg.Concurrency = []fed.Mode{fed.ModeFeDist}, 1, 4
	cfg.ThroughputPairs, cfg.ZeroDelayControl, cfg.RoutingWarmup, cfg.BackgroundEvery = 0, false, 0, 0
	cfg.Federation = fed.DefaultConfig
	cfg.Scenarios = []Scenario{ScenarioReplication}
	rc := &cfg.Replication
	rc.KeysPerRegion, rc.MaxEntries, rc.MaxBytes = 20, 16, 7000 // 15 entries of 456 B: bytes bind first
	rc.Every, rc.WritesPerSec, rc.WriteKeys = 20*time.Millisecond, 10, 4
	rc.Cold, rc.Warm, rc.Scan, rc.After, rc.SampleEvery = 3*time.Second, 3*time.Second, 1500*time.Millisecond, 3*time.Second, 250*time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Replication == nil {
		t.Fatalf("no replication report; notes: %v", rep.Notes)
	}
	dir := t.TempDir()
	if err := rep.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "replication.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatalf("replication.json: %v", err)
	}
	for _, k := range []string{"hit_ratio_warm", "hit_ratio_after_scan", "lag_p50_ms", "lag_p99_ms", "path_rtt_ms", "budget_exceeded", "stale_reads", "samples", "phases",
		"hot_p50_before_ms", "hot_p50_after_ms"} {
		if v, ok := fields[k]; !ok || string(v) == "null" {
			t.Errorf("replication.json: %s is %s", k, v)
		}
	}
	var got ReplicationReport
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("replication.json: %v", err)
	}
	t.Logf("%s", got.headline())
	for _, n := range got.Notes {
		t.Logf("note: %s", n)
	}
	if got.HitRatioWarm == nil || *got.HitRatioWarm <= 0.5 {
		t.Errorf("hit_ratio_warm %s, want above 0.5", ptrNum(got.HitRatioWarm))
	}
	if got.BudgetExceeded != 0 {
		t.Errorf("budget_exceeded %d, want 0", got.BudgetExceeded)
	}
	if got.LagSamples == 0 || got.Writes == 0 {
		t.Errorf("%d lag samples of %d writes, want some", got.LagSamples, got.Writes)
	}
	if got.WrongValues != 0 {
		t.Errorf("%d answers carried another record's value", got.WrongValues)
	}
	var phases []string
	for _, ph := range got.Phases {
		phases = append(phases, ph.Name)
		if ph.Reads == 0 {
			t.Errorf("phase %s: no reads", ph.Name)
		}
	}
	if !slices.Equal(phases, replPhases) {
		t.Errorf("phases %v, want %v", phases, replPhases)
	}
	if len(got.Samples) == 0 || len(got.Samples[0].Regions) != 4 || len(got.Readers) != 4 || len(got.Owners) != 4 {
		t.Errorf("%d samples (first of %d regions), %d readers, %d owners; want samples of 4 regions", len(got.Samples),
			len(got.Samples[0].Regions), len(got.Readers), len(got.Owners))
	}
	for _, s := range got.Samples {
		for _, sr := range s.Regions {
			if sr.MaxEntries != rc.MaxEntries || sr.MaxBytes != rc.MaxBytes {
				t.Fatalf("sample at %.1f s, %s: budget %d entries, %d B; want the scenario's %d, %d", s.TS, sr.Region, sr.MaxEntries, sr.MaxBytes, rc.MaxEntries, rc.MaxBytes)
			}
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil || !strings.Contains(string(md), "## Replication") {
		t.Errorf("report.md has no replication section (%v)", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "replication.png")); err != nil || st.Size() == 0 {
		t.Errorf("replication.png: %v", err)
	}
}

// TestReplValue: a value names its record and version, padded to the size asked.
func TestReplValue(t *testing.T) {
	id := regions.NewID(0x00a1, 42)
	for _, v := range []int{0, 7, 123456} {
		b := replValue(id, v, 64)
		got, gv, ok := parseReplValue(b)
		if len(b) != 64 || !ok || got != id || gv != v {
			t.Errorf("replValue(%s, %d) = %q: parsed %s %d %v", id, v, b, got, gv, ok)
		}
	}
	for _, bad := range []string{"", "x", "00a1000000000001:", "zz:1:x", "00a1000000000001:v:x"} {
		if _, _, ok := parseReplValue([]byte(bad)); ok {
			t.Errorf("parseReplValue(%q) ok", bad)
		}
	}
}
