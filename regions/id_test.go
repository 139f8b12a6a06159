package regions

import (
	"errors"
	"testing"
)

func TestParseRegion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RegionID
		err  error
	}{
		{"0001", 1, nil},
		{"00a3", 0x00a3, nil},
		{"ffff", 0xffff, nil},
		{"1000", 0x1000, nil},
		{"0000", 0, ErrReservedRegion},
		{"00A3", 0, ErrBadRegion},
		{"FFFF", 0, ErrBadRegion},
		{"", 0, ErrBadRegion},
		{"a3", 0, ErrBadRegion},
		{"0a3", 0, ErrBadRegion},
		{"000a3", 0, ErrBadRegion},
		{"00g3", 0, ErrBadRegion},
		{"+0a3", 0, ErrBadRegion},
		{"0x01", 0, ErrBadRegion},
		{" 001", 0, ErrBadRegion},
		{"00a\u00e9"[:4], 0, ErrBadRegion},
	} {
		got, err := ParseRegion(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("ParseRegion(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("ParseRegion(%q).String() = %q, want the input", tc.in, got.String())
		}
	}
}

func TestRegionString(t *testing.T) {
	for _, tc := range []struct {
		r    RegionID
		want string
	}{
		{0, "0000"}, {1, "0001"}, {0xa3, "00a3"}, {0xbeef, "beef"}, {0xffff, "ffff"},
	} {
		if got := tc.r.String(); got != tc.want {
			t.Errorf("RegionID(%#x).String() = %q, want %q", uint16(tc.r), got, tc.want)
		}
		if got := tc.r.Valid(); got != (tc.r != 0) {
			t.Errorf("RegionID(%#x).Valid() = %v", uint16(tc.r), got)
		}
	}
}

func TestParseID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ID
		err  error
	}{
		{"00a300000000002a", NewID(0xa3, 0x2a), nil},
		{"0001000000000001", NewID(1, 1), nil},
		{"ffffffffffffffff", NewID(0xffff, MaxSeq), nil},
		{"0000000000000001", 0, ErrReservedRegion},
		{"00a3000000000000", 0, ErrZeroSeq},
		{"0000000000000000", 0, ErrReservedRegion},
		{"00A300000000002A", 0, ErrBadID},
		{"00a300000000002A", 0, ErrBadID},
		{"00a30000000002a", 0, ErrBadID},
		{"00a3000000000002a", 0, ErrBadID},
		{"", 0, ErrBadID},
		{"00a3-0000000002a", 0, ErrBadID},
		{"0x a300000000002a", 0, ErrBadID},
	} {
		got, err := ParseID(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("ParseID(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("ParseID(%q).String() = %q, want the input", tc.in, got.String())
		}
	}
}

func TestIDParts(t *testing.T) {
	for _, tc := range []struct {
		r     RegionID
		seq   uint64
		want  ID
		text  string
		valid bool
	}{
		{0xa3, 42, 0x00a3_0000_0000_002a, "00a300000000002a", true},
		{1, 1, 0x0001_0000_0000_0001, "0001000000000001", true},
		{0xffff, MaxSeq, 0xffff_ffff_ffff_ffff, "ffffffffffffffff", true},
		{1, 0, 0x0001_0000_0000_0000, "0001000000000000", false},
		{0, 5, 5, "0000000000000005", false},
		{2, MaxSeq + 1, 0x0002_0000_0000_0000, "0002000000000000", false}, // truncated to 48 bits
		{2, MaxSeq + 3, 0x0002_0000_0000_0002, "0002000000000002", true},
	} {
		id := NewID(tc.r, tc.seq)
		if id != tc.want || id.String() != tc.text || id.Valid() != tc.valid {
			t.Errorf("NewID(%s, %d) = %#x %q valid=%v; want %#x %q valid=%v",
				tc.r, tc.seq, uint64(id), id, id.Valid(), uint64(tc.want), tc.text, tc.valid)
		}
		if id.Region() != tc.r || id.Seq() != tc.seq&MaxSeq {
			t.Errorf("NewID(%s, %d): Region %s Seq %d", tc.r, tc.seq, id.Region(), id.Seq())
		}
	}
}

func TestFirstLastID(t *testing.T) {
	for _, tc := range []struct {
		r           RegionID
		first, last string
	}{
		{1, "0001000000000001", "0001ffffffffffff"},
		{0xa3, "00a3000000000001", "00a3ffffffffffff"},
		{0xffff, "ffff000000000001", "ffffffffffffffff"},
	} {
		first, last := tc.r.FirstID(), tc.r.LastID()
		if first.String() != tc.first || last.String() != tc.last {
			t.Errorf("%s: FirstID %s LastID %s, want %s %s", tc.r, first, last, tc.first, tc.last)
		}
		if first.Seq() != 1 || last.Seq() != MaxSeq || first.Region() != tc.r || last.Region() != tc.r {
			t.Errorf("%s: FirstID/LastID parts wrong: %d..%d", tc.r, first.Seq(), last.Seq())
		}
		// Just below FirstID is sequence 0, never handed out; just above LastID is the next region.
		if (first - 1).Valid() || (tc.r != 0xffff && (last+1).Region() != tc.r+1) {
			t.Errorf("%s: range leaks past FirstID/LastID", tc.r)
		}
	}
}
