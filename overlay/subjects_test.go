package overlay

import (
	"errors"
	"testing"

	"github.com/fedist/fedist/regions"
	"github.com/nats-io/nats.go"
)

func TestParseLookup(t *testing.T) {
	cases := []struct {
		subject string
		kind    string
		id      regions.ID
		err     error
	}{
		{"fd.00b0.get.users.00b0000000000001", "users", regions.NewID(0xb0, 1), nil},
		{"fd.00b0.get.users.00a0000000000001", "", 0, ErrBadSubject}, // record of another region
		{"fd.00b0.get.users", "", 0, ErrBadSubject},
		{"fd.00b0.put.users.00b0000000000001", "", 0, ErrBadSubject},
		{"fd.00B0.get.users.00b0000000000001", "", 0, regions.ErrBadRegion},
		{"fd.0000.get.users.0000000000000001", "", 0, regions.ErrReservedRegion},
		{"fd.00b0.get.users.00b0000000000000", "", 0, regions.ErrZeroSeq},
		{"fdx.00b0.get.users.00b0000000000001", "", 0, ErrBadSubject},
	}
	for _, tc := range cases {
		kind, id, err := ParseLookup(tc.subject)
		if !errors.Is(err, tc.err) || kind != tc.kind || id != tc.id {
			t.Errorf("ParseLookup(%q) = %q, %v, %v; want %q, %v, %v", tc.subject, kind, id, err, tc.kind, tc.id, tc.err)
		}
	}
}

func TestSubjectsRoundTrip(t *testing.T) {
	id := regions.NewID(0x00a3, 42)
	s := LookupSubject("users", id)
	if s != "fd.00a3.get.users.00a300000000002a" {
		t.Fatalf("LookupSubject = %s", s)
	}
	kind, got, err := ParseLookup(s)
	if err != nil || kind != "users" || got != id {
		t.Fatalf("round trip: %s %v %v", kind, got, err)
	}
	if ServeSubject(0x00a3, "users") != "fd.00a3.get.users.*" || Subject(0x00a3, "a", "b") != "fd.00a3.a.b" {
		t.Fatal("subject builders")
	}
	relay, err := RelaySubject(0x0001, s)
	if err != nil || relay != "fdh.0001.00a3.get.users.00a300000000002a" {
		t.Fatalf("RelaySubject = %s, %v", relay, err)
	}
	if _, err := RelaySubject(1, "orders.new"); !errors.Is(err, ErrBadSubject) {
		t.Fatalf("RelaySubject of a non-region subject: %v", err)
	}
}

func TestCheckPublishAndKind(t *testing.T) {
	for s, ok := range map[string]bool{
		"fd.00b0.events": true, "fd.00b0.a.b.c": true, "fd.00b0.*": false, "fd.00b0.>": false,
		"fd.00b0.": false, "fd.00b0.a..b": false, "orders": false, "fd.b0.x": false,
	} {
		if err := CheckPublish(s); (err == nil) != ok {
			t.Errorf("CheckPublish(%q) = %v", s, err)
		}
	}
	for k, ok := range map[string]bool{"users": true, "": false, "a.b": false, "*": false, "a b": false} {
		if err := CheckKind(k); (err == nil) != ok {
			t.Errorf("CheckKind(%q) = %v", k, err)
		}
	}
}

func TestReplyStatus(t *testing.T) {
	m := StatusReply("_INBOX.x", StatusNoResponder, "nobody")
	if ReplyStatus(m) != StatusNoResponder || m.Header.Get("Status") != "503" || m.Header.Get(HeaderError) != "nobody" {
		t.Fatalf("no-responder reply %+v", m.Header)
	}
	if nf := StatusReply("_INBOX.x", StatusNotFound, ""); nf.Header.Get("Status") != "" {
		t.Fatal("not-found must not look like no responders")
	}
	native := nats.NewMsg("_INBOX.x")
	native.Header.Set("Status", "503")
	if ReplyStatus(native) != StatusNoResponder {
		t.Fatal("server 503 not read as no-responder")
	}
	if ReplyStatus(&nats.Msg{Data: []byte("x")}) != StatusOK {
		t.Fatal("plain reply not ok")
	}
}

func FuzzParseLookup(f *testing.F) {
	f.Add("fd.00b0.get.users.00b0000000000001")
	f.Add("fd.0001.get.x.0001ffffffffffff")
	f.Add("fd..get..")
	f.Fuzz(func(t *testing.T, s string) {
		kind, id, err := ParseLookup(s)
		if err != nil {
			return
		}
		if LookupSubject(kind, id) != s {
			t.Fatalf("%q parsed to %q %v, which formats as %q", s, kind, id, LookupSubject(kind, id))
		}
	})
}
