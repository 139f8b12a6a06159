package replication

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDetectorObserve observes a Zipf(1.1) stream over 1e6 keys with the default config.
func BenchmarkDetectorObserve(b *testing.B) {
	d := newTestDetector(b, nil)
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, 1e6)
	keys := make([]Key, 1<<16)
	for i := range keys {
		keys[i] = key(z.Uint64())
	}
	for i := 0; b.Loop(); i++ {
		d.Observe(keys[i&(len(keys)-1)], t0.Add(time.Duration(i)*time.Microsecond))
	}
}

// BenchmarkStoreGet reads a full store of 10 000 entries, Zipf(1.1) over 20 000 keys, so about
// half the reads miss.
func BenchmarkStoreGet(b *testing.B) {
	s := newTestStore(b, 1<<30, 10_000)
	for i := range 10_000 {
		s.Admit(key(uint64(i)), val(100), t0)
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 1, 20_000)
	keys := make([]Key, 1<<16)
	for i := range keys {
		keys[i] = key(z.Uint64())
	}
	for i := 0; b.Loop(); i++ {
		s.Get(keys[i&(len(keys)-1)], t0)
	}
}

// BenchmarkStoreAdmit admits new keys into a full store: every call evicts or rejects one.
func BenchmarkStoreAdmit(b *testing.B) {
	s := newTestStore(b, 1<<30, 10_000)
	v := val(100)
	for i := 0; b.Loop(); i++ {
		s.Admit(key(uint64(i)), v, t0)
	}
}
