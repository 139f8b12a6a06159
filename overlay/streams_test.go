package overlay

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

func TestCheckStream(t *testing.T) {
	const me = 0x00a1
	cases := []struct {
		name string
		cfg  jetstream.StreamConfig
		ok   bool
	}{
		{"own region", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00a1.orders.>"}}, true},
		{"own region, one subject", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00a1.x"}}, true},
		{"KV bucket", jetstream.StreamConfig{Name: "KV_carts", Subjects: []string{"$KV.carts.>"}}, true},
		{"object store", jetstream.StreamConfig{Name: "OBJ_f", Subjects: []string{"$O.f.C.>", "$O.f.M.>"}}, true},
		{"mirror of own stream", jetstream.StreamConfig{Name: "m", Mirror: &jetstream.StreamSource{Name: "s"}}, true},
		{"another region", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00b0.>"}}, false},
		{"every region", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.*.>"}}, false},
		{"fd.>", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.>"}}, false},
		{"everything", jetstream.StreamConfig{Name: "s", Subjects: []string{">"}}, false},
		{"own region's token as wildcard", jetstream.StreamConfig{Name: "s", Subjects: []string{"*.00a1.>"}}, false},
		{"inboxes", jetstream.StreamConfig{Name: "s", Subjects: []string{"_INBOX.>"}}, false},
		{"relays", jetstream.StreamConfig{Name: "s", Subjects: []string{"fdh.00a1.>"}}, false},
		{"outside FeDist", jetstream.StreamConfig{Name: "s", Subjects: []string{"orders.>"}}, false},
		{"registry copy", jetstream.StreamConfig{Name: "KV_fedist-registry", Subjects: []string{"$KV.fedist-registry.>"}}, false},
		{"FeDist bucket name", jetstream.StreamConfig{Name: "KV_x", Subjects: []string{"$KV.fedist-ids.>"}}, false},
		{"wildcard bucket", jetstream.StreamConfig{Name: "KV_x", Subjects: []string{"$KV.*.>"}}, false},
		{"empty token", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00a1..x"}}, false},
		{"source in another domain", jetstream.StreamConfig{Name: "s", Sources: []*jetstream.StreamSource{{Name: "x", External: &jetstream.ExternalStream{APIPrefix: "$JS.fd-00b0.API"}}}}, false},
		{"mirror in another account", jetstream.StreamConfig{Name: "s", Mirror: &jetstream.StreamSource{Name: "x", External: &jetstream.ExternalStream{APIPrefix: "x.API"}}}, false},
		{"republish into JetStream", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00a1.x"}, RePublish: &jetstream.RePublish{Source: ">", Destination: "$JS.API.STREAM.DELETE.x"}}, false},
		{"republish to a region", jetstream.StreamConfig{Name: "s", Subjects: []string{"fd.00a1.x"}, RePublish: &jetstream.RePublish{Source: ">", Destination: "fd.00b0.copy"}}, true},
	}
	for _, tc := range cases {
		data, _ := json.Marshal(tc.cfg)
		err := CheckStream(me, data)
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrStreamRefused) {
			t.Errorf("%s: %v, want ErrStreamRefused", tc.name, err)
		}
	}
	if err := CheckStream(me, []byte("{")); !errors.Is(err, ErrStreamRefused) {
		t.Errorf("unreadable config: %v", err)
	}
}

func TestSubjectsCollide(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"fd.00a1.x", "fd.>", true},
		{"fd.*.x", "fd.00a1.>", true},
		{">", "anything.at.all", true},
		{"a.b", "a.b.c", false},
		{"a.*", "a.b.c", false},
		{"a.>", "a", false},
		{"$KV.x.>", "$KV.fedist-registry.>", false},
		{"_INBOX.00a1.*", "_INBOX.>", true},
	}
	for _, tc := range cases {
		if got := SubjectsCollide(tc.a, tc.b); got != tc.want {
			t.Errorf("SubjectsCollide(%q, %q) = %v", tc.a, tc.b, got)
		}
		if got := SubjectsCollide(tc.b, tc.a); got != tc.want {
			t.Errorf("SubjectsCollide(%q, %q) = %v (reversed)", tc.b, tc.a, got)
		}
	}
}

func TestValidReply(t *testing.T) {
	for reply, want := range map[string]bool{
		"_INBOX.00a1.abc.1": true, "fdr.00b0.b1.tok": true,
		"$KV.fedist-registry.region.00b0": false, "$JS.API.STREAM.DELETE.x": false,
		"_INBOX.>": false, "_INBOX..x": false, "fd.00b0.x": false, "": false,
		"_INBOX.00a1.*": false, "_INBOX.00a1.*.x": false, "_INBOX.00a1.x.": false, "_INBOX.00a1 x": false,
		"_INBOX.00a1.a*b": true,
	} {
		if got := ValidReply(reply); got != want {
			t.Errorf("ValidReply(%q) = %v, want %v", reply, got, want)
		}
	}
}
