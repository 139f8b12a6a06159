package replication

import (
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/fedist/fedist/regions"
)

// Key names a record: its lookup kind (a token such as "users") and its ID. The ID's region is
// the record's owner.
type Key struct {
	Kind string
	ID   regions.ID
}

// String formats the key as kind/id, e.g. users/00a300000000002a.
func (k Key) String() string { return fmt.Sprintf("%s/%s", k.Kind, k.ID) }

// hasher hashes keys to 64 bits with a seed. It is FNV-1a over the kind, mixed with the ID and
// finished with splitmix64's finalizer, so nearby IDs land far apart.
type hasher struct{ seed uint64 }

// newHasher returns a hasher for seed, or for a random seed when seed is 0.
func newHasher(seed uint64) hasher {
	for seed == 0 {
		seed = rand.Uint64()
	}
	return hasher{seed: seed}
}

func (h hasher) hash(k Key) uint64 {
	x := h.seed ^ 0xcbf29ce484222325
	for i := 0; i < len(k.Kind); i++ {
		x ^= uint64(k.Kind[i])
		x *= 0x100000001b3
	}
	return mix64(x ^ uint64(k.ID)*0x9e3779b97f4a7c15)
}

// mix64 is splitmix64's finalizer: every input bit flips each output bit with probability ~1/2.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// rowIndex returns the column of row i for hash h in a row of width columns: a fresh mix of h per
// row, reduced to [0, width) by multiply-shift (no division, any width).
func rowIndex(h uint64, i, width int) int {
	x := mix64(h + uint64(i+1)*0x9e3779b97f4a7c15)
	hi, _ := bits.Mul64(x, uint64(width))
	return int(hi)
}
