package topo

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseRTT checks that any CSV either fails with ErrRTT or gives a symmetric matrix of finite,
// non-negative values with zero on the diagonal.
func FuzzParseRTT(f *testing.F) {
	for _, s := range []string{smallCSV, "x,p,q\np,0,10\nq,14,0\n", "", "x\n", "x,p\np,abc\n", "x,p,p\n", "#c\nx,p\np,0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRTT(strings.NewReader(s), "f.csv")
		if err != nil {
			if m != nil || !strings.Contains(err.Error(), ErrRTT.Error()) {
				t.Fatalf("ParseRTT error %v with matrix %v", err, m)
			}
			return
		}
		for _, a := range m.Names() {
			for _, b := range m.Names() {
				v, ok := m.RTT(a, b)
				w, ok2 := m.RTT(b, a)
				if ok != ok2 || (ok && (v != w || v < 0 || math.IsInf(v, 0))) || (a == b && (!ok || v != 0)) {
					t.Fatalf("RTT(%q,%q) = %v,%v; reverse %v,%v", a, b, v, ok, w, ok2)
				}
			}
		}
	})
}
