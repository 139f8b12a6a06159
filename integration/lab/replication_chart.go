package lab

import (
	"fmt"
	"image/color"
	"io"
	"strings"

	"github.com/fedist/fedist/integration/fed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// WritePNG draws replication.png: left, the hit ratio over each sample interval, per region and
// over all, with the phases marked; right, the fullest store's bytes and entries as shares of
// the budget.
func (r *ReplicationReport) WritePNG(w io.Writer) error {
	left, err := r.hitPlot()
	if err != nil {
		return err
	}
	right, err := r.fillPlot()
	if err != nil {
		return err
	}
	return writePanels(w, left, right)
}

func (r *ReplicationReport) hitPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Replica hit ratio per %s interval (%d regions)", r.interval(), r.Regions)
	p.X.Label.Text = "seconds since the workload started"
	p.Y.Label.Text = "lookups answered by a replica ÷ lookups"
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Add(plotter.NewGrid())
	regions := 0
	if len(r.Samples) > 0 {
		regions = len(r.Samples[0].Regions)
	}
	for i := range regions {
		var xys plotter.XYs
		for _, s := range r.Samples {
			if i < len(s.Regions) && s.Regions[i].HitRatio != nil {
				xys = append(xys, plotter.XY{X: s.TS, Y: *s.Regions[i].HitRatio})
			}
		}
		if len(xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		c := color.RGBAModel.Convert(plotutil.Color(i)).(color.RGBA)
		c.A = 110
		l.Color, l.Width = c, vg.Points(0.8)
		p.Add(l)
	}
	var all plotter.XYs
	for _, s := range r.Samples {
		if s.HitRatio != nil {
			all = append(all, plotter.XY{X: s.TS, Y: *s.HitRatio})
		}
	}
	if len(all) > 0 {
		l, err := plotter.NewLine(all)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = colorOracle, vg.Points(2.2)
		p.Add(l)
		p.Legend.Add("all regions", l)
		if regions > 0 {
			thin, _ := plotter.NewLine(plotter.XYs{{}, {}})
			thin.Color, thin.Width = color.RGBA{R: 150, G: 150, B: 150, A: 255}, vg.Points(0.8)
			p.Legend.Add("one region each", thin)
		}
	}
	legendInside(p)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*3, vg.Millimeter*3
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1.12
	if err := r.addPhases(p, 1.06); err != nil {
		return nil, err
	}
	return p, nil
}

func (r *ReplicationReport) fillPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Fullest store against its budget (%d entries, %d B)", r.MaxEntries, r.MaxBytes)
	p.X.Label.Text = "seconds since the workload started"
	p.Y.Label.Text = "share of the node's budget"
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	p.Add(plotter.NewGrid())
	var bytes, entries plotter.XYs
	for _, s := range r.Samples {
		var b, e float64
		for _, sr := range s.Regions {
			if sr.MaxBytes > 0 {
				b = max(b, float64(sr.Bytes)/float64(sr.MaxBytes))
			}
			if sr.MaxEntries > 0 {
				e = max(e, float64(sr.Entries)/float64(sr.MaxEntries))
			}
		}
		bytes, entries = append(bytes, plotter.XY{X: s.TS, Y: b}), append(entries, plotter.XY{X: s.TS, Y: e})
	}
	for _, line := range []struct {
		name  string
		xys   plotter.XYs
		color color.RGBA
	}{{"bytes ÷ MaxBytes", bytes, modeStyle[fed.ModeNATS].color}, {"entries ÷ MaxEntries", entries, modeStyle[fed.ModeFeDist].color}} {
		if len(line.xys) == 0 {
			continue
		}
		l, err := plotter.NewLine(line.xys)
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = line.color, vg.Points(1.6)
		p.Add(l)
		p.Legend.Add(line.name, l)
	}
	legendInside(p)
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Millimeter*3, vg.Millimeter*3
	p.X.Min, p.Y.Min, p.Y.Max = 0, 0, 1.2
	if len(r.Samples) > 0 {
		budget, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: r.Samples[len(r.Samples)-1].TS, Y: 1}})
		if err != nil {
			return nil, err
		}
		budget.Color, budget.Dashes = colorOracle, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(budget)
		p.Legend.Add("budget", budget)
	}
	if err := r.addPhases(p, 1.13); err != nil {
		return nil, err
	}
	return p, nil
}

// addPhases draws a dashed line where each phase begins and its name at height y.
func (r *ReplicationReport) addPhases(p *plot.Plot, y float64) error {
	var names plotter.XYLabels
	for _, ph := range r.Phases {
		if ph.StartS > 0 {
			l, err := plotter.NewLine(plotter.XYs{{X: ph.StartS, Y: 0}, {X: ph.StartS, Y: p.Y.Max}})
			if err != nil {
				return err
			}
			l.Color, l.Dashes = colorTree, []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(l)
		}
		names.XYs = append(names.XYs, plotter.XY{X: (ph.StartS + ph.EndS) / 2, Y: y})
		names.Labels = append(names.Labels, ph.Name)
	}
	if len(names.XYs) == 0 {
		return nil
	}
	l, err := plotter.NewLabels(names)
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = draw.XCenter, draw.YCenter
	}
	p.Add(l)
	return nil
}

// interval names the sample interval from the samples' times.
func (r *ReplicationReport) interval() string {
	if len(r.Samples) < 2 {
		return "sample"
	}
	return fmt.Sprintf("%.1f s", r.Samples[1].TS-r.Samples[0].TS)
}

// writeReplication writes the replication section of report.md.
func (r *Report) writeReplication(b *strings.Builder) {
	x := r.Replication
	if x == nil {
		return
	}
	fmt.Fprintf(b, "\n## Replication\n\nFrom replication.json and replication.png, on a FeDist federation of its own. **%s.**\n\n%s.\n\n",
		upper(x.headline()), upper(x.Settings))
	fmt.Fprintf(b, "| phase | s | reads | failed | by replica | repeat reads by replica | p50 ms | hot p50 ms | hot via owner p50 ms | stale | behind | writes |\n")
	fmt.Fprintf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, ph := range x.Phases {
		fmt.Fprintf(b, "| %s | %.0f–%.0f | %d | %d | %s | %s | %s | %s | %s | %d | %d | %d |\n", ph.Name, ph.StartS, ph.EndS, ph.Reads, ph.Failed,
			ptrNum(ph.HitRatio), ptrNum(ph.RepeatHitRatio), ptrMs(ph.P50Ms), ptrMs(ph.HotP50Ms), ptrMs(ph.HotRemoteP50Ms), ph.Stale, ph.Behind, ph.Writes)
	}
	fmt.Fprintf(b, "\n*by replica* is the share of answered reads a replica in the reader's region gave; *repeat reads* counts only reads of a key "+
		"the region had read before (the summary's hit ratios). *hot*: the %d top ranks of each reader. *stale*: the answer was older than a version "+
		"committed more than StaleAfter (%.0f ms) plus the owner-reader tree RTT before the read; *behind*: older than a version committed before the read, within that bound.\n\n",
		x.HotRanks, x.StaleAfterMs)
	fmt.Fprintf(b, "| region | hit ratio warm | after scan | entries | bytes | admitted | evictions | refused (owner unheard) | gaps | owner lag p50 ms | p99 ms | pushes |\n")
	fmt.Fprintf(b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for i, rd := range x.Readers {
		var o ReplOwner
		if i < len(x.Owners) {
			o = x.Owners[i]
		}
		fmt.Fprintf(b, "| %s | %s | %s | %d/%d | %d/%d | %d | %d | %d | %d | %.1f | %.1f | %d |\n", rd.Region, ptrNum(rd.HitRatioWarm), ptrNum(rd.HitRatioAfterScan),
			rd.Entries, x.MaxEntries, rd.Bytes, x.MaxBytes, rd.Admitted, rd.Evictions, rd.Refused, rd.Gaps, o.LagP50Ms, o.LagP99Ms, o.Pushes)
	}
	fmt.Fprintf(b, "\nThe owner lag is measured by each owner node from a write's commit to the reader's acknowledgement, less half the push's round trip; "+
		"lag p50 above is the sample-weighted median of the owners' p50s, lag p99 the largest owner p99.\n")
	for _, n := range x.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
}
