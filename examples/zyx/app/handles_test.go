package app

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/fedist/fedist/examples/zyx/store"
	"github.com/fedist/fedist/regions"
)

func TestParseHandle(t *testing.T) {
	for _, tc := range []struct {
		in, local, region string
		ok                bool
	}{
		{"alice@eu", "alice", "eu", true},
		{"a_1@us-east-1", "a_1", "us-east-1", true},
		{"alice", "", "", false},
		{"alice@", "", "", false},
		{"@eu", "", "", false},
		{"Alice@eu", "", "", false},
		{"al.ice@eu", "", "", false}, // would be two subject tokens
		{"al*@eu", "", "", false},
		{"abcdefghijabcdefghijabcdefghijabc@eu", "", "", false}, // 33 characters
	} {
		local, region, err := parseHandle(tc.in)
		if ok := err == nil; ok != tc.ok || local != tc.local || region != tc.region {
			t.Errorf("parseHandle(%q) = %q, %q, %v; want ok=%v %q %q", tc.in, local, region, err, tc.ok, tc.local, tc.region)
		}
		if err != nil && !errors.Is(err, ErrBadInput) {
			t.Errorf("parseHandle(%q): %v does not wrap ErrBadInput", tc.in, err)
		}
	}
}

func FuzzParseHandle(f *testing.F) {
	f.Add("alice@eu")
	f.Add("a.b@c")
	f.Fuzz(func(t *testing.T, s string) {
		local, _, err := parseHandle(s)
		if err != nil {
			return
		}
		if checkLocal(local) != nil {
			t.Fatalf("parseHandle(%q) accepted local %q", s, local)
		}
		if subj := handleSubject(0x00a0, local); len(subj) != len("fd.00a0.zyx.handle.")+len(local) {
			t.Fatalf("subject %q", subj)
		}
	})
}

func TestNewestRefs(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ref := func(r regions.RegionID, seq uint64, min int) store.Ref {
		return store.Ref{ID: regions.NewID(r, seq), At: t0.Add(time.Duration(min) * time.Minute)}
	}
	u1 := store.User{ID: regions.NewID(0x00a0, 1), Recent: []store.Ref{ref(0xa0, 5, 9), ref(0xa0, 4, 5), ref(0xa0, 3, 1)}}
	u2 := store.User{ID: regions.NewID(0x00b0, 1), Recent: []store.Ref{ref(0xb0, 7, 8), ref(0xb0, 6, 5)}}
	// u1 twice (two followed IDs forwarding to one user) and a user that could not be read (zero).
	got := newestRefs([]store.User{u1, {}, u2, u1}, 2, 3)
	want := []store.Ref{ref(0xa0, 5, 9), ref(0xb0, 7, 8), ref(0xb0, 6, 5)} // same minute: the larger ID first
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
