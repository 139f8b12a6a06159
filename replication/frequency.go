package replication

// frequency is TinyLFU's popularity sketch: a count-min sketch of 4-bit counters, 4 rows of
// 4 × capacity counters (capacity = MaxEntries rounded up to a power of two), packed 16 to a word:
// 8 bytes per entry, as in Caffeine. Counters saturate at 15; updates are conservative (only the
// key's least counters grow), which keeps a once-seen key from looking popular through collisions.
// After 10 × capacity increments every counter is halved, so popularity is recent: a key must keep
// being read to stay popular.
type frequency struct {
	width      int      // counters per row, a power of two ≥ 16
	words      []uint64 // row i is words[i*width/16 : (i+1)*width/16]
	additions  int      // increments since the last halving, halved with the counters
	sampleSize int      // halve when additions reaches this
}

const (
	frequencyRows     = 4
	frequencyMaxWidth = 1 << 20 // 2 MiB in all; stores above 256 Ki entries share counters a little more
	frequencyMax      = 15
)

// newFrequency sizes the sketch for a store of up to entries entries.
func newFrequency(entries int) frequency {
	capacity := 4
	for capacity < entries && capacity < frequencyMaxWidth/4 {
		capacity *= 2
	}
	width := 4 * capacity
	return frequency{
		width:      width,
		words:      make([]uint64, frequencyRows*width/16),
		sampleSize: 10 * capacity,
	}
}

// increment counts one access of the key hashed to h.
func (f *frequency) increment(h uint64) {
	least := f.estimate(h)
	if least == frequencyMax {
		return
	}
	for i := range frequencyRows {
		w, shift := f.slot(h, i)
		if int((*w>>shift)&0xf) == least {
			*w += 1 << shift
		}
	}
	if f.additions++; f.additions >= f.sampleSize {
		f.halve()
	}
}

// estimate returns the key's recent popularity, 0..15: never below the number of its increments
// since the last halving, nor below half of those before it.
func (f *frequency) estimate(h uint64) int {
	least := frequencyMax
	for i := range frequencyRows {
		w, shift := f.slot(h, i)
		least = min(least, int((*w>>shift)&0xf))
	}
	return least
}

// halve divides every counter by two.
func (f *frequency) halve() {
	for i, w := range f.words {
		f.words[i] = (w >> 1) & 0x7777777777777777
	}
	f.additions /= 2
}

// slot returns the word holding the key's counter in row i and the counter's bit offset in it.
func (f *frequency) slot(h uint64, i int) (*uint64, uint) {
	j := rowIndex(h, i, f.width)
	return &f.words[i*f.width/16+j/16], uint(j%16) * 4
}
