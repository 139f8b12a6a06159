package broker

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestServerNames(t *testing.T) {
	name := ServerName(0x00a3, "eu-1")
	if name != "fd-00a3-eu-1" {
		t.Fatalf("ServerName = %s", name)
	}
	r, node, ok := ParseServerName(name)
	if !ok || r != 0x00a3 || node != "eu-1" {
		t.Fatalf("ParseServerName(%s) = %s %s %v", name, r, node, ok)
	}
	for _, bad := range []string{"nats-1", "fd-00a3", "fd-0000-x", "fd-00A3-x", "fd-00a3x"} {
		if _, _, ok := ParseServerName(bad); ok {
			t.Errorf("ParseServerName(%q) accepted", bad)
		}
	}
	if Domain(0x00a3) != "fd-00a3" {
		t.Fatal("Domain")
	}
}

func TestConfigValidate(t *testing.T) {
	base := DefaultConfig(0x00a3, "n1", t.TempDir())
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"reserved region", func(c *Config) { c.Region = 0 }, "reserved"},
		{"node with a dot", func(c *Config) { c.Node = "a.b" }, "node name"},
		{"no store", func(c *Config) { c.StoreDir = "" }, "store dir"},
		{"port out of range", func(c *Config) { c.LeafPort = 70000 }, "leafnode port"},
		{"client port off", func(c *Config) { c.ClientPort = 0 }, "client port 0"},
		{"bad parent URL", func(c *Config) { c.ParentURLs = []string{"nats-leaf://nohost"} }, "parent URL"},
		{"routes without a cluster port", func(c *Config) { c.Routes = []string{"127.0.0.1:6222"} }, "no cluster port"},
		{"insecure mode without a leaf token", func(c *Config) { c.LeafToken = "" }, "leaf token"},
		{"non-loopback listener without TLS", func(c *Config) { c.LeafHost = "0.0.0.0" }, "without TLS"},
		{"half the TLS files", func(c *Config) { c.TLS.CA = "ca.crt" }, "all of -tls-ca"},
		{"client TLS without a certificate", func(c *Config) { c.ClientTLS = true }, "client TLS"},
		{"reserved user name", func(c *Config) { c.Users = []User{{Name: "fedist-x", Password: "p"}} }, "reserved"},
		{"advertise with a bad port", func(c *Config) { c.Advertise = "127.0.0.1:0" }, "advertise"},
	}
	for _, tc := range cases {
		c := base
		tc.edit(&c)
		err := c.Validate()
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an ErrConfig mentioning %q", tc.name, err, tc.want)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

// TestParentAndChildren starts a parent and a child broker and checks that each sees the other.
// parentAndChild starts a parent broker (region 0001) and a child (00a0) linked to it; both are
// shut down when the test ends.
func parentAndChild(t *testing.T) (parent, child *Broker) {
	t.Helper()
	parent, err := Start(DefaultConfig(0x0001, "p", t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Shutdown(context.Background()) })
	cc := DefaultConfig(0x00a0, "c", t.TempDir())
	cc.ParentURLs = []string{parent.LeafURL()}
	child, err = Start(cc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Shutdown(context.Background()) })
	return parent, child
}

func TestParentAndChildren(t *testing.T) {
	parent, child := parentAndChild(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, node, up := child.Parent()
		kids := parent.ChildLinks()
		if up && r == 0x0001 && node == "p" && len(kids[0x00a0]) == 1 && kids[0x00a0]["c"] == LinkBoth {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child sees parent %s/%s up=%v; parent sees children %v", r, node, up, kids)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := child.Shutdown(context.Background()); err != nil { // idempotent
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for len(parent.ChildLinks()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("parent still lists %v after the child stopped", parent.ChildLinks())
		}
		time.Sleep(10 * time.Millisecond)
	}

}

func TestPickPort(t *testing.T) {
	p, err := PickPort("127.0.0.1")
	if err != nil || p < pickLow || p >= pickHigh {
		t.Fatalf("PickPort = %d, %v", p, err)
	}
}

func TestStartFailsFast(t *testing.T) {
	// JetStream clustering without routes is a fatal nats-server error; Start must say so at once.
	c := DefaultConfig(0x00a0, "n1", t.TempDir())
	c.ClusterHost, c.ClusterPort = "127.0.0.1", -1
	start := time.Now()
	_, err := Start(c)
	if !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "routes") {
		t.Fatalf("Start: %v, want ErrNotReady naming the missing routes", err)
	}
	t.Logf("failed after %v: %v", time.Since(start), err)
}

func TestSplitAdvertise(t *testing.T) {
	cases := []struct {
		in   string
		host string
		port int
		err  bool
	}{
		{"", "", 0, false},
		{"127.0.0.1", "127.0.0.1", 0, false},
		{"a1.example.net", "a1.example.net", 0, false},
		{"127.0.0.1:14242", "127.0.0.1", 14242, false},
		{"host-1:4222", "host-1", 4222, false},
		{"::1", "::1", 0, false},
		{"[::1]", "::1", 0, false},
		{"[::1]:14242", "::1", 14242, false},
		{"[::1", "", 0, true},
		{"127.0.0.1:0", "", 0, true},
		{"127.0.0.1:65536", "", 0, true},
		{"127.0.0.1:x", "", 0, true},
		{"127.0.0.1:", "", 0, true},
		{":14242", "", 0, true},
		{"nats://127.0.0.1:14242", "", 0, true},
		{"a b", "", 0, true},
		{"1.2.3.4:5:6", "", 0, true},
	}
	for _, tc := range cases {
		host, port, err := splitAdvertise(tc.in)
		if (err != nil) != tc.err || host != tc.host || port != tc.port {
			t.Errorf("splitAdvertise(%q) = %q, %d, %v; want %q, %d, error %v", tc.in, host, port, err, tc.host, tc.port, tc.err)
		}
	}
}

// TestAdvertisedURLs checks the URLs a node reports: Advertise's host in each, and Advertise's port in
// the client URL only; the leafnode URL keeps its listen port.
func TestAdvertisedURLs(t *testing.T) {
	cases := []struct {
		advertise  string
		host       string // in the URLs
		clientPort int    // 0: the listen port
	}{
		{"", "127.0.0.1", 0},
		{"localhost", "localhost", 0},
		{"localhost:14242", "localhost", 14242},
		{"[::1]:14242", "[::1]", 14242},
	}
	for _, tc := range cases {
		t.Run(tc.advertise, func(t *testing.T) {
			c := DefaultConfig(0x00a1, "n1", t.TempDir())
			c.Advertise = tc.advertise
			b, err := Start(c)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Shutdown(context.Background())
			clientPort := tc.clientPort
			if clientPort == 0 {
				clientPort = b.Server().Addr().(*net.TCPAddr).Port
			}
			want := "nats://" + tc.host + ":" + strconv.Itoa(clientPort)
			if got := b.ClientURL(); got != want {
				t.Errorf("ClientURL = %s, want %s", got, want)
			}
			want = "nats-leaf://" + tc.host + ":" + strconv.Itoa(b.opts.LeafNode.Port)
			if got := b.LeafURL(); got != want {
				t.Errorf("LeafURL = %s, want %s (the leafnode listen port)", got, want)
			}
		})
	}
}
