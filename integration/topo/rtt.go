package topo

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// ErrRTT wraps every error in an RTT matrix file.
var ErrRTT = errors.New("rtt matrix")

// asymmetryWarn is the relative difference between the two directions of a pair above which
// ParseRTT records a warning. Measured RTT matrices often differ by a few percent both ways.
const asymmetryWarn = 0.10

// Matrix holds round-trip times in milliseconds between named regions. Unknown pairs are NaN. It is
// symmetric: RTT(a, b) == RTT(b, a).
type Matrix struct {
	names []string
	index map[string]int
	ms    [][]float64
	// Warnings lists oddities that did not stop parsing, e.g. asymmetric pairs.
	Warnings []string
}

// NewMatrix returns a matrix over names with every pair unknown.
func NewMatrix(names []string) (*Matrix, error) {
	m := &Matrix{names: append([]string(nil), names...), index: make(map[string]int, len(names))}
	for i, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%w: empty region name in column %d", ErrRTT, i+2)
		}
		if _, dup := m.index[n]; dup {
			return nil, fmt.Errorf("%w: region %q appears twice", ErrRTT, n)
		}
		m.index[n] = i
	}
	m.ms = make([][]float64, len(names))
	for i := range m.ms {
		m.ms[i] = make([]float64, len(names))
		for j := range m.ms[i] {
			if i != j {
				m.ms[i][j] = math.NaN()
			}
		}
	}
	return m, nil
}

// Set records the RTT between a and b in both directions.
func (m *Matrix) Set(a, b string, ms float64) error {
	i, ok1 := m.index[a]
	j, ok2 := m.index[b]
	switch {
	case !ok1 || !ok2:
		return fmt.Errorf("%w: set %s-%s: unknown region", ErrRTT, a, b)
	case ms < 0 || math.IsNaN(ms) || math.IsInf(ms, 0):
		return fmt.Errorf("%w: set %s-%s: RTT %v ms is not a finite non-negative number", ErrRTT, a, b, ms)
	}
	m.ms[i][j], m.ms[j][i] = ms, ms
	return nil
}

// Names returns the regions the matrix covers, in file order.
func (m *Matrix) Names() []string { return append([]string(nil), m.names...) }

// Has reports whether the matrix covers region name.
func (m *Matrix) Has(name string) bool { _, ok := m.index[name]; return ok }

// RTT returns the RTT between a and b in milliseconds, and false when it is unknown.
func (m *Matrix) RTT(a, b string) (float64, bool) {
	i, ok1 := m.index[a]
	j, ok2 := m.index[b]
	if !ok1 || !ok2 || math.IsNaN(m.ms[i][j]) {
		return 0, false
	}
	return m.ms[i][j], true
}

// LoadRTT reads an RTT matrix CSV file.
func LoadRTT(path string) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRTT, err)
	}
	defer f.Close()
	return ParseRTT(f, path)
}

// ParseRTT reads an RTT matrix CSV; file names the source in errors. Lines starting with # are
// comments.
func ParseRTT(r io.Reader, file string) (*Matrix, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked below, with a message that says what is wrong
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %s: empty file; want a header row of region names", ErrRTT, file)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrRTT, file, err)
	}
	if len(header) < 2 {
		return nil, fmt.Errorf("%w: %s:1: header has %d cells; want a corner cell and then region names", ErrRTT, file, len(header))
	}
	names := make([]string, len(header)-1)
	for i, h := range header[1:] {
		names[i] = strings.TrimSpace(h)
	}
	m, err := NewMatrix(names)
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", file, err)
	}
	raw := make([][]float64, len(names)) // as written, per row; NaN where absent
	for i := range raw {
		raw[i] = make([]float64, len(names))
		for j := range raw[i] {
			raw[i][j] = math.NaN()
		}
	}
	seen := make(map[string]int)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrRTT, file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%w: %s:%d: %d cells, but the header has %d", ErrRTT, file, line, len(rec), len(header))
		}
		name := strings.TrimSpace(rec[0])
		i, ok := m.index[name]
		if !ok {
			return nil, fmt.Errorf("%w: %s:%d: row %q names a region that is not in the header", ErrRTT, file, line, name)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%w: %s:%d: row %q already appeared on line %d", ErrRTT, file, line, name, prev)
		}
		seen[name] = line
		for j, cell := range rec[1:] {
			cell = strings.TrimSpace(cell)
			if cell == "" || i == j {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return nil, fmt.Errorf("%w: %s:%d: %s to %s: %q is not a non-negative number of milliseconds",
					ErrRTT, file, line, name, names[j], cell)
			}
			raw[i][j] = v
		}
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			a, b := raw[i][j], raw[j][i]
			switch {
			case math.IsNaN(a) && math.IsNaN(b):
				continue
			case math.IsNaN(a):
				a = b
			case math.IsNaN(b):
				b = a
			case math.Abs(a-b) > asymmetryWarn*math.Max(a, b):
				m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s-%s is %g ms one way and %g ms the other; using the mean",
					file, names[i], names[j], a, b))
			}
			m.ms[i][j] = (a + b) / 2
			m.ms[j][i] = m.ms[i][j]
		}
	}
	return m, nil
}
