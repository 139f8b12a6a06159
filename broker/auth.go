package broker

import (
	"crypto/subtle"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/fedist/fedist/internal/pki"
	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/rs/zerolog"
)

// authenticator decides every client and leafnode connection of the server (nats-server's
// CustomClientAuthentication) and every cluster route (CustomRouterAuthentication). It is the one
// place that says who may connect and into which account:
//
//   - the node's own in-process connections, with a per-process random password, into either account;
//   - leafnode links of the federation into the account they name (fedist-leaf-<ACCOUNT>): with TLS,
//     only a node certificate whose server name equals the name the link announces; in insecure
//     mode, anyone with the leaf token;
//   - application users (passwords, nkeys, client certificates of this region) into AppAccount with
//     AppPermissions; no credentials only in insecure mode;
//   - shortcut connections of other regions' nodes into AppAccount with ShortcutPermissions: with TLS
//     only a node certificate of another region; in insecure mode anyone with the leaf token;
//   - cluster routes only from nodes of this region (TLS), or anyone on loopback (insecure).
type authenticator struct {
	cfg      *Config
	internal string // password of the internal users
	srv      *server.Server
	log      zerolog.Logger
}

// Check implements server.Authentication for clients and leafnodes.
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	switch c.Kind() {
	case server.LEAF:
		return a.leaf(c)
	case server.CLIENT:
		return a.client(c)
	}
	return false
}

func (a *authenticator) account(name string) *server.Account {
	acc, err := a.srv.LookupAccount(name)
	if err != nil {
		return nil
	}
	return acc
}

func (a *authenticator) leaf(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	accName, ok := strings.CutPrefix(o.Username, leafUserPrefix)
	if !ok || (accName != AppAccount && accName != FedistAccount) {
		return a.refuse(c, "leafnode link names no FeDist account", o.Username)
	}
	if a.cfg.LeafToken != "" && !constantTimeEqual(a.cfg.LeafToken, o.Password) {
		return a.refuse(c, "leafnode link with a wrong leaf token", o.Name)
	}
	if a.cfg.TLS.CA != "" {
		id, ok := peerIdentity(c)
		if !ok || !id.IsNode() {
			return a.refuse(c, "leafnode link without a node certificate of the federation", o.Name)
		}
		if id.ServerName() != o.Name {
			return a.refuse(c, "leafnode link announces a server name its certificate does not hold ("+id.ServerName()+")", o.Name)
		}
	}
	acc := a.account(accName)
	if acc == nil {
		return false
	}
	u := &server.User{Username: o.Username, Account: acc}
	if allow, ok := a.cfg.ChildExports[accName]; ok {
		if a.cfg.ChildExportsFor != nil {
			child, _, _ := ParseServerName(o.Name)
			if id, ok := peerIdentity(c); ok {
				child = id.Region
			}
			if child != 0 {
				allow = append(slices.Clone(allow), a.cfg.ChildExportsFor(accName, child)...)
			}
		}
		// From the leaf's side: what it may publish to us. nats-server turns it around for the hub.
		u.Permissions = &server.Permissions{Publish: &server.SubjectPermission{Allow: allow}}
	}
	c.RegisterUser(u)
	return true
}

func (a *authenticator) client(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	if strings.HasPrefix(o.Username, internalUser+"-") {
		accName := strings.TrimPrefix(o.Username, internalUser+"-")
		acc := a.account(accName)
		if acc == nil || a.internal == "" || !constantTimeEqual(a.internal, o.Password) {
			return a.refuse(c, "internal user with a wrong password", o.Username)
		}
		c.RegisterUser(&server.User{Username: o.Username, Account: acc})
		return true
	}
	if strings.HasPrefix(o.Username, shortcutUser+"-") {
		return a.shortcut(c, o)
	}
	user, ok := a.appUser(c, o)
	if !ok {
		return false
	}
	acc := a.account(AppAccount)
	if acc == nil {
		return false
	}
	u := &server.User{Username: user, Account: acc}
	if a.cfg.AppPermissions != nil {
		u.Permissions = a.cfg.AppPermissions(user)
	}
	c.RegisterUser(u)
	return true
}

// shortcut admits a cost-engine shortcut from another region's node.
func (a *authenticator) shortcut(c server.ClientAuthentication, o *server.ClientOpts) bool {
	if a.cfg.ShortcutPermissions == nil {
		return a.refuse(c, "shortcut connection to a node that takes none", o.Username)
	}
	var peer regions.RegionID
	var node string
	if a.cfg.TLS.CA != "" {
		id, ok := peerIdentity(c)
		if !ok || !id.IsNode() {
			return a.refuse(c, "shortcut connection without a node certificate of the federation", o.Username)
		}
		peer, node = id.Region, id.Node
	} else {
		r, n, ok := ParseShortcutUser(o.Username)
		if !ok {
			return a.refuse(c, "shortcut user must be "+shortcutUser+"-<rrrr>-<node>", o.Username)
		}
		if a.cfg.LeafToken != "" && !constantTimeEqual(a.cfg.LeafToken, o.Password) {
			return a.refuse(c, "shortcut connection with a wrong leaf token", o.Username)
		}
		peer, node = r, n
	}
	if peer == a.cfg.Region {
		return a.refuse(c, "shortcut connection from a node of this node's own region", o.Username)
	}
	if a.cfg.ShortcutAdmit != nil {
		if err := a.cfg.ShortcutAdmit(peer, node); err != nil {
			return a.refuse(c, "shortcut refused: "+err.Error(), o.Username)
		}
	}
	acc := a.account(AppAccount)
	if acc == nil {
		return false
	}
	c.RegisterUser(&server.User{Username: ShortcutUser(peer, node), Account: acc, Permissions: a.cfg.ShortcutPermissions(peer, node)})
	return true
}

// appUser finds the application user a client authenticates as.
func (a *authenticator) appUser(c server.ClientAuthentication, o *server.ClientOpts) (string, bool) {
	if id, ok := peerIdentity(c); ok {
		if id.IsNode() || id.Region != a.cfg.Region {
			return "", a.refuse(c, "client certificate of "+id.String()+" on region "+a.cfg.Region.String()+"'s client port", o.Name)
		}
		return id.User, true
	}
	if o.Nkey != "" {
		for _, u := range a.cfg.Users {
			if u.Nkey == o.Nkey && verifyNonce(o.Nkey, o.Sig, c.GetNonce()) {
				return u.name(), true
			}
		}
		return "", a.refuse(c, "unknown nkey or bad signature", o.Nkey)
	}
	if o.Username != "" {
		for _, u := range a.cfg.Users {
			if u.Name == o.Username && u.passwordOK(o.Password) {
				return u.name(), true
			}
		}
		return "", a.refuse(c, "unknown user or wrong password", o.Username)
	}
	if a.cfg.NoAuthApps {
		return NoAuthUser, true
	}
	return "", a.refuse(c, "client without credentials (this node runs with TLS; configure users)", o.Name)
}

func (a *authenticator) refuse(c server.ClientAuthentication, why, who string) bool {
	a.log.Warn().Str("who", who).Stringer("remote", addr{c}).Msg("connection refused: " + why)
	return false
}

// routeAuth admits cluster routes: with TLS only from nodes of this region.
type routeAuth struct{ a *authenticator }

func (r routeAuth) Check(c server.ClientAuthentication) bool {
	if r.a.cfg.TLS.CA == "" {
		return true // insecure mode: the cluster listener is on loopback (Validate)
	}
	id, ok := peerIdentity(c)
	if !ok || !id.IsNode() || id.Region != r.a.cfg.Region {
		who := "no node certificate"
		if ok {
			who = id.String()
		}
		return r.a.refuse(c, "cluster route without a node certificate of region "+r.a.cfg.Region.String(), who)
	}
	return true
}

// peerIdentity reads the FeDist identity of a verified TLS peer certificate.
func peerIdentity(c server.ClientAuthentication) (pki.Identity, bool) {
	cs := c.GetTLSConnectionState()
	if cs == nil || len(cs.VerifiedChains) == 0 || len(cs.PeerCertificates) == 0 {
		return pki.Identity{}, false
	}
	id, err := pki.IdentityOf(cs.PeerCertificates[0])
	return id, err == nil
}

func verifyNonce(nkey, sig string, nonce []byte) bool {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		if raw, err = base64.StdEncoding.DecodeString(sig); err != nil {
			return false
		}
	}
	pub, err := nkeys.FromPublicKey(nkey)
	return err == nil && pub.Verify(nonce, raw) == nil
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// addr formats a connection's remote address for logs.
type addr struct{ c server.ClientAuthentication }

func (a addr) String() string {
	if ra := a.c.RemoteAddress(); ra != nil {
		return ra.String()
	}
	return "in-process"
}
