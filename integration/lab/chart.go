package lab

import (
	"cmp"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/fedist/fedist/integration/fed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

var (
	colorTree   = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	colorOracle = color.RGBA{A: 255}
	modeStyle   = map[fed.Mode]struct {
		color color.RGBA
		shape draw.GlyphDrawer
	}{
		// A ring and a cross stay readable where the two systems' points coincide.
		fed.ModeNATS:   {color.RGBA{R: 31, G: 119, B: 180, A: 255}, draw.RingGlyph{}},
		fed.ModeFeDist: {color.RGBA{R: 230, G: 85, B: 13, A: 255}, draw.CrossGlyph{}},
	}
)

// WritePNG draws two panels: each pair's lookup p50 divided by the oracle, sorted by how far the
// tree path is from the oracle, beside the tree path's own ratio, with the worst pairs named; and
// each measured p50 against the RTT of the path it took (the tree path, or FeDist's), which shows
// whether the emulator is honest (points on the diagonal). Both panels' axes leave room around the
// points.
func (r *Report) WritePNG(w io.Writer) error {
	left, err := r.ratioPlot()
	if err != nil {
		return err
	}
	right, err := r.honestyPlot()
	if err != nil {
		return err
	}
	return writePanels(w, left, right)
}

// writePanels draws two plots side by side, aligned, as a PNG.
func writePanels(w io.Writer, left, right *plot.Plot) error {
	img := vgimg.NewWith(vgimg.UseWH(30*vg.Centimeter, 13*vg.Centimeter), vgimg.UseDPI(110))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3,
		PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	cs := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(cs[0][0])
	right.Draw(cs[0][1])
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func (r *Report) title() string {
	if r.Topology == "" {
		return fmt.Sprintf("%d regions", r.regions())
	}
	return fmt.Sprintf("%s, %d regions", filepath.Base(r.Topology), r.regions())
}

// ratioRows are the rows in the ratio chart's order, tree path ÷ oracle rising; rows[i] is at x = i+1.
func (r *Report) ratioRows() []*Row {
	rows := slices.Clone(r.Rows)
	rows = slices.DeleteFunc(rows, func(row *Row) bool { return row.OracleMs <= 0 })
	slices.SortStableFunc(rows, func(a, b *Row) int { return cmp.Compare(a.TreeMs/a.OracleMs, b.TreeMs/b.OracleMs) })
	return rows
}

// ratioPlot draws log10 of each ratio on a linear axis whose ticks are labelled with the ratios.
// (A plot.LogScale axis would do the same, but gonum lays out its label as if it were linear,
// which pushes the data area down under the legend.)
func (r *Report) ratioPlot() (*plot.Plot, error) {
	rows := r.ratioRows()
	p := plot.New()
	p.Title.Text = "Lookup RTT ÷ oracle, per ordered pair (" + r.title() + ")"
	p.X.Label.Text = fmt.Sprintf("pairs, sorted by tree path ÷ oracle (%d pairs)", len(rows))
	p.Y.Label.Text = "RTT ÷ shortest-path RTT (log scale)"
	p.Y.Tick.Marker = ratioTicks{}
	p.Add(plotter.NewGrid())
	legendInside(p)

	tree := make(plotter.XYs, len(rows))
	for i, row := range rows {
		tree[i] = plotter.XY{X: float64(i + 1), Y: math.Log10(row.TreeMs / row.OracleMs)}
	}
	tl, err := plotter.NewLine(tree)
	if err != nil {
		return nil, err
	}
	tl.Color, tl.Width = colorTree, vg.Points(2)
	one, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: float64(len(rows) + 1), Y: 0}})
	if err != nil {
		return nil, err
	}
	one.Color, one.Dashes = colorOracle, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(tl, one)
	p.Legend.Add("tree path", tl)
	p.Legend.Add("oracle (= 1)", one)
	err = addModeScatters(p, r.Modes, rows, func(_ fed.Mode, i int, row *Row, p50 float64) plotter.XY {
		return plotter.XY{X: float64(i + 1), Y: math.Log10(math.Max(p50/row.OracleMs, 0.5))}
	})
	if err != nil {
		return nil, err
	}
	p.X.Min, p.X.Max = 0, float64(len(rows)+1)
	p.Y.Min, p.Y.Max = pad(p.Y.Min, p.Y.Max, axisPad)
	// Name the worst pairs: left of a point in the right half, right of one in the left half, so
	// that no name runs off the plot area.
	names := worstLabels(rows, r.Modes, worstLabelled, (p.Y.Max-p.Y.Min)*labelGap)
	var leftOf, rightOf plotter.XYLabels
	for i, xy := range names.XYs {
		side := &rightOf
		if xy.X > float64(len(rows)+1)/2 {
			side = &leftOf
		}
		side.XYs, side.Labels = append(side.XYs, xy), append(side.Labels, names.Labels[i])
	}
	ymin, ymax := p.Y.Min, p.Y.Max
	for _, side := range []struct {
		names plotter.XYLabels
		align draw.XAlignment
		dx    vg.Length
	}{{leftOf, draw.XRight, -vg.Points(5)}, {rightOf, draw.XLeft, vg.Points(5)}} {
		if len(side.names.XYs) == 0 {
			continue
		}
		l, err := plotter.NewLabels(side.names)
		if err != nil {
			return nil, err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = side.align, draw.YCenter
		}
		l.Offset = vg.Point{X: side.dx}
		p.Add(l)
	}
	p.Y.Min, p.Y.Max = math.Min(ymin, p.Y.Min), math.Max(ymax, p.Y.Max)
	return p, nil
}

const (
	// axisPad widens each data range by this fraction of its span (of its decades on a log axis),
	// so points at the ends are drawn inside the plot area, not on its frame.
	axisPad = 0.06
	// worstLabelled is how many pairs of regions the ratio chart names.
	worstLabelled = 5
	// labelGap is the least vertical distance between two names, as a fraction of the axis: about
	// one line of 10 pt text on the 13 cm chart.
	labelGap = 0.045
)

// pad widens [lo, hi] by frac of its span at each end, and by at least 0.01.
func pad(lo, hi, frac float64) (float64, float64) {
	d := math.Max(frac*(hi-lo), 0.01)
	return lo - d, hi + d
}

// padUp raises hi by frac of the span from lo; a chart that starts at 0 needs no room below.
func padUp(lo, hi, frac float64) float64 { return hi + math.Max(frac*(hi-lo), 0.01) }

// worstLabels names the n pairs of regions drawn highest by ratioPlot, where rows[i] is at
// x = i+1 and y = log10 of its ratio: those with the largest p50 ÷ oracle in any mode (the tree
// path's ratio if no mode was measured). The two directions of a pair count once, named "a ↔ b" at
// the left one of their points. Names are placed at their point's height, moved down where needed
// to keep gap (in decades) between one name and the next, highest first.
func worstLabels(rows []*Row, modes []fed.Mode, n int, gap float64) plotter.XYLabels {
	type named struct {
		x, y     float64
		from, to string
		both     bool
	}
	byPair := map[[2]string]*named{}
	var order []*named
	for i, row := range rows {
		y, measured := 0.0, false
		for _, m := range modes {
			if v, ok := row.p50(m); ok {
				y, measured = math.Max(y, v/row.OracleMs), true
			}
		}
		if !measured {
			y = row.TreeMs / row.OracleMs
		}
		k := [2]string{min(row.From.Name, row.To.Name), max(row.From.Name, row.To.Name)}
		if p := byPair[k]; p != nil {
			p.both, p.y = true, math.Max(p.y, y)
			continue
		}
		byPair[k] = &named{x: float64(i + 1), y: y, from: row.From.Name, to: row.To.Name}
		order = append(order, byPair[k])
	}
	slices.SortStableFunc(order, func(a, b *named) int { return cmp.Compare(b.y, a.y) })
	order = order[:min(n, len(order))]
	var out plotter.XYLabels
	for i, p := range order {
		y := math.Log10(p.y)
		if i > 0 {
			y = math.Min(y, out.XYs[i-1].Y-gap)
		}
		arrow := " → "
		if p.both {
			arrow = " ↔ "
		}
		out.XYs = append(out.XYs, plotter.XY{X: p.x, Y: y})
		out.Labels = append(out.Labels, p.from+arrow+p.to)
	}
	return out
}

func (r *Report) honestyPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Measured lookup p50 against the RTT of the path taken"
	p.X.Label.Text = "RTT of the path taken, from the matrix (ms): tree path, or fedist's"
	p.Y.Label.Text = "measured p50 (ms)"
	p.Add(plotter.NewGrid())
	legendInside(p)
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	hi := 1.0
	for _, row := range r.Rows {
		hi = math.Max(hi, row.TreeMs)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: hi, Y: hi}}) // extended below to the padded axes
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Dashes = colorTree, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("measured = path RTT", diag)
	err = addModeScatters(p, r.Modes, r.Rows, func(m fed.Mode, _ int, row *Row, p50 float64) plotter.XY {
		if m == fed.ModeFeDist && row.Route != nil {
			return plotter.XY{X: row.Route.RTTMs, Y: p50}
		}
		return plotter.XY{X: row.TreeMs, Y: p50}
	})
	if err != nil {
		return nil, err
	}
	p.X.Min, p.Y.Min = 0, 0
	p.X.Max, p.Y.Max = padUp(0, p.X.Max, axisPad), padUp(0, p.Y.Max, axisPad)
	end := math.Min(p.X.Max, p.Y.Max)
	diag.XYs[1] = plotter.XY{X: end, Y: end}
	return p, nil
}

// addModeScatters adds one scatter per mode, a point per row that has a p50 in that mode.
func addModeScatters(p *plot.Plot, modes []fed.Mode, rows []*Row, point func(m fed.Mode, i int, row *Row, p50 float64) plotter.XY) error {
	for _, m := range modes {
		var pts plotter.XYs
		for i, row := range rows {
			if v, ok := row.p50(m); ok {
				pts = append(pts, point(m, i, row, v))
			}
		}
		if len(pts) == 0 {
			continue
		}
		s, err := modeScatter(m, pts)
		if err != nil {
			return err
		}
		p.Add(s)
		p.Legend.Add(string(m)+" p50", s)
	}
	return nil
}

func modeScatter(m fed.Mode, pts plotter.XYs) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	st := modeStyle[m]
	s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = st.color, st.shape, vg.Points(3.5)
	return s, nil
}

// legendInside puts the legend in the top left corner of the data area, clear of the title.
func legendInside(p *plot.Plot) {
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Millimeter*3, -vg.Millimeter*3
	p.Legend.Padding = vg.Millimeter
}

// plainTicks are the default ticks with labels like 250 rather than 250.00.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// ratioTicks marks an axis of log10(ratio) at the ratios 1, 1.5, 2, 3, 5, 10, ... (labelled) and
// at the other integer multiples of each power of ten.
type ratioTicks struct{}

func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for e := math.Floor(lo); e <= math.Ceil(hi); e++ {
		dec := math.Pow(10, e)
		for _, k := range []float64{1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9} {
			v := math.Log10(k * dec)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 || k == 2 || k == 5 || k == 1.5 || k == 3 {
				t.Label = strconv.FormatFloat(k*dec, 'g', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
