package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/fedist/fedist/regions"
)

func TestRecordsRoundTrip(t *testing.T) {
	users := []User{
		{ID: id(1), Handle: "alice@b", Name: "Alice", Created: t0, Following: []regions.ID{}, Recent: []Ref{}},
		{ID: id(2), Handle: "bob@a1", Name: "Bob", Created: t0, Origin: regions.NewID(0x00a1, 5), MovedTo: id(3),
			Following: []regions.ID{id(1)}, Recent: []Ref{{id(4), t0.Add(time.Second)}}},
	}
	for _, u := range users {
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		var got User
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if len(got.Following) == 0 {
			got.Following = []regions.ID{}
		}
		if len(got.Recent) == 0 {
			got.Recent = []Ref{}
		}
		if !reflect.DeepEqual(got, u) {
			t.Errorf("round trip of %s: got %+v, want %+v", b, got, u)
		}
	}
	p := Post{ID: id(4), Author: id(2), Text: "hello", At: t0}
	b, _ := json.Marshal(p)
	var got Post
	if err := json.Unmarshal(b, &got); err != nil || got != p {
		t.Fatalf("post %s: %+v, %v", b, got, err)
	}
}

func TestRecordsRejectBadIDs(t *testing.T) {
	for _, in := range []string{
		`{"id":"00b0"}`,
		`{"id":"0000000000000001"}`,
		`{"id":"00b0000000000001","following":["zz"]}`,
		`{"id":"00b0000000000001","recent":[{"id":"00B0000000000001"}]}`,
	} {
		var u User
		if err := json.Unmarshal([]byte(in), &u); err == nil {
			t.Errorf("%s: decoded as %+v, want an error", in, u)
		}
	}
}

func FuzzUserRecord(f *testing.F) {
	f.Add([]byte(`{"id":"00b0000000000001","handle":"a@b","following":["00a1000000000002"],"recent":[{"id":"00b0000000000003","at":"2026-03-01T12:00:00Z"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var u User
		if json.Unmarshal(b, &u) != nil {
			return
		}
		out, err := json.Marshal(u)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", u, err)
		}
		var again User
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decode of own encoding %s: %v", out, err)
		}
	})
}
