package pki

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"strings"

	"github.com/fedist/fedist/regions"
)

// Organizational units that mark what a certificate is for.
const (
	NodeOU = "fedist-node" // a node: server and client of mutual TLS, signer of control messages
	UserOU = "fedist-app"  // an application user: client of a region's client port
)

// URIScheme is the scheme of the URI SAN that carries the identity:
// fedist://region/<rrrr>/node/<node> or fedist://region/<rrrr>/user/<user>.
const URIScheme = "fedist"

const (
	maxNodeName = 64 - len("fd-0000-") // the CN fd-<rrrr>-<node> stays within X.509's 64-byte limit
	maxUserName = 64                   // the CN is the user name
)

// Identity is what a FeDist certificate says about its holder: a node of a region, or an
// application user of a region. Exactly one of Node and User is set.
type Identity struct {
	Region regions.RegionID
	Node   string // node name, for node certificates
	User   string // user name, for client certificates
}

// IsNode reports whether the identity names a node.
func (id Identity) IsNode() bool { return id.Node != "" }

// ServerName returns the nats-server name of a node, fd-<rrrr>-<node>, and "" for a user.
func (id Identity) ServerName() string {
	if !id.IsNode() {
		return ""
	}
	return "fd-" + id.Region.String() + "-" + id.Node
}

// URI returns the URI SAN that encodes the identity.
func (id Identity) URI() *url.URL {
	kind, name := "user", id.User
	if id.IsNode() {
		kind, name = "node", id.Node
	}
	return &url.URL{Scheme: URIScheme, Host: "region", Path: "/" + id.Region.String() + "/" + kind + "/" + name}
}

// String formats the identity as its URI.
func (id Identity) String() string { return id.URI().String() }

// commonName returns the CN a certificate of this identity carries.
func (id Identity) commonName() string {
	if id.IsNode() {
		return id.ServerName()
	}
	return id.User
}

// ou returns the organizational unit a certificate of this identity carries.
func (id Identity) ou() string {
	if id.IsNode() {
		return NodeOU
	}
	return UserOU
}

// validate checks that the identity can be encoded in, and read back from, a certificate.
func (id Identity) validate() error {
	if !id.Region.Valid() {
		return fmt.Errorf("region %s: %w", id.Region, regions.ErrReservedRegion)
	}
	switch {
	case id.Node != "" && id.User != "":
		return fmt.Errorf("identity names node %q and user %q: %w", id.Node, id.User, ErrBadName)
	case id.Node != "" || id.User == "":
		return checkNodeName(id.Node)
	default:
		return checkUserName(id.User)
	}
}

// checkNodeName accepts 1 to 56 ASCII letters, digits, '-' and '_'. That is stricter than the
// broker (no spaces, dots or wildcards) so that the name is also safe in a URI path, a file name and
// the 64-byte CN.
func checkNodeName(s string) error {
	if s == "" || len(s) > maxNodeName || !nameChars(s, "-_") {
		return fmt.Errorf("node name %q: want 1 to %d ASCII letters, digits, '-' or '_': %w", s, maxNodeName, ErrBadName)
	}
	return nil
}

// checkUserName accepts 1 to 64 ASCII letters, digits, '-', '_', '.' and '@', not starting with '.'.
func checkUserName(s string) error {
	if s == "" || len(s) > maxUserName || s[0] == '.' || !nameChars(s, "-_.@") {
		return fmt.Errorf("user name %q: want 1 to %d ASCII letters, digits, '-', '_', '.' or '@', not starting with '.': %w",
			s, maxUserName, ErrBadName)
	}
	return nil
}

func nameChars(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && strings.IndexByte(extra, c) < 0 {
			return false
		}
	}
	return true
}

// IdentityOf reads the FeDist identity of a certificate. The certificate must carry exactly one
// fedist:// URI SAN in canonical form, and its CN and OU must agree with it. IdentityOf does not
// verify the certificate: apply it to a certificate that was verified against the CA (a TLS peer
// certificate, or the result of Verifier.Verify).
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, fmt.Errorf("nil certificate: %w", ErrNoIdentity)
	}
	var found []*url.URL
	for _, u := range cert.URIs {
		if u != nil && u.Scheme == URIScheme {
			found = append(found, u)
		}
	}
	if len(found) != 1 {
		return Identity{}, fmt.Errorf("certificate %q has %d %s:// URI SANs, want 1: %w",
			cert.Subject.CommonName, len(found), URIScheme, ErrNoIdentity)
	}
	id, err := parseIdentityURI(found[0])
	if err != nil {
		return Identity{}, err
	}
	if cn := cert.Subject.CommonName; cn != id.commonName() {
		return Identity{}, fmt.Errorf("certificate CN %q does not match %s (want CN %q): %w", cn, id, id.commonName(), ErrNoIdentity)
	}
	if ou := cert.Subject.OrganizationalUnit; len(ou) != 1 || ou[0] != id.ou() {
		return Identity{}, fmt.Errorf("certificate %q has OU %q, want [%s] for %s: %w", cert.Subject.CommonName, ou, id.ou(), id, ErrNoIdentity)
	}
	return id, nil
}

// parseIdentityURI parses fedist://region/<rrrr>/(node|user)/<name>. Only the canonical spelling
// is accepted, so an identity has exactly one URI.
func parseIdentityURI(u *url.URL) (Identity, error) {
	bad := func(why string) (Identity, error) {
		return Identity{}, fmt.Errorf("URI SAN %q: %s: %w", u.String(), why, ErrNoIdentity)
	}
	if u.Host != "region" || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return bad("want " + URIScheme + "://region/<rrrr>/node/<node> or .../user/<user>")
	}
	parts := strings.Split(u.Path, "/")
	if len(parts) != 4 || parts[0] != "" {
		return bad("want the path /<rrrr>/node/<node> or /<rrrr>/user/<user>")
	}
	r, err := regions.ParseRegion(parts[1])
	if err != nil {
		return bad(err.Error())
	}
	var id Identity
	switch parts[2] {
	case "node":
		id = Identity{Region: r, Node: parts[3]}
	case "user":
		id = Identity{Region: r, User: parts[3]}
	default:
		return bad("kind " + parts[2] + " is neither node nor user")
	}
	if err := id.validate(); err != nil {
		return bad(err.Error())
	}
	if id.URI().String() != u.String() {
		return bad("not in canonical form " + id.URI().String())
	}
	return id, nil
}
