package regions

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// RegionID names a region. Zero is reserved and never valid.
type RegionID uint16

// ID is a record ID: the home region in the top 16 bits, a sequence in the low 48.
type ID uint64

const (
	// SeqBits is the width of the sequence part of a record ID.
	SeqBits = 48
	// MaxSeq is the largest sequence a region can hand out.
	MaxSeq = 1<<SeqBits - 1
	// DefaultRoot is the root region's ID unless configured otherwise.
	DefaultRoot RegionID = 1
)

var (
	// ErrReservedRegion is returned for region 0000.
	ErrReservedRegion = errors.New("region 0000 is reserved")
	// ErrBadRegion is returned for text that is not 4 lowercase hex digits.
	ErrBadRegion = errors.New("region ID must be 4 lowercase hex digits, e.g. 00a3")
	// ErrBadID is returned for text that is not 16 lowercase hex digits.
	ErrBadID = errors.New("record ID must be 16 lowercase hex digits, e.g. 00a300000000002a")
	// ErrZeroSeq is returned for a record ID whose sequence is 0; sequences start at 1.
	ErrZeroSeq = errors.New("record ID sequence 0 is never handed out")
)

// String formats the region as 4 lowercase hex digits.
func (r RegionID) String() string { return hex(uint64(r), 4) }

// Valid reports whether r may name a region.
func (r RegionID) Valid() bool { return r != 0 }

// FirstID returns the first valid record ID of region r (sequence 1).
func (r RegionID) FirstID() ID { return NewID(r, 1) }

// LastID returns the last valid record ID of region r (sequence MaxSeq).
func (r RegionID) LastID() ID { return NewID(r, MaxSeq) }

// NewID builds a record ID. seq is truncated to 48 bits.
func NewID(r RegionID, seq uint64) ID { return ID(uint64(r)<<SeqBits | seq&MaxSeq) }

// Region returns the home region of the record.
func (id ID) Region() RegionID { return RegionID(id >> SeqBits) }

// Seq returns the sequence part of the record ID.
func (id ID) Seq() uint64 { return uint64(id) & MaxSeq }

// String formats the ID as 16 lowercase hex digits.
func (id ID) String() string { return hex(uint64(id), 16) }

// Valid reports whether id has a valid region and a non-zero sequence.
func (id ID) Valid() bool { return id.Region().Valid() && id.Seq() != 0 }

// ParseRegion parses 4 lowercase hex digits. It rejects upper case, other lengths and 0000, so that
// one region has exactly one spelling in subjects and keys.
func ParseRegion(s string) (RegionID, error) {
	if len(s) != 4 || !lowerHex(s) {
		return 0, fmt.Errorf("parse region %q: %w", s, ErrBadRegion)
	}
	v, _ := strconv.ParseUint(s, 16, 16)
	if v == 0 {
		return 0, fmt.Errorf("parse region %q: %w", s, ErrReservedRegion)
	}
	return RegionID(v), nil
}

// ParseID parses 16 lowercase hex digits into a valid record ID.
func ParseID(s string) (ID, error) {
	if len(s) != 16 || !lowerHex(s) {
		return 0, fmt.Errorf("parse record ID %q: %w", s, ErrBadID)
	}
	v, _ := strconv.ParseUint(s, 16, 64)
	id := ID(v)
	if !id.Region().Valid() {
		return 0, fmt.Errorf("parse record ID %q: %w", s, ErrReservedRegion)
	}
	if id.Seq() == 0 {
		return 0, fmt.Errorf("parse record ID %q: %w", s, ErrZeroSeq)
	}
	return id, nil
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

func hex(v uint64, width int) string {
	var b [16]byte
	for i := width - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b[:width])
}

// ServerName returns the nats-server name of a node of region r: fd-<rrrr>-<node>. Clients learn
// their region from it, and parents the region of a child's leafnode link.
func ServerName(r RegionID, node string) string { return "fd-" + r.String() + "-" + node }

// ParseServerName splits a server name made by ServerName. ok is false for other servers.
func ParseServerName(name string) (r RegionID, node string, ok bool) {
	rest, found := strings.CutPrefix(name, "fd-")
	if !found || len(rest) < 6 || rest[4] != '-' {
		return 0, "", false
	}
	r, err := ParseRegion(rest[:4])
	if err != nil {
		return 0, "", false
	}
	return r, rest[5:], true
}
