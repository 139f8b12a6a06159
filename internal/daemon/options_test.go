package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fedist.json")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFlagsOverrideConfigFile(t *testing.T) {
	p := writeFile(t, `{"id": "00a0", "name": "from-file", "parent": "nats-leaf://10.0.0.1:7422", "listen": "127.0.0.1:5000"}`)
	o, err := Parse("fedist-node", Child, []string{"-c", p, "-name", "from-flag", "-parent-only"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "from-flag" || o.ID != "00a0" || o.Listen != "127.0.0.1:5000" || o.Parent != "nats-leaf://10.0.0.1:7422" {
		t.Fatalf("options %+v", o)
	}
	cfg, err := o.NodeConfig(Child, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Broker.ClientPort != 5000 || cfg.Name != "from-flag" || cfg.Broker.Node != "from-flag-5000" || !cfg.Broker.LeafIgnoreDiscovered {
		t.Fatalf("node config %+v", cfg)
	}
}

func TestBadInputsSayWhatToChange(t *testing.T) {
	cases := []struct {
		name string
		kind Kind
		args []string
		file string
		want string
	}{
		{"syntax error names the line", Child, nil, "{\n \"id\": \"00a0\",\n \"name\" \"x\"\n}", "fedist.json:3"},
		{"unknown key", Child, nil, "{\n \"id\": \"00a0\",\n \"colour\": \"red\"\n}", "unknown field"},
		{"wrong type", Child, nil, "{\n \"replicas\": \"three\"\n}", "fedist.json:2"},
		{"reserved id", Child, []string{"-id", "0000", "-name", "x", "-parent", "h:1"}, "", "reserved"},
		{"upper-case id", Child, []string{"-id", "00A0", "-name", "x", "-parent", "h:1"}, "", "4 lowercase hex"},
		{"no parent", Child, []string{"-id", "00a0", "-name", "x"}, "", "-parent is required"},
		{"no name", Child, []string{"-id", "00a0", "-parent", "h:1"}, "", "-name is required"},
		{"bad port", Root, []string{"-listen", "127.0.0.1:99999"}, "", "-listen"},
		{"stray argument", Root, []string{"extra"}, "", "unexpected argument"},
		{"non-loopback without TLS", Root, []string{"-listen", "0.0.0.0:4222"}, "", "-insecure"},
		{"half the TLS files", Root, []string{"-tls-ca", "ca.crt"}, "", "-tls-key"},
		{"missing certificate file", Root, []string{"-tls-ca", "nope.crt", "-tls-cert", "nope.crt", "-tls-key", "nope.key"}, "", "nope.crt"},
		{"user with a dot", Root, nil, `{"users": [{"name": "a.b", "password": "x"}]}`, "no spaces, dots"},
		{"negative join timeout", Child, []string{"-id", "00a0", "-name", "x", "-parent", "h:1", "-join-timeout", "-1s"}, "", "-join-timeout"},
		{"join timeout without a unit", Child, []string{"-id", "00a0", "-name", "x", "-parent", "h:1", "-join-timeout", "30"}, "", "join-timeout"},
		{"negative shortcuts", Root, []string{"-shortcuts", "-1"}, "", "-shortcuts"},
		{"store is a file", Root, []string{"-store", "/etc/hostname"}, "", `-store "/etc/hostname" is a file`},
		{"user with two secrets", Root, nil, `{"users": [{"name": "a", "password": "x", "nkey": "UABC"}]}`, "not both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if tc.file != "" {
				args = append([]string{"-c", writeFile(t, tc.file)}, args...)
			}
			o, err := Parse("test", tc.kind, args)
			if err == nil {
				_, err = o.NodeConfig(tc.kind, zerolog.Nop())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestTLSAndUsersFromConfigFile: the TLS files, users and -insecure come from the config file too.
func TestTLSAndUsersFromConfigFile(t *testing.T) {
	p := writeFile(t, `{"tls-ca": "/c/ca.crt", "tls-cert": "/c/n.crt", "tls-key": "/c/n.key", "no-client-tls": true,
		"insecure": true, "users": [{"name": "alice", "password": "pw"}], "join-timeout": "2m"}`)
	o, err := Parse("fedist-root", Root, []string{"-c", p})
	if err != nil {
		t.Fatal(err)
	}
	if o.TLSCA != "/c/ca.crt" || o.TLSCert != "/c/n.crt" || o.TLSKey != "/c/n.key" || !o.NoClientTLS || !o.Insecure ||
		len(o.Users) != 1 || o.Users[0].Name != "alice" || o.JoinTimeout != Duration(2*time.Minute) {
		t.Fatalf("options %+v", o)
	}
	// Insecure, no TLS, a non-loopback listener: allowed, and clients without credentials too.
	o = Defaults(Root)
	o.Listen, o.Insecure = "0.0.0.0:4222", true
	cfg, err := o.NodeConfig(Root, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Broker.NoAuthApps || !cfg.Broker.Insecure {
		t.Fatalf("insecure node config %+v", cfg.Broker)
	}
}
