package topo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/fedist/fedist/regions"
)

// ErrTopology wraps every error in a topology file or in the regions and links it describes.
var ErrTopology = errors.New("topology")

// fileSpec is the JSON shape of a topology file.
type fileSpec struct {
	Comment string          `json:"comment"` // free text for people; ignored
	Regions []regionSpec    `json:"regions"`
	RTTCSV  string          `json:"rtt_csv"`
	Links   json.RawMessage `json:"links"`
}

type regionSpec struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	Nodes  *int   `json:"nodes"`
}

// Load reads a topology file and the RTT CSV it names, and validates both.
func Load(path string) (*Topology, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTopology, err)
	}
	return Parse(data, path, LoadRTT)
}

// Parse reads a topology from data. file names the source: errors cite it, and a relative rtt_csv
// is resolved against its folder before loadRTT is called with it.
func Parse(data []byte, file string, loadRTT func(path string) (*Matrix, error)) (*Topology, error) {
	var spec fileSpec
	var warnings []string
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&spec); err != nil {
		if !strings.HasPrefix(err.Error(), "json: unknown field") {
			return nil, fmt.Errorf("%w: %s", ErrTopology, jsonErr(data, file, err))
		}
		// Extra keys (comments, future fields) are tolerated, but a typo like "node" should not go
		// unnoticed, so say so.
		warnings = append(warnings, fmt.Sprintf("%s: %v (ignored)", file, err))
		spec = fileSpec{}
		if err := json.Unmarshal(data, &spec); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrTopology, jsonErr(data, file, err))
		}
	}
	if spec.RTTCSV == "" {
		return nil, fmt.Errorf("%w: %s: rtt_csv is missing; name the CSV of round-trip times between the regions", ErrTopology, file)
	}
	csvPath := spec.RTTCSV
	if !filepath.IsAbs(csvPath) {
		csvPath = filepath.Join(filepath.Dir(file), csvPath)
	}
	m, err := loadRTT(csvPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: rtt_csv: %w", ErrTopology, file, err)
	}
	rs, err := parseRegions(spec.Regions, file)
	if err != nil {
		return nil, err
	}
	links, err := parseLinks(spec.Links, file)
	if err != nil {
		return nil, err
	}
	t, err := New(rs, m, links)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t.File = file
	t.Warnings = append(warnings, t.Warnings...)
	return t, nil
}

// parseRegions turns region specs into Regions. A parent may be given by ID or by name.
func parseRegions(specs []regionSpec, file string) ([]Region, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("%w: %s: no regions", ErrTopology, file)
	}
	byName := make(map[string]string, len(specs))
	for _, s := range specs {
		byName[s.Name] = s.ID
	}
	out := make([]Region, 0, len(specs))
	for i, s := range specs {
		where := fmt.Sprintf("%s: regions[%d] (%q)", file, i, s.Name)
		id, err := regions.ParseRegion(s.ID)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: id: %w", ErrTopology, where, err)
		}
		r := Region{ID: id, Name: s.Name, Nodes: 1}
		if s.Nodes != nil {
			r.Nodes = *s.Nodes
		}
		if s.Parent != "" {
			p, err := regions.ParseRegion(s.Parent)
			if err != nil {
				pid, ok := byName[s.Parent]
				if !ok {
					return nil, fmt.Errorf("%w: %s: parent %q is neither a region ID nor the name of a region in the file",
						ErrTopology, where, s.Parent)
				}
				if p, err = regions.ParseRegion(pid); err != nil {
					return nil, fmt.Errorf("%w: %s: parent %q has a bad id: %w", ErrTopology, where, s.Parent, err)
				}
			}
			r.Parent = p
		}
		out = append(out, r)
	}
	return out, nil
}

// parseLinks reads the links field: absent or "all", "tree", or a list of name pairs.
func parseLinks(raw json.RawMessage, file string) (*Links, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return &Links{All: true}, nil
	}
	var word string
	if err := json.Unmarshal(raw, &word); err == nil {
		switch word {
		case "all":
			return &Links{All: true}, nil
		case "tree":
			return &Links{}, nil
		}
		return nil, fmt.Errorf("%w: %s: links %q: want \"all\", \"tree\" or a list of name pairs like [[\"a\",\"b\"]]",
			ErrTopology, file, word)
	}
	var pairs [][]string
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return nil, fmt.Errorf("%w: %s: links: want \"all\", \"tree\" or a list of name pairs like [[\"a\",\"b\"]]: %v",
			ErrTopology, file, err)
	}
	l := &Links{}
	for i, p := range pairs {
		if len(p) != 2 {
			return nil, fmt.Errorf("%w: %s: links[%d] has %d names; want a pair", ErrTopology, file, i, len(p))
		}
		l.Pairs = append(l.Pairs, [2]string{p[0], p[1]})
	}
	return l, nil
}

// jsonErr adds file:line to a JSON decoding error when it carries an offset.
func jsonErr(data []byte, file string, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 {
		return fmt.Sprintf("%s: %v", file, err)
	}
	line := 1 + bytes.Count(data[:min(int(off), len(data))], []byte("\n"))
	return fmt.Sprintf("%s:%d: %v", file, line, err)
}
