package costs

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
)

// DecodeMsgpack decodes a Coord written by msgpack's default struct encoding (a map with keys v, h,
// e and a; unknown keys are skipped) and refuses a vector longer than 16 before allocating it.
//
// The library's own decoder cannot be trusted with that: msgpack v5.4.0 and v5.4.1 never apply
// their allocation limit to slices decoded by reflection (decode_slice.go compares the flag with 1
// instead of 0; vmihailenco/msgpack#401), so a five-byte array header from the network makes the
// decoder allocate 34 GiB. The result still needs Valid: this checks only the size.
func (c *Coord) DecodeMsgpack(d *msgpack.Decoder) error {
	n, err := d.DecodeMapLen()
	if err != nil {
		return err
	}
	*c = Coord{}
	for range max(n, 0) { // n is -1 for nil
		key, err := d.DecodeString()
		if err != nil {
			return err
		}
		switch key {
		case "v":
			err = c.decodeVec(d)
		case "h":
			c.Height, err = d.DecodeFloat64()
		case "e":
			c.Error, err = d.DecodeFloat64()
		case "a":
			c.Adjustment, err = d.DecodeFloat64()
		default:
			err = d.Skip()
		}
		if err != nil {
			return fmt.Errorf("coordinate field %q: %w", key, err)
		}
	}
	return nil
}

// decodeVec decodes Vec, at most coordMaxDim numbers.
func (c *Coord) decodeVec(d *msgpack.Decoder) error {
	n, err := d.DecodeArrayLen()
	switch {
	case err != nil:
		return err
	case n > coordMaxDim:
		return fmt.Errorf("%w: %d dimensions, at most %d", ErrCoord, n, coordMaxDim)
	case n < 0:
		c.Vec = nil
		return nil
	}
	c.Vec = make([]float64, n)
	for i := range c.Vec {
		if c.Vec[i], err = d.DecodeFloat64(); err != nil {
			return err
		}
	}
	return nil
}
