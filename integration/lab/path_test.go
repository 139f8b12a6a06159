package lab

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestExpandPath(t *testing.T) {
	top := smallTopo(t) // root ← a ← a1, root ← b
	for _, tc := range []struct {
		from, to, header string
		want             string // names, "-" for a tree hop and "~" for a shortcut
	}{
		{"a1", "b", "", "a1-a-root-b"},                       // no relay: the tree
		{"b", "a1", "", "b-root-a-a1"},                       // down the other side
		{"a", "a1", "", "a-a1"},                              // one tree link
		{"a1", "b", "00a1:s,00b0:t", "a1~b"},                 // a1's relay over the shortcut, b's delivers
		{"a1", "b", "00a1:t", "a1-a-root-b"},                 // the relay sent it on the tree
		{"a", "b", "00a0:w,00a1:s,00b0:t", "a-a1~b"},         // waypoint a1
		{"root", "b", "0001:w,00a1:s,00b0:t", "root-a-a1~b"}, // a waypoint two tree links away
		{"b", "a", "00b0:s,00a1:t", "b~a1-a"},                // shortcut, then the tree
		{"root", "b", "00a1:s,00b0:t", "root-a-a1~b"},        // first relay not the sender's own
		{"a1", "b", "00a1:s", "a1~b"},                        // last step a shortcut: straight to b
		{"a", "b", "00a0:s,0001:s,00b0:t", "a~root~b"},       // two shortcuts in a row
		{"a1", "root", "00a1:s,00b0:w,0001:t", "a1~b-root"},  // b's relay sent it to root's over the tree; root's delivers
	} {
		t.Run(tc.from+"→"+tc.to+" "+tc.header, func(t *testing.T) {
			p, err := ExpandPath(top.Tree(), id(top, tc.from), id(top, tc.to), tc.header)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Shortcut) != len(p.Regions)-1 {
				t.Fatalf("%d regions, %d hop flags", len(p.Regions), len(p.Shortcut))
			}
			var b strings.Builder
			for i, r := range p.Regions {
				if i > 0 {
					b.WriteString(map[bool]string{false: "-", true: "~"}[p.Shortcut[i-1]])
				}
				b.WriteString(top.Name(r))
			}
			if b.String() != tc.want {
				t.Errorf("got %s, want %s", b.String(), tc.want)
			}
			if p.UsesShortcut() != strings.Contains(tc.want, "~") {
				t.Errorf("UsesShortcut = %v for %s", p.UsesShortcut(), tc.want)
			}
		})
	}
}

func TestExpandPathErrors(t *testing.T) {
	top := smallTopo(t)
	for _, h := range []string{"00a1", "00a1:x", "00a1:", "zz:s", "0000:t", "00a1:s,00a1:t", "00a1:s,,00b0:t", "0c0c:t"} {
		if _, err := ExpandPath(top.Tree(), id(top, "a1"), id(top, "b"), h); !errors.Is(err, ErrFdPath) {
			t.Errorf("%q: %v, want ErrFdPath", h, err)
		}
	}
}

func TestPathUses(t *testing.T) {
	top := smallTopo(t)
	p, err := ExpandPath(top.Tree(), id(top, "a"), id(top, "b"), "00a0:w,00a1:s,00b0:t")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Uses(id(top, "b"), id(top, "a1")) || !p.Uses(id(top, "a"), id(top, "a1")) || p.Uses(id(top, "a"), id(top, "root")) {
		t.Errorf("Uses on %v", p.Regions)
	}
	if got := p.IDs(); !slices.Equal(got, []string{"00a0", "00a1", "00b0"}) {
		t.Errorf("IDs = %v", got)
	}
}
