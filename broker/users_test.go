package broker

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// TestAppUsers: configured users log in with a password, a bcrypt hash's password or an nkey; a
// wrong password, an unknown nkey and no credentials at all are refused with an authorization error
// once users are configured and NoAuthApps is off.
func TestAppUsers(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	other, _ := nkeys.CreateUser()
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	c := DefaultConfig(0x00a3, "n1", t.TempDir())
	c.NoAuthApps = false
	c.Users = []User{{Name: "alice", Password: "pw"}, {Name: "bob", Password: string(hash)}, {Nkey: pub}}
	b, err := Start(c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Shutdown(context.Background())
	sign := func(kp nkeys.KeyPair) nats.Option {
		p, _ := kp.PublicKey()
		return nats.Nkey(p, func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) })
	}
	for _, tc := range []struct {
		name string
		opt  nats.Option
		ok   bool
	}{
		{"password", nats.UserInfo("alice", "pw"), true},
		{"bcrypt", nats.UserInfo("bob", "s3cret"), true},
		{"nkey", sign(kp), true},
		{"wrong password", nats.UserInfo("alice", "nope"), false},
		{"bcrypt hash as password", nats.UserInfo("bob", string(hash)), false},
		{"unknown nkey", sign(other), false},
		{"internal user", nats.UserInfo(internalUser+"-"+FedistAccount, "guess"), false},
		{"no credentials", nats.Name("anonymous"), false},
	} {
		nc, err := nats.Connect(b.ClientURL(), tc.opt, nats.MaxReconnects(0))
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok && !errors.Is(err, nats.ErrAuthorization):
			t.Errorf("%s: %v, want an authorization error", tc.name, err)
		}
		if nc != nil {
			nc.Close()
		}
	}
}

// TestParentURLAtClientPort: a child pointed at its parent's client port does not link, and its log
// says which port to use instead.
func TestParentURLAtClientPort(t *testing.T) {
	var logs syncBuf
	pc := DefaultConfig(0x0001, "p", t.TempDir())
	pc.Log = zerolog.New(&logs)
	parent, err := Start(pc)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Shutdown(context.Background())
	cc := DefaultConfig(0x00a0, "c", t.TempDir())
	cc.Log = zerolog.New(&logs)
	cc.ParentURLs = []string{strings.Replace(parent.ClientURL(), "nats://", "nats-leaf://", 1)}
	child, err := Start(cc)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Shutdown(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "use the port of the parent's -leaf-listen") {
		if time.Now().After(deadline) {
			t.Fatalf("no hint in the child's log:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, _, up := child.Parent(); up {
		t.Fatal("the child linked through the client port")
	}
}

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
