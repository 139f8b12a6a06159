package costs

import (
	"reflect"
	"testing"

	"github.com/fedist/fedist/regions"
)

// TestSelectFixed: a peer that opened a shortcut to me is already linked: it is not a candidate,
// its slot counts through Inbound, and Select never closes it.
func TestSelectFixed(t *testing.T) {
	cfg, in := selectBase()
	in.Inbound = 1
	in.Fixed = map[regions.RegionID]bool{3: true}
	sel := Select(&cfg, in)
	if want := []regions.RegionID{4}; !reflect.DeepEqual(sel.Open, want) || len(sel.Close) != 0 {
		t.Fatalf("select %+v, want open %v (0003 is fixed, one slot left of K=2) and no close", sel, want)
	}
}
