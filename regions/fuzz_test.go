package regions

import (
	"errors"
	"testing"
)

// FuzzParseRegion checks that a region has exactly one spelling: whatever parses formats back to the
// same text, and whatever fails wraps one of the two region errors.
func FuzzParseRegion(f *testing.F) {
	for _, s := range []string{"0001", "00a3", "ffff", "0000", "00A3", "a3", "000a3", "", "+0a3", "0x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRegion(s)
		if err != nil {
			if r != 0 || !(errors.Is(err, ErrBadRegion) || errors.Is(err, ErrReservedRegion)) {
				t.Fatalf("ParseRegion(%q) = %v, %v", s, r, err)
			}
			return
		}
		if !r.Valid() || r.String() != s {
			t.Fatalf("ParseRegion(%q) = %s (valid %v), does not round-trip", s, r, r.Valid())
		}
	})
}

// FuzzParseID checks the same for record IDs, and that a parsed ID is valid.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"00a300000000002a", "ffffffffffffffff", "0000000000000001", "00a3000000000000",
		"00A300000000002A", "00a30000000002a", "", "-00a30000000002a", "0x a300000000002a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if id != 0 || !(errors.Is(err, ErrBadID) || errors.Is(err, ErrReservedRegion) || errors.Is(err, ErrZeroSeq)) {
				t.Fatalf("ParseID(%q) = %v, %v", s, id, err)
			}
			return
		}
		if !id.Valid() || id.String() != s || NewID(id.Region(), id.Seq()) != id {
			t.Fatalf("ParseID(%q) = %s (valid %v), does not round-trip", s, id, id.Valid())
		}
	})
}
