package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMainCommand(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "certs")
	noCA := filepath.Join(base, "empty")
	node := []string{"node", "-dir", dir, "-id", "00a3", "-name", "n1"}
	with := func(args []string, more ...string) []string { return append(slices.Clone(args), more...) }
	// The steps run in order against one directory: init, then issue, then refusals to overwrite.
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string   // substring of stdout
		stderr string   // substring of stderr
		files  []string // files in dir afterwards
	}{
		{"no command", nil, 2, "", "usage: fedist-root certs <command>", nil},
		{"unknown command", []string{"bogus"}, 2, "", `unknown command "bogus"`, nil},
		{"help", []string{"help"}, 0, "commands:", "", nil},
		{"init -h", []string{"init", "-h"}, 0, "", "fedist-root certs init -dir ./certs", nil},
		{"node -h", []string{"node", "-h"}, 0, "", "fedist-root certs node -dir ./certs -id 00a3 -name n1", nil},
		{"client -h", []string{"client", "-h"}, 0, "", "fedist-root certs client -dir ./certs -id 00a3 -user alice", nil},
		{"init without -dir", []string{"init"}, 2, "", "-dir is required", nil},
		{"init -days 0", []string{"init", "-dir", dir, "-days", "0"}, 2, "", "-days 0", nil},
		{"init -days x", []string{"init", "-dir", dir, "-days", "x"}, 2, "", `invalid value "x" for flag -days`, nil},
		{"init unknown flag", []string{"init", "-dir", dir, "-nope"}, 2, "", "flag provided but not defined: -nope", nil},
		{"init extra argument", []string{"init", "-dir", dir, "extra"}, 2, "", `unexpected argument "extra"`, nil},
		{"node before init", []string{"node", "-dir", noCA, "-id", "00a3", "-name", "n1"}, 1, "",
			filepath.Join(noCA, CACertFile), nil},
		{"init", []string{"init", "-dir", dir}, 0, "wrote " + filepath.Join(dir, CACertFile), "",
			[]string{CACertFile, CAKeyFile}},
		{"init again", []string{"init", "-dir", dir}, 1, "", "already exists", []string{CACertFile, CAKeyFile}},
		{"node without -id", []string{"node", "-dir", dir, "-name", "n1"}, 2, "", "-id is required", nil},
		{"node upper-case -id", with(node[:3], "-id", "00A3", "-name", "n1"), 2, "", `-id "00A3"`, nil},
		{"node -id 0000", with(node[:3], "-id", "0000", "-name", "n1"), 2, "", `-id "0000"`, nil},
		{"node -name with a dot", with(node[:5], "-name", "n.1"), 2, "", `-name "n.1"`, nil},
		{"node bad -host", with(node, "-host", "ok.example.net,bad host"), 2, "", `-host "bad host"`, nil},
		{"node", with(node, "-host", "n1.example.net, 10.0.0.5", "-days", "30"), 0,
			"fedist://region/00a3/node/n1", "", []string{CACertFile, CAKeyFile, "node-00a3-n1.crt", "node-00a3-n1.key"}},
		{"node again", node, 1, "", "already exists", nil},
		{"client bad -user", []string{"client", "-dir", dir, "-id", "00a3", "-user", ".x"}, 2, "", `-user ".x"`, nil},
		{"client", []string{"client", "-dir", dir, "-id", "00a3", "-user", "alice"}, 0, "fedist://region/00a3/user/alice", "",
			[]string{CACertFile, CAKeyFile, "client-00a3-alice.crt", "client-00a3-alice.key", "node-00a3-n1.crt", "node-00a3-n1.key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("Main(%q) = %d\nstdout:\n%s\nstderr:\n%s\nwant %d, stdout with %q, stderr with %q",
					tc.args, code, &stdout, &stderr, tc.code, tc.stdout, tc.stderr)
			}
			if tc.files == nil {
				return
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if slices.Sort(tc.files); !slices.Equal(got, tc.files) {
				t.Fatalf("files %v, want %v", got, tc.files)
			}
		})
	}
	c := mustLeaf(t, TLSFiles{Cert: filepath.Join(dir, "node-00a3-n1.crt"), Key: filepath.Join(dir, "node-00a3-n1.key")})
	if !slices.Equal(c.DNSNames, []string{"n1.example.net"}) || len(c.IPAddresses) != 1 || c.IPAddresses[0].String() != "10.0.0.5" {
		t.Errorf("-host gave DNS %v IPs %v", c.DNSNames, c.IPAddresses)
	}
	if days := c.NotAfter.Sub(c.NotBefore) - backdate; days != 30*24*60*60*1e9 {
		t.Errorf("-days 30 gave a validity of %v", days)
	}
}
