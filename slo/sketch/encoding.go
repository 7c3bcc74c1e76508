package sketch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// ErrCorrupt is wrapped by UnmarshalBinary's errors: the data is not a
// histogram this package encoded.
var ErrCorrupt = errors.New("sketch: corrupt histogram encoding")

// encodingVersion is the first byte of the binary form. Version 1:
//
//	version            byte (1)
//	scale              int8
//	configured scale   int8
//	max buckets        uvarint
//	zero count         uvarint
//	sum                uvarint high 64 bits, uvarint low 64 bits
//	bucket count n     uvarint
//	if n > 0:
//	  lowest index     varint
//	  n counts         uvarint each, the first and last non-zero
//
// Counts are dense: an empty bucket inside the range costs one byte, and
// the range of latency data is mostly full. The total count is not stored;
// it is the zero count plus the bucket counts.
const encodingVersion = 1

// AppendBinary appends the histogram's compact binary form to b, for
// checkpoints. It implements encoding.BinaryAppender and never fails.
func (h *Histogram) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion, byte(int8(h.Scale())), byte(int8(h.ConfiguredScale())))
	b = binary.AppendUvarint(b, uint64(h.MaxBuckets()))
	b = binary.AppendUvarint(b, h.zero)
	b = binary.AppendUvarint(b, h.sumHi)
	b = binary.AppendUvarint(b, h.sumLo)
	b = binary.AppendUvarint(b, uint64(h.n))
	if h.n > 0 {
		b = binary.AppendVarint(b, int64(h.lo))
		if h.c.wsh == 0 {
			// 8-bit counters, most sealed slots: a count is one byte
			// below 128 and two up to 255, so the room is known up front.
			b = slices.Grow(b, 2*int(h.n))
			for i := h.lo; i <= h.hi(); i++ {
				if c := h.c.at(i - h.base); c < 0x80 {
					b = append(b, byte(c))
				} else {
					b = append(b, byte(c)|0x80, byte(c>>7))
				}
			}
			return b, nil
		}
		for i := h.lo; i <= h.hi(); i++ {
			b = binary.AppendUvarint(b, h.c.at(i-h.base))
		}
	}
	return b, nil
}

// MarshalBinary returns the histogram's binary form. It implements
// encoding.BinaryMarshaler.
func (h *Histogram) MarshalBinary() ([]byte, error) {
	return h.AppendBinary(nil)
}

// UnmarshalBinary replaces h with the histogram encoded in data, reusing h's
// storage when it can. On error, which wraps ErrCorrupt, h is unchanged. It
// implements encoding.BinaryUnmarshaler.
func (h *Histogram) UnmarshalBinary(data []byte) error {
	d, err := decodeHeader(data)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	wsh := wshFor(d.maxCount)
	h.clearData()
	if wsh > h.c.wsh {
		h.c = counters{wsh: wsh}
	}
	h.dscale, h.dconf = int8(d.scale-DefaultScale), int8(d.conf-DefaultScale)
	h.maxb = int32(d.maxb)
	h.zero, h.count, h.sumHi, h.sumLo = d.zero, d.count, d.sumHi, d.sumLo
	if d.n > 0 {
		h.cover(d.lo, d.lo+d.n-1)
		h.lo, h.n = d.lo, d.n
		rest := d.counts
		for i := d.lo; i < d.lo+d.n; i++ {
			n, k := binary.Uvarint(rest)
			rest = rest[k:]
			h.c.add(i-h.base, n)
		}
	}
	return nil
}

// decoded is a validated header; counts holds the encoded bucket counts.
type decoded struct {
	scale, conf, maxb int
	zero, count       uint64
	sumHi, sumLo      uint64
	lo, n             int32
	counts            []byte
	maxCount          uint64
}

// decodeHeader parses and validates data in full without touching a
// histogram, so a failed decode changes nothing.
func decodeHeader(data []byte) (decoded, error) {
	var d decoded
	if len(data) < 3 {
		return d, errors.New("too short")
	}
	if data[0] != encodingVersion {
		return d, fmt.Errorf("version %d, want %d", data[0], encodingVersion)
	}
	d.scale, d.conf = int(int8(data[1])), int(int8(data[2]))
	if d.scale < MinScale || d.conf > MaxScale || d.scale > d.conf {
		return d, fmt.Errorf("scale %d, configured %d: want %d <= scale <= configured <= %d",
			d.scale, d.conf, MinScale, MaxScale)
	}
	r := reader{b: data[3:]}
	maxb := r.uvarint()
	d.zero = r.uvarint()
	d.sumHi = r.uvarint()
	d.sumLo = r.uvarint()
	n := r.uvarint()
	if r.err != nil {
		return d, r.err
	}
	if maxb < minMaxBuckets || maxb > MaxBucketsLimit {
		return d, fmt.Errorf("max buckets %d outside [%d, %d]", maxb, minMaxBuckets, MaxBucketsLimit)
	}
	d.maxb = int(maxb)
	if n > maxb {
		return d, fmt.Errorf("%d buckets exceed the bound %d", n, maxb)
	}
	d.n, d.count = int32(n), d.zero
	if n > 0 {
		lo := r.varint()
		if r.err != nil {
			return d, r.err
		}
		if rlo, rhi := indexRange(d.scale); lo < rlo || lo+int64(n)-1 > rhi {
			return d, fmt.Errorf("buckets %d..%d outside %d..%d at scale %d", lo, lo+int64(n)-1, rlo, rhi, d.scale)
		}
		d.lo, d.counts = int32(lo), r.b
		for j := range n {
			c := r.uvarint()
			if r.err != nil {
				return d, r.err
			}
			if c == 0 && (j == 0 || j == n-1) {
				return d, errors.New("empty bucket at an end of the range")
			}
			var carry uint64
			if d.count, carry = bits.Add64(d.count, c, 0); carry != 0 {
				return d, errors.New("count overflows uint64")
			}
			d.maxCount = max(d.maxCount, c)
		}
	}
	if len(r.b) != 0 {
		return d, fmt.Errorf("%d trailing bytes", len(r.b))
	}
	return d, nil
}

// reader decodes varints and remembers the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.err = errors.New("truncated or overlong varint")
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.err = errors.New("truncated or overlong varint")
		return 0
	}
	r.b = r.b[k:]
	return v
}
