package broker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

// User is an application user of a region's client port. Give a Password (plain text, or a bcrypt
// hash starting with "$2") or an Nkey (a public user nkey, "U…"); a user of a client certificate
// made by `fedist-root certs client` needs neither.
type User struct {
	Name     string `json:"name"`
	Password string `json:"password,omitempty"`
	Nkey     string `json:"nkey,omitempty"`
}

func (u User) check() error {
	switch {
	case u.Name == "" && u.Nkey == "":
		return errors.New("a user needs a name (or an nkey)")
	case strings.ContainsAny(u.Name, " \t\r\n.*>"):
		return fmt.Errorf("user name %q must have no spaces, dots or wildcards", u.Name)
	case strings.HasPrefix(u.Name, "fedist-"):
		return fmt.Errorf("user name %q: the prefix fedist- is reserved for FeDist's own users", u.Name)
	case u.Password != "" && u.Nkey != "":
		return fmt.Errorf("user %q: give a password or an nkey, not both", u.Name)
	case u.Nkey != "" && !nkeys.IsValidPublicUserKey(u.Nkey):
		return fmt.Errorf("user %q: nkey %q is not a public user nkey (U…)", u.Name, u.Nkey)
	}
	return nil
}

// name is how the user appears in permissions and logs: its name, or its nkey.
func (u User) name() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Nkey
}

// passwordOK compares a presented password with the configured one, which may be a bcrypt hash.
func (u User) passwordOK(presented string) bool {
	if u.Password == "" {
		return false
	}
	if strings.HasPrefix(u.Password, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(u.Password), []byte(presented)) == nil
	}
	return constantTimeEqual(u.Password, presented)
}
