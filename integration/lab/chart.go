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
// tree path is from the oracle, beside the tree path's own ratio; and each measured p50 against
// the tree path RTT, which shows whether the emulator is honest (points on the diagonal).
func (r *Report) WritePNG(w io.Writer) error {
	left, err := r.ratioPlot()
	if err != nil {
		return err
	}
	right, err := r.honestyPlot()
	if err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(30*vg.Centimeter, 13*vg.Centimeter), vgimg.UseDPI(110))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3,
		PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 5}
	cs := plot.Align([][]*plot.Plot{{left, right}}, tiles, dc)
	left.Draw(cs[0][0])
	right.Draw(cs[0][1])
	_, err = vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}

func (r *Report) title() string {
	if r.Topology == "" {
		return fmt.Sprintf("%d regions", r.regions())
	}
	return fmt.Sprintf("%s, %d regions", filepath.Base(r.Topology), r.regions())
}

func (r *Report) ratioPlot() (*plot.Plot, error) {
	rows := slices.Clone(r.Rows)
	rows = slices.DeleteFunc(rows, func(row *Row) bool { return row.OracleMs <= 0 })
	slices.SortStableFunc(rows, func(a, b *Row) int { return cmp.Compare(a.TreeMs/a.OracleMs, b.TreeMs/b.OracleMs) })
	p := plot.New()
	p.Title.Text = "Lookup RTT ÷ oracle, per ordered pair (" + r.title() + ")"
	p.X.Label.Text = fmt.Sprintf("pairs, sorted by tree path ÷ oracle (%d pairs)", len(rows))
	p.Y.Label.Text = "RTT ÷ shortest-path RTT (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = ratioTicks{}
	p.Add(plotter.NewGrid())
	legendInside(p)

	tree := make(plotter.XYs, len(rows))
	for i, row := range rows {
		tree[i] = plotter.XY{X: float64(i + 1), Y: row.TreeMs / row.OracleMs}
	}
	tl, err := plotter.NewLine(tree)
	if err != nil {
		return nil, err
	}
	tl.Color, tl.Width = colorTree, vg.Points(2)
	one, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 1}, {X: float64(len(rows) + 1), Y: 1}})
	if err != nil {
		return nil, err
	}
	one.Color, one.Dashes = colorOracle, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(tl, one)
	p.Legend.Add("tree path", tl)
	p.Legend.Add("oracle (= 1)", one)
	err = addModeScatters(p, r.Modes, rows, func(i int, row *Row, p50 float64) plotter.XY {
		return plotter.XY{X: float64(i + 1), Y: math.Max(p50/row.OracleMs, 0.5)}
	})
	if err != nil {
		return nil, err
	}
	p.X.Min = 0
	return p, nil
}

func (r *Report) honestyPlot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Measured lookup p50 against the tree path RTT"
	p.X.Label.Text = "tree path RTT from the matrix (ms)"
	p.Y.Label.Text = "measured p50 (ms)"
	p.Add(plotter.NewGrid())
	legendInside(p)
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	hi := 1.0
	for _, row := range r.Rows {
		hi = math.Max(hi, row.TreeMs)
	}
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: hi * 1.05, Y: hi * 1.05}})
	if err != nil {
		return nil, err
	}
	diag.Color, diag.Dashes = colorTree, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("measured = tree path", diag)
	err = addModeScatters(p, r.Modes, r.Rows, func(_ int, row *Row, p50 float64) plotter.XY {
		return plotter.XY{X: row.TreeMs, Y: p50}
	})
	if err != nil {
		return nil, err
	}
	p.X.Min, p.Y.Min = 0, 0
	return p, nil
}

// addModeScatters adds one scatter per mode, a point per row that has a p50 in that mode.
func addModeScatters(p *plot.Plot, modes []fed.Mode, rows []*Row, point func(i int, row *Row, p50 float64) plotter.XY) error {
	for _, m := range modes {
		var pts plotter.XYs
		for i, row := range rows {
			if v, ok := row.p50(m); ok {
				pts = append(pts, point(i, row, v))
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

// ratioTicks labels a log-scaled ratio axis at 1, 2, 5, 10, ... with minor ticks between.
type ratioTicks struct{}

func (ratioTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for dec := math.Pow(10, math.Floor(math.Log10(lo))); dec <= hi*10; dec *= 10 {
		for _, k := range []float64{1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9} {
			v := k * dec
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if k == 1 || k == 2 || k == 5 || k == 1.5 || k == 3 {
				t.Label = fmt.Sprintf("%g", v)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
