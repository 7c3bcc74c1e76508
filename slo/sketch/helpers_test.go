package sketch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// lognormal returns n durations (ns) with the given median and log-sigma.
func lognormal(r *rand.Rand, n int, median int64, sigma float64) []int64 {
	vs := make([]int64, n)
	mu := math.Log(float64(median))
	for i := range vs {
		vs[i] = int64(math.Exp(mu + sigma*r.NormFloat64()))
	}
	return vs
}

// bimodal returns n durations: a fast mode around fast, and with probability
// slowShare a slow mode around slow, both lognormal with sigma 0.3.
func bimodal(r *rand.Rand, n int, fast, slow int64, slowShare float64) []int64 {
	vs := make([]int64, n)
	for i := range vs {
		m := fast
		if r.Float64() < slowShare {
			m = slow
		}
		vs[i] = int64(math.Exp(math.Log(float64(m)) + 0.3*r.NormFloat64()))
	}
	return vs
}

// Durations in nanoseconds, to keep test tables readable.
const (
	usec int64 = 1e3
	msec int64 = 1e6
	sec  int64 = 1e9
)

// histOf records vs into a new histogram at the given scale.
func histOf(scale int, vs ...int64) *Histogram {
	h := New(scale)
	for _, v := range vs {
		h.Record(v)
	}
	return h
}

// exactQuantile is the nearest-rank quantile of sorted values, counting
// non-positive values as zero as the histogram does.
func exactQuantile(sorted []int64, q float64) int64 {
	return max(sorted[Rank(q, uint64(len(sorted)))-1], 0)
}

func sorted(vs []int64) []int64 {
	c := slices.Clone(vs)
	slices.Sort(c)
	return c
}

// checkInvariants verifies the internal invariants every operation keeps.
func checkInvariants(t testing.TB, h *Histogram) {
	t.Helper()
	total := h.zero
	if h.n < 0 || int(h.n) > h.MaxBuckets() {
		t.Fatalf("%v: range of %d buckets, bound %d", h, h.n, h.MaxBuckets())
	}
	if h.n > 0 {
		if h.lo < h.base || int64(h.hi()) >= int64(h.base)+int64(h.c.len()) {
			t.Fatalf("%v: range %d..%d outside storage %d..%d", h, h.lo, h.hi(), h.base, h.base+h.c.len()-1)
		}
		if h.c.at(h.lo-h.base) == 0 || h.c.at(h.hi()-h.base) == 0 {
			t.Fatalf("%v: empty bucket at an end of the range", h)
		}
		for i := h.lo; i <= h.hi(); i++ {
			total += h.c.at(i - h.base)
		}
	}
	if total != h.count {
		t.Fatalf("%v: buckets and zero hold %d, count is %d", h, total, h.count)
	}
	if h.Scale() < MinScale || h.Scale() > h.ConfiguredScale() {
		t.Fatalf("%v: scale %d, configured %d", h, h.Scale(), h.ConfiguredScale())
	}
}

// hiOf returns the greatest value in v's bucket at DefaultScale, a threshold
// at which CountAtOrBelow is exact.
func hiOf(v int64) int64 {
	_, hi := Bounds(Index(v, DefaultScale), DefaultScale)
	return hi
}

// bucketCount returns the count of the bucket holding v.
func bucketCount(h *Histogram, v int64) uint64 {
	lo, hi := Bounds(Index(v, h.Scale()), h.Scale())
	return h.CountAtOrBelow(hi) - h.CountAtOrBelow(lo-1)
}
