package overlay

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fedist/fedist/regions"
)

// Namespace prefixes.
const (
	PublicPrefix  = "fd."
	RelayPrefix   = "fdh."
	ControlPrefix = "fdc."
	// ReplyPrefix marks the reply subject a relay puts on a request it republishes:
	// fdr.<region>.<node>.<token>.
	ReplyPrefix = "fdr."
	// LookupToken is the token after the region that marks a lookup: fd.<r>.get.<kind>.<id>.
	LookupToken = "get"
)

// Errors for malformed subjects.
var (
	ErrBadSubject = errors.New("not a FeDist region subject (want fd.<rrrr>.<token>…)")
	ErrBadKind    = errors.New("lookup kind must be one non-empty token without dots, spaces or wildcards")
	ErrWildcard   = errors.New("wildcards are not allowed in a publish subject")
)

// Subject returns fd.<r>.<tokens joined by dots>.
func Subject(r regions.RegionID, tokens ...string) string {
	return PublicPrefix + r.String() + "." + strings.Join(tokens, ".")
}

// LookupSubject returns fd.<r>.get.<kind>.<id>, where r is the ID's home region.
func LookupSubject(kind string, id regions.ID) string {
	return PublicPrefix + id.Region().String() + "." + LookupToken + "." + kind + "." + id.String()
}

// RelaySubject returns fdh.<via>.<d>.<rest> for a public subject fd.<d>.<rest>: published on a node
// of region via, it is carried from there to d.
func RelaySubject(via regions.RegionID, public string) (string, error) {
	if _, _, err := ParseSubject(public); err != nil {
		return "", err
	}
	return RelayPrefix + via.String() + "." + public[len(PublicPrefix):], nil
}

// OwnRegionWildcard returns fd.<r>.>, everything a client of region r may subscribe to.
func OwnRegionWildcard(r regions.RegionID) string { return PublicPrefix + r.String() + ".>" }

// ServeSubject returns fd.<r>.get.<kind>.*, what a lookup responder of region r subscribes to.
func ServeSubject(r regions.RegionID, kind string) string {
	return PublicPrefix + r.String() + "." + LookupToken + "." + kind + ".*"
}

// ParseSubject returns the region a public subject is addressed to and the rest after it.
func ParseSubject(subject string) (regions.RegionID, string, error) {
	rest, ok := strings.CutPrefix(subject, PublicPrefix)
	if !ok || len(rest) < 6 || rest[4] != '.' {
		return 0, "", fmt.Errorf("%q: %w", subject, ErrBadSubject)
	}
	r, err := regions.ParseRegion(rest[:4])
	if err != nil {
		return 0, "", fmt.Errorf("%q: %w", subject, err)
	}
	return r, rest[5:], nil
}

// ParseLookup splits fd.<r>.get.<kind>.<id>. The ID's region must be r.
func ParseLookup(subject string) (kind string, id regions.ID, err error) {
	r, rest, err := ParseSubject(subject)
	if err != nil {
		return "", 0, err
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 || parts[0] != LookupToken {
		return "", 0, fmt.Errorf("%q: want fd.<rrrr>.get.<kind>.<id>: %w", subject, ErrBadSubject)
	}
	if err := CheckKind(parts[1]); err != nil {
		return "", 0, err
	}
	id, err = regions.ParseID(parts[2])
	if err != nil {
		return "", 0, err
	}
	if id.Region() != r {
		return "", 0, fmt.Errorf("%q: record %s lives in region %s, not %s: %w", subject, id, id.Region(), r, ErrBadSubject)
	}
	return parts[1], id, nil
}

// CheckKind validates a lookup kind token.
func CheckKind(kind string) error {
	if kind == "" || strings.ContainsAny(kind, ".*> \t\r\n") {
		return fmt.Errorf("kind %q: %w", kind, ErrBadKind)
	}
	return nil
}

// CheckPublish validates a subject an application publishes or requests on.
func CheckPublish(subject string) error {
	if _, rest, err := ParseSubject(subject); err != nil {
		return err
	} else if rest == "" || strings.HasSuffix(rest, ".") || strings.Contains(rest, "..") {
		return fmt.Errorf("%q: empty token: %w", subject, ErrBadSubject)
	}
	for _, tok := range strings.Split(subject, ".") {
		if tok == "*" || tok == ">" {
			return fmt.Errorf("%q: %w", subject, ErrWildcard)
		}
	}
	return nil
}
