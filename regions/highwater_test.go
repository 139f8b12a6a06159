package regions

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

func openHighWater(t *testing.T, path string) *HighWater {
	t.Helper()
	h, err := OpenHighWater(path)
	if err != nil {
		t.Fatalf("OpenHighWater: %v", err)
	}
	return h
}

func fileHolds(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("%s holds %q, %v; want %q", filepath.Base(path), got, err, want)
	}
}

func TestHighWater(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ids.hwm")
	h := openHighWater(t, path)
	if v := h.Load(); v != 0 {
		t.Fatalf("missing file: Load = %d, want 0", v)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenHighWater created the file (%v); want it created by the first Raise", err)
	}
	for _, step := range []struct{ raise, want uint64 }{
		{0, 0}, {65537, 65537}, {65537, 65537}, {100, 65537}, {131073, 131073}, {1<<64 - 1, 1<<64 - 1},
	} {
		if err := h.Raise(step.raise); err != nil {
			t.Fatalf("Raise(%d): %v", step.raise, err)
		}
		if v := h.Load(); v != step.want {
			t.Errorf("Raise(%d): Load = %d, want %d", step.raise, v, step.want)
		}
		if v := openHighWater(t, path).Load(); v != step.want {
			t.Errorf("Raise(%d): reopened Load = %d, want %d", step.raise, v, step.want)
		}
	}
	fileHolds(t, path, "18446744073709551615\n")
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

func TestHighWaterFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		content string
		want    uint64 // for a valid file
		ok      bool
	}{
		{"42\n", 42, true},
		{"42", 42, true}, // written by hand
		{"0\n", 0, true},
		{"18446744073709551615\n", 1<<64 - 1, true},
		{"", 0, false}, // a file that exists is never read as 0 by accident
		{"\n", 0, false},
		{"abc\n", 0, false},
		{"-1\n", 0, false},
		{" 42\n", 0, false},
		{"42\n\n", 0, false},
		{"42 43\n", 0, false},
		{"0x2a\n", 0, false},
		{"18446744073709551616\n", 0, false}, // overflows
		{"\x00\x00\x00\x00", 0, false},       // a torn write on a file system without rename
	} {
		path := filepath.Join(dir, "hwm")
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := OpenHighWater(path)
		switch {
		case tc.ok && (err != nil || h.Load() != tc.want):
			t.Errorf("file %q: OpenHighWater = %v; want Load %d", tc.content, err, tc.want)
		case !tc.ok && !errors.Is(err, ErrBadHighWater):
			t.Errorf("file %q: OpenHighWater = %v, want ErrBadHighWater", tc.content, err)
		}
	}
	if _, err := OpenHighWater(dir); err == nil || errors.Is(err, ErrBadHighWater) {
		t.Errorf("a directory: OpenHighWater = %v, want a read error", err)
	}
}

func TestHighWaterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hwm")
	h := openHighWater(t, path)
	if err := h.Raise(10); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", []byte("junk from a crash"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := h.Raise(20); err != nil {
		t.Fatalf("Raise over a leftover temporary file: %v", err)
	}
	fileHolds(t, path, "20\n")

	gone := openHighWater(t, filepath.Join(dir, "no-such-dir", "hwm"))
	if err := gone.Raise(5); err == nil {
		t.Fatal("Raise into a missing directory succeeded")
	}
	if v := gone.Load(); v != 0 {
		t.Errorf("Load after a failed Raise = %d, want 0 (unchanged)", v)
	}
}

// TestHighWaterConcurrent raises one mark from many goroutines while readers watch it: the mark
// never falls, ends at the largest value raised, and the file agrees.
func TestHighWaterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hwm")
	h := openHighWater(t, path)
	const raisers, each = 8, 25
	var raisersWG, readersWG sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		readersWG.Go(func() {
			var last uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				runtime.Gosched()
				v := h.Load()
				if v < last {
					t.Errorf("Load fell from %d to %d", last, v)
					return
				}
				last = v
			}
		})
	}
	for r := range raisers {
		raisersWG.Go(func() {
			for i := range each {
				v := uint64(i*raisers + r + 1) // raisers interleave, so many raises are no-ops
				if err := h.Raise(v); err != nil {
					t.Errorf("Raise(%d): %v", v, err)
					return
				}
				if got := h.Load(); got < v {
					t.Errorf("Load = %d right after Raise(%d)", got, v)
				}
			}
		})
	}
	raisersWG.Wait()
	close(stop)
	readersWG.Wait()
	const want = raisers * each
	if v := h.Load(); v != want {
		t.Errorf("Load = %d, want %d", v, want)
	}
	fileHolds(t, path, "200\n")
	if v := openHighWater(t, path).Load(); v != want {
		t.Errorf("reopened Load = %d, want %d", v, want)
	}
}
