package lab

import (
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/fedist/fedist/costs"
	"github.com/fedist/fedist/integration/fed"
	"github.com/fedist/fedist/integration/topo"
	"github.com/fedist/fedist/regions"
)

// LinkRecord is one directed link of one node, as the cost engine saw it at the end of the timed
// lookups, set beside the truth the emulator knows. It is one object of links.json.
type LinkRecord struct {
	From   string `json:"from"` // region names; the node is in From
	To     string `json:"to"`
	FromID string `json:"from_id"`
	ToID   string `json:"to_id"`
	Node   string `json:"node"` // the server name of the node that measures the link
	Kind   string `json:"kind"` // "tree" or "shortcut"
	Up     bool   `json:"up"`
	// RTTMs is the emulator's RTT of the region pair; EstRTTMs the engine's estimate (the least
	// delay in its window), null before the first sample.
	RTTMs    float64  `json:"rtt_ms"`
	EstRTTMs *float64 `json:"est_rtt_ms"`
	// OffsetTrueMs is how far To's clock is ahead of From's (skew[to] − skew[from]);
	// EstOffsetMs the engine's estimate, null before the first sample.
	OffsetTrueMs float64  `json:"offset_true_ms"`
	EstOffsetMs  *float64 `json:"est_offset_ms"`
	SetupMs      float64  `json:"setup_ms"` // connection setup beyond one RTT (shortcuts)
	Msgs         uint64   `json:"msgs"`     // messages carried, probes excluded
	Samples      uint64   `json:"samples"`  // timing samples piggy-backed on requests
	ProbesBusy   uint64   `json:"probes_busy"`
	ProbesIdle   uint64   `json:"probes_idle"`
	ProbesStall  uint64   `json:"probes_stall"` // outage checks after an unanswered timed request
}

// nodeLinks is one node's links as node.Node.Links returned them.
type nodeLinks struct {
	Region regions.RegionID
	Node   string
	Links  []costs.LinkStatus
}

// snapshotLinks reads every running node's links.
func snapshotLinks(f *fed.Federation) []nodeLinks {
	var out []nodeLinks
	for _, r := range f.Topology().Regions() {
		for _, n := range f.Nodes(r.ID) {
			out = append(out, nodeLinks{Region: r.ID, Node: n.Broker().Name(), Links: n.Links()})
		}
	}
	return out
}

// linkRecords sets the links that carried traffic or were measured beside the emulator's RTT
// (rtt) and the true clock offsets (skew).
func linkRecords(top *topo.Topology, rtt func(a, b regions.RegionID) (time.Duration, bool), skew map[regions.RegionID]time.Duration, snap []nodeLinks) []LinkRecord {
	var out []LinkRecord
	for _, nl := range snap {
		for _, l := range nl.Links {
			if !l.HasRTT && l.Msgs == 0 && l.Samples == 0 && l.ProbesBusy+l.ProbesIdle+l.ProbesStall == 0 {
				continue
			}
			emu, _ := rtt(nl.Region, l.Peer)
			rec := LinkRecord{
				From: top.Name(nl.Region), To: top.Name(l.Peer), FromID: nl.Region.String(), ToID: l.Peer.String(),
				Node: nl.Node, Kind: l.Kind.String(), Up: l.Up,
				RTTMs: ms(emu), OffsetTrueMs: ms(skew[l.Peer] - skew[nl.Region]), SetupMs: ms(l.Setup),
				Msgs: l.Msgs, Samples: l.Samples, ProbesBusy: l.ProbesBusy, ProbesIdle: l.ProbesIdle, ProbesStall: l.ProbesStall,
			}
			if l.HasRTT {
				rec.EstRTTMs, rec.EstOffsetMs = num(ms(l.RTT)), num(ms(l.Offset))
			}
			rec.RTTMs, rec.OffsetTrueMs, rec.SetupMs = *num(rec.RTTMs), *num(rec.OffsetTrueMs), *num(rec.SetupMs)
			out = append(out, rec)
		}
	}
	return out
}

// LinkSummary condenses links.json for the report.
type LinkSummary struct {
	Links    int `json:"links"`
	Measured int `json:"measured"`
	// RTTErrPct is the median of |est − true| / true over the measured links, in %; RTTBiasMs the
	// median of est − true, in ms (the servers and the emulator add to every round trip).
	RTTErrPct float64 `json:"median_rtt_error_pct"`
	RTTBiasMs float64 `json:"median_rtt_bias_ms"`
	// OffsetErrMs is the median |est − true| clock offset, in ms.
	OffsetErrMs float64 `json:"median_offset_error_ms"`
	ProbesBusy  uint64  `json:"probes_busy"`
	ProbesIdle  uint64  `json:"probes_idle"`
	ProbesStall uint64  `json:"probes_stall"`
	BusyLinks   int     `json:"busy_links"` // links that carried messages
}

func summarizeLinks(recs []LinkRecord) LinkSummary {
	s := LinkSummary{Links: len(recs)}
	var rttErr, bias, offErr []float64
	for _, l := range recs {
		s.ProbesBusy += l.ProbesBusy
		s.ProbesIdle += l.ProbesIdle
		s.ProbesStall += l.ProbesStall
		if l.Msgs > 0 {
			s.BusyLinks++
		}
		if l.EstRTTMs == nil {
			continue
		}
		s.Measured++
		if l.RTTMs > 0 {
			rttErr = append(rttErr, 100*math.Abs(*l.EstRTTMs-l.RTTMs)/l.RTTMs)
		}
		bias = append(bias, *l.EstRTTMs-l.RTTMs)
		offErr = append(offErr, math.Abs(*l.EstOffsetMs-l.OffsetTrueMs))
	}
	s.RTTErrPct, s.RTTBiasMs, s.OffsetErrMs = round3(median(rttErr)), round3(median(bias)), round3(median(offErr))
	return s
}

// WriteLinks writes links.json: a list of LinkRecord.
func (r *Report) WriteLinks(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.Links)
}

// RegionStats is one region's cost-engine figures over the timed lookups: an entry of the
// regions section of report.json.
type RegionStats struct {
	Region string   `json:"region"`
	ID     string   `json:"id"`
	Nodes  int      `json:"nodes"`
	Opened []string `json:"shortcuts_opened"` // peers of the shortcuts its nodes opened, at the end
	// Accepted counts the shortcuts other nodes opened to its nodes, and Held both, summed over
	// its nodes; HeldMaxNode is the most one node held (K bounds it).
	Accepted    int `json:"shortcuts_accepted"`
	Held        int `json:"shortcuts_held"`
	HeldMaxNode int `json:"shortcuts_held_max_node"`
	// HeldMaxSeen is the most one node held at any of the once-a-second polls while the lookups
	// were timed (or at the end).
	HeldMaxSeen int `json:"shortcuts_held_max_seen"`
	// ControlBytes is the cost engine's control traffic (adverts and probes, sent and received)
	// of its nodes during the timed lookups, and ControlBytesPerSec the same per second.
	ControlBytes       uint64  `json:"control_bytes"`
	ControlBytesPerSec float64 `json:"control_bytes_per_s"`
}

// controlBytes reads every node's control byte counter, by server name.
func controlBytes(f *fed.Federation) map[string]uint64 {
	out := map[string]uint64{}
	for _, r := range f.Topology().Regions() {
		for _, n := range f.Nodes(r.ID) {
			out[n.Broker().Name()] = n.ControlBytes()
		}
	}
	return out
}

// regionStats reads every region's shortcuts now and its control bytes since before, over took.
func regionStats(f *fed.Federation, before map[string]uint64, took time.Duration) []RegionStats {
	var out []RegionStats
	top := f.Topology()
	for _, r := range top.Regions() {
		s := RegionStats{Region: r.Name, ID: r.ID.String(), Opened: []string{}}
		for _, n := range f.Nodes(r.ID) {
			s.Nodes++
			sc := n.Shortcuts()
			for _, p := range sc.Opened {
				s.Opened = append(s.Opened, top.Name(p))
			}
			s.Accepted += sc.Accepted
			s.Held += len(sc.Opened) + sc.Accepted
			s.HeldMaxNode = max(s.HeldMaxNode, len(sc.Opened)+sc.Accepted)
			s.ControlBytes += n.ControlBytes() - before[n.Broker().Name()]
		}
		slices.Sort(s.Opened)
		if took > 0 {
			s.ControlBytesPerSec = *num(float64(s.ControlBytes) / took.Seconds())
		}
		out = append(out, s)
	}
	return out
}

// drawSkew gives every region a clock offset drawn uniformly from [−d, +d], rounded to the
// microsecond, from seed; nil when d is 0.
func drawSkew(top *topo.Topology, d time.Duration, seed int64) map[regions.RegionID]time.Duration {
	if d <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	out := map[regions.RegionID]time.Duration{}
	for _, r := range top.Regions() {
		out[r.ID] = (time.Duration(rng.Int64N(int64(2*d)+1)) - d).Round(time.Microsecond)
	}
	return out
}

// round3 rounds to three decimals, keeping NaN (no value) as it is.
func round3(x float64) float64 {
	if p := num(x); p != nil {
		return *p
	}
	return x
}
