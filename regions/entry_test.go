package regions

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Entry
		want Entry // what UnmarshalEntry returns
	}{
		{
			name: "root, no URLs",
			in:   Entry{ID: 1, Name: "root", Status: StatusActive},
			want: Entry{ID: 1, IDText: "0001", Name: "root", Status: StatusActive,
				LeafURLs: []string{}, ClientURLs: []string{}},
		},
		{
			name: "child with explicit URLs",
			in: Entry{ID: 0xa3, Parent: 1, Name: "eu-west", Status: StatusJoining,
				LeafURLs: []string{"nats-leaf://a:7422"}, ClientURLs: []string{"nats://a:4222"}, Reason: "join requested"},
			want: Entry{ID: 0xa3, IDText: "00a3", Parent: 1, ParentText: "0001", Name: "eu-west", Status: StatusJoining,
				LeafURLs: []string{"nats-leaf://a:7422"}, ClientURLs: []string{"nats://a:4222"}, Reason: "join requested"},
		},
		{
			name: "URL unions come from the nodes",
			in: Entry{ID: 0xbeef, Parent: 0xa3, Name: "x", Status: StatusDown, LeafURLs: []string{"stale"},
				Nodes:   []Node{{Name: "n1", LeafURL: "l1", ClientURL: "c1"}, {Name: "n2", ClientURL: "c2"}},
				Updated: "2025-01-02T03:04:05Z"},
			want: Entry{ID: 0xbeef, IDText: "beef", Parent: 0xa3, ParentText: "00a3", Name: "x", Status: StatusDown,
				LeafURLs: []string{"l1"}, ClientURLs: []string{"c1", "c2"},
				Nodes:   []Node{{Name: "n1", LeafURL: "l1", ClientURL: "c1"}, {Name: "n2", ClientURL: "c2"}},
				Updated: "2025-01-02T03:04:05Z"},
		},
	} {
		before := tc.in.Clone()
		data, err := tc.in.Marshal()
		if err != nil {
			t.Fatalf("%s: Marshal: %v", tc.name, err)
		}
		got, err := UnmarshalEntry(data)
		if err != nil {
			t.Fatalf("%s: UnmarshalEntry(%s): %v", tc.name, data, err)
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", tc.name, *got, tc.want)
		}
		if !reflect.DeepEqual(tc.in.Clone(), before) {
			t.Errorf("%s: Marshal modified its receiver", tc.name)
		}
	}
}

// TestEntryWireFormat pins the JSON that foreign tools read: the contract's fields, lists never null.
func TestEntryWireFormat(t *testing.T) {
	data, err := (&Entry{ID: 2, Parent: 1, Name: "b", Status: StatusDraining}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": "0002", "name": "b", "parent": "0001", "status": "draining",
		"leaf_urls": []any{}, "client_urls": []any{}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("wire form %s, want %v", data, want)
	}
}

func TestUnmarshalEntryErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       error // nil: only check that it fails
	}{
		{"not JSON", `{"id":`, nil},
		{"bad status", `{"id":"0002","parent":"0001","status":"gone"}`, nil},
		{"empty status", `{"id":"0002","parent":"0001"}`, nil},
		{"upper-case id", `{"id":"00A3","status":"active"}`, ErrBadRegion},
		{"reserved id", `{"id":"0000","status":"active"}`, ErrReservedRegion},
		{"missing id", `{"status":"active"}`, ErrBadRegion},
		{"bad parent", `{"id":"0002","parent":"1","status":"active"}`, ErrBadRegion},
		{"reserved parent", `{"id":"0002","parent":"0000","status":"active"}`, ErrReservedRegion},
	} {
		e, err := UnmarshalEntry([]byte(tc.json))
		if err == nil || e != nil || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: UnmarshalEntry = %v, %v; want an error %v", tc.name, e, err, tc.want)
		}
	}
}

func TestStatusValid(t *testing.T) {
	for _, s := range []Status{StatusJoining, StatusActive, StatusDraining, StatusDown} {
		if !s.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
	}
	for _, s := range []Status{"", "Active", "up", "gone"} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
	}
}

func TestKey(t *testing.T) {
	if got := Key(0xa3); got != "region.00a3" {
		t.Errorf("Key(00a3) = %q", got)
	}
	for _, tc := range []struct {
		key  string
		want RegionID
		ok   bool
	}{
		{"region.00a3", 0xa3, true},
		{"region.ffff", 0xffff, true},
		{"region.0000", 0, false},
		{"region.00A3", 0, false},
		{"region.a3", 0, false},
		{"regions.00a3", 0, false},
		{"00a3", 0, false},
	} {
		got, err := ParseKey(tc.key)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q) = %s, %v; want %s ok=%v", tc.key, got, err, tc.want, tc.ok)
		}
	}
}

func TestEntryCloneAndNode(t *testing.T) {
	e := &Entry{ID: 3, Parent: 1, LeafURLs: []string{"l"}, ClientURLs: []string{"c"}, Nodes: []Node{{Name: "n1"}, {Name: "n2"}}}
	c := e.Clone()
	c.LeafURLs[0], c.ClientURLs[0], c.Nodes[0].Name = "x", "x", "x"
	if e.LeafURLs[0] != "l" || e.ClientURLs[0] != "c" || e.Nodes[0].Name != "n1" {
		t.Errorf("Clone shares memory with the original: %+v", e)
	}
	if n := e.Node("n2"); n == nil || n != &e.Nodes[1] {
		t.Errorf("Node(n2) = %v, want a pointer into Nodes", n)
	}
	if n := e.Node("n9"); n != nil {
		t.Errorf("Node(n9) = %v, want nil", n)
	}
	if !(&Entry{ID: 1}).IsRoot() || e.IsRoot() {
		t.Error("IsRoot wrong")
	}
}
