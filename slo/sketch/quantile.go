package sketch

import (
	"math"
	"sync"
)

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

// Quantiles sets out[k] to Quantile(qs[k]) for every k, walking the buckets
// once instead of once per quantile. qs should
// be ascending (as P50, P90, P99 are); out must be at least as long as qs.
// Other orders give the same results, one Quantile at a time.
func (h *Histogram) Quantiles(qs []float64, out []int64) {
	out = out[:len(qs)]
	if h.count == 0 {
		clear(out)
		return
	}
	const maxFast = 16
	var ranks [maxFast]uint64
	var buckets [maxFast]int32
	if len(qs) > maxFast {
		for k, q := range qs {
			out[k] = h.Quantile(q)
		}
		return
	}
	for k, q := range qs {
		ranks[k] = Rank(q, h.count)
		if k > 0 && ranks[k] < ranks[k-1] {
			for k, q := range qs {
				out[k] = h.Quantile(q)
			}
			return
		}
	}
	// Ranks in the zero bucket report 0. The others are found in one walk
	// down from hi when any is above half the count: the walk that finds
	// P90 and up goes on to P50, which is nearer to P90 than to the lowest
	// bucket for latencies (a long walk up from the fastest outlier, and
	// memory far from the tail). With only low ranks it walks up from lo.
	// Either way a rank's bucket is the one Quantile finds.
	n := len(qs)
	z := 0
	for z < n && ranks[z] <= h.zero {
		out[z] = 0
		z++
	}
	if z == n {
		return
	}
	if ranks[n-1] > h.count/2 {
		h.rankBucketsDown(ranks[z:n], buckets[z:n])
	} else {
		h.rankBucketsUp(ranks[z:n], buckets[z:n])
	}
	scale := h.Scale()
	for k := z; k < n; k++ {
		if k > z && buckets[k] == buckets[k-1] {
			out[k] = out[k-1]
			continue
		}
		out[k] = representativeInt64(buckets[k], scale)
	}
}

// defaultReps are the representatives of every bucket at DefaultScale
// within indexRange, computed once: representative's float arithmetic
// costs more than the rest of a Quantiles call on a narrow histogram.
var defaultReps = sync.OnceValue(func() []int64 {
	lo, hi := indexRange(DefaultScale)
	reps := make([]int64, hi-lo+1)
	for i := range reps {
		reps[i] = clampInt64(representative(int32(lo+int64(i)), DefaultScale))
	}
	return reps
})

// representativeInt64 is clampInt64(representative(index, scale)), from a
// table at DefaultScale.
func representativeInt64(index int32, scale int) int64 {
	if scale == DefaultScale {
		lo, _ := indexRange(DefaultScale)
		if reps := defaultReps(); uint64(int64(index)-lo) < uint64(len(reps)) {
			return reps[int64(index)-lo]
		}
	}
	return clampInt64(representative(index, scale))
}

// wordSum returns the sum of the counters packed in word w at width 8<<wsh.
func wordSum(w uint64, wsh uint8) uint64 {
	switch wsh {
	case 0:
		w = w&0x00ff00ff00ff00ff + w>>8&0x00ff00ff00ff00ff
		fallthrough
	case 1:
		w = w&0x0000ffff0000ffff + w>>16&0x0000ffff0000ffff
		fallthrough
	case 2:
		return w&0xffffffff + w>>32
	}
	return w
}

// rankBucketsUp sets out[k] to rankBucket(rs[k]) for ascending ranks rs,
// each above the zero bucket, in one walk up
// from the lowest bucket. Whole words of counters are skipped while they
// cannot reach the next rank.
func (h *Histogram) rankBucketsUp(rs []uint64, out []int32) {
	hi := h.hi()
	wsh := h.c.wsh & 3
	per, sh := int32(8)>>wsh, 3-wsh
	acc := h.zero
	k := 0
	for i := h.lo; i < hi; {
		p := i - h.base
		// A whole word of counters inside [i, hi): skip it if the next
		// rank lies beyond it.
		if p&(per-1) == 0 && i+per <= hi {
			if s := wordSum(h.c.words[p>>sh], wsh); acc+s < rs[k] {
				acc += s
				i += per
				continue
			}
		}
		acc += h.c.at(p)
		for acc >= rs[k] {
			out[k] = i
			if k++; k == len(rs) {
				return
			}
		}
		i++
	}
	for ; k < len(rs); k++ {
		out[k] = hi
	}
}

// rankBucketsDown sets out[k] to rankBucket(rs[k]) for ascending ranks rs,
// each above the zero bucket, in one walk down from the highest bucket.
func (h *Histogram) rankBucketsDown(rs []uint64, out []int32) {
	wsh := h.c.wsh & 3
	per, sh := int32(8)>>wsh, 3-wsh
	// acc is the number of values in buckets below i once i is subtracted.
	acc := h.count
	k := len(rs) - 1
	for i := h.hi(); i > h.lo; {
		p := i - h.base
		// A whole word of counters inside (lo, i]: skip it if the next
		// rank (the highest left) lies below it.
		if p&(per-1) == per-1 && i-per >= h.lo {
			if s := wordSum(h.c.words[p>>sh], wsh); acc-s >= rs[k] {
				acc -= s
				i -= per
				continue
			}
		}
		acc -= h.c.at(p)
		for acc < rs[k] {
			out[k] = i
			if k--; k < 0 {
				return
			}
		}
		i--
	}
	for ; k >= 0; k-- {
		out[k] = h.lo
	}
}
