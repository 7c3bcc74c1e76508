package sketch

import (
	"fmt"
	"math"
)

// Buckets is a histogram in the shape of an OTel ExponentialHistogram data
// point (positive range only; the unit is nanoseconds) or a Prometheus
// native histogram with zero threshold 0: Counts[j] is the count of bucket
// Offset+j at Scale, the bucket (2^((Offset+j)/2^Scale), 2^((Offset+j+1)/2^Scale)].
// The total count is ZeroCount plus the sum of Counts.
type Buckets struct {
	Scale     int32
	ZeroCount uint64
	Offset    int32
	Counts    []uint64
	// Sum is the sum of values in nanoseconds.
	Sum float64
}

// Buckets exports the histogram. Counts reuses buf's storage when it is
// large enough (pass nil to allocate); it runs from the lowest to the
// highest non-empty bucket and is empty, with Offset 0, when no bucket holds
// a count.
func (h *Histogram) Buckets(buf []uint64) Buckets {
	b := Buckets{Scale: int32(h.Scale()), ZeroCount: h.zero, Counts: buf[:0], Sum: h.Sum()}
	if h.n > 0 {
		b.Offset = h.lo
		for i := h.lo; i <= h.hi(); i++ {
			b.Counts = append(b.Counts, h.c.at(i-h.base))
		}
	}
	return b
}

// AddBuckets merges exported or received buckets into h, as Merge does for a
// Histogram: data at a finer scale (up to OTel's 20) is mapped to h's scale,
// and h is downscaled to a coarser one. It returns an error and leaves h
// unchanged if the scale is outside [MinScale, 20], a non-empty bucket lies
// beyond the values (2^-64, 2^64] ns, or Sum is negative or not finite.
// Sum, a float64, is exact only up to 2^53 ns.
func (h *Histogram) AddBuckets(b Buckets) error {
	s := int(b.Scale)
	if s < MinScale || s > maxImportScale {
		return fmt.Errorf("sketch: add buckets: scale %d outside [%d, %d]", s, MinScale, maxImportScale)
	}
	if !(b.Sum >= 0) || b.Sum >= 0x1p128 {
		return fmt.Errorf("sketch: add buckets: sum %g ns not in [0, 2^128)", b.Sum)
	}
	// Only the non-empty range matters.
	first, last := 0, len(b.Counts)-1
	for first <= last && b.Counts[first] == 0 {
		first++
	}
	for last >= first && b.Counts[last] == 0 {
		last--
	}
	if first <= last {
		lo, hi := int64(b.Offset)+int64(first), int64(b.Offset)+int64(last)
		if rlo, rhi := indexRange(s); lo < rlo || hi > rhi {
			return fmt.Errorf("sketch: add buckets: buckets %d..%d outside %d..%d at scale %d", lo, hi, rlo, rhi, s)
		}
		h.prepare(s, int32(lo), int32(hi))
		d := s - h.Scale()
		for j := first; j <= last; j++ {
			if n := b.Counts[j]; n != 0 {
				h.c.addWiden(int32((lo+int64(j-first))>>d)-h.base, n)
			}
		}
	} else if s < h.Scale() {
		h.downscale(h.Scale() - s)
	}
	var total uint64
	for _, n := range b.Counts {
		total += n
	}
	h.zero += b.ZeroCount
	h.count += b.ZeroCount + total
	h.addSum(float128(b.Sum))
	return nil
}

// float128 converts a finite f in [0, 2^128) to a 128-bit integer, truncating.
func float128(f float64) (hi, lo uint64) {
	if f < 0x1p64 {
		return 0, uint64(f)
	}
	hi = uint64(f / 0x1p64)
	// Exact: f and hi·2^64 share their leading bits.
	return hi, uint64(f - math.Ldexp(float64(hi), 64))
}
