package sketch

import "math"

// Rank returns the nearest rank of quantile q among n values: ceil(q·n),
// clamped to [1, n], and 0 when n is 0. q <= 0 (or NaN) is the minimum, rank
// 1; q >= 1 is the maximum, rank n. When q·n is within float64 noise of an
// integer, that integer is the rank, so p99.9 of 1000 values is the 999th
// even though 0.999·1000 rounds to 999.0000000000001.
func Rank(q float64, n uint64) uint64 {
	switch {
	case n == 0:
		return 0
	case !(q > 0):
		return 1
	case q >= 1:
		return n
	}
	x := q * float64(n)
	r := math.Ceil(x)
	if near := math.Round(x); math.Abs(x-near) <= x*1e-12 {
		r = near
	}
	switch {
	case r < 1:
		return 1
	case r >= float64(n):
		return n
	}
	return uint64(r)
}

// Quantile returns the nearest-rank estimate of quantile q in nanoseconds: it
// finds the bucket holding the Rank(q, Count())-th smallest value and
// returns the integer in that bucket with the least worst-case relative
// error against any value the bucket holds (at most RelativeError(Scale()),
// 1.083% at DefaultScale, plus 0.5 ns of rounding). It returns 0 when the
// rank falls in the zero bucket or the histogram is empty.
//
// Quantile(q) <= t exactly when CountAtOrBelow(t) >= Rank(q, Count()), so a
// time-slice SLO gives the same verdict whichever it asks.
func (h *Histogram) Quantile(q float64) int64 {
	if h.count == 0 {
		return 0
	}
	r := Rank(q, h.count)
	if r <= h.zero {
		return 0
	}
	return clampInt64(representative(h.rankBucket(r), h.Scale()))
}

// rankBucket returns the index of the bucket holding the r-th smallest value,
// which must be above the zero bucket. It scans from the nearer end, so high
// quantiles, the common case, touch only the tail.
func (h *Histogram) rankBucket(r uint64) int32 {
	if r > h.count/2 {
		// acc is the number of values in buckets at or below i.
		acc := h.count
		for i := h.hi(); i > h.lo; i-- {
			acc -= h.c.at(i - h.base)
			if acc < r {
				return i
			}
		}
		return h.lo
	}
	acc := h.zero
	for i := h.lo; i < h.hi(); i++ {
		acc += h.c.at(i - h.base)
		if acc >= r {
			return i
		}
	}
	return h.hi()
}

// CountAtOrBelow returns how many recorded values are <= t nanoseconds. It
// is exact when t is the greatest integer of its bucket (Bounds' hi) or t <=
// 0. Otherwise the bucket holding t is counted in full when t is at or above
// the value Quantile reports for that bucket and not at all when below, the
// rule that keeps it consistent with Quantile. Values recorded as negative
// count as zero, so CountAtOrBelow(t) is 0 for t < 0.
func (h *Histogram) CountAtOrBelow(t int64) uint64 {
	if t < 0 {
		return 0
	}
	if t == 0 || h.n == 0 {
		return h.zero
	}
	i := index8(uint64(t)) >> uint(MaxScale-h.Scale())
	switch {
	case i < h.lo:
		return h.zero
	case i > h.hi():
		return h.count
	}
	in := uint64(t) >= representative(i, h.Scale())
	if i-h.lo <= h.hi()-i {
		acc := h.zero
		for j := h.lo; j < i; j++ {
			acc += h.c.at(j - h.base)
		}
		if in {
			acc += h.c.at(i - h.base)
		}
		return acc
	}
	acc := h.count
	for j := h.hi(); j > i; j-- {
		acc -= h.c.at(j - h.base)
	}
	if !in {
		acc -= h.c.at(i - h.base)
	}
	return acc
}
