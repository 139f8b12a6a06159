package linkemu

import (
	"errors"
	"testing"
	"time"
)

// TestMesh wires regions a and b both ways and drives the pair through the Mesh.
func TestMesh(t *testing.T) {
	var m Mesh
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	targetA, targetB := startServer(t, echo), startServer(t, echo)
	ab, err := m.Add("a", "b", targetB, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := m.Add("b", "a", targetA, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if m.Get("a", "b") != ab || m.Get("b", "a") != ba || m.Get("a", "c") != nil {
		t.Fatal("Get does not return the links Add made")
	}
	if _, err := m.Add("a", "b", targetB, DefaultConfig()); !errors.Is(err, ErrLinkExists) {
		t.Fatalf("second Add(a, b) = %v, want ErrLinkExists", err)
	}

	if err := m.SetRTT("a", "b", 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Link{ab, ba} {
		if d := l.Config().Delay; d != 10*time.Millisecond {
			t.Fatalf("link to %s has Delay %v after SetRTT(20ms), want 10ms", l.Target(), d)
		}
		expectRTT(t, dial(t, l.Addr()), 9, 20*time.Millisecond)
	}

	if err := m.Cut("b", "a"); err != nil {
		t.Fatal(err)
	}
	if !ab.IsCut() || !ba.IsCut() {
		t.Fatal("Cut(b, a) did not cut both directions")
	}
	if err := m.Heal("a", "b"); err != nil {
		t.Fatal(err)
	}
	if ab.IsCut() || ba.IsCut() {
		t.Fatal("Heal(a, b) did not heal both directions")
	}

	if err := m.Cut("a", "c"); !errors.Is(err, ErrNoLink) {
		t.Fatalf("Cut(a, c) = %v, want ErrNoLink", err)
	}
	if err := m.SetConfig("a", "b", Config{Jitter: time.Second}); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("SetConfig with bad config = %v, want ErrBadConfig", err)
	}

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ab.Dial("tcp", ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Dial on a closed mesh's link = %v, want ErrClosed", err)
	}
	if _, err := m.Add("a", "b", targetB, DefaultConfig()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Add after Close = %v, want ErrClosed", err)
	}
}
