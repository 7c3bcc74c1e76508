package sketch

import (
	"math/rand/v2"
	"testing"
)

// TestThresholdCountsLikeCountAtOrBelow: value by value, AtOrBelow adds up
// to CountAtOrBelow of a histogram holding them, for thresholds on bucket
// edges, on representatives and between, zero and negative; and the
// comparison a time-slice SLO makes agrees with Quantile.
func TestThresholdCountsLikeCountAtOrBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		h := New(DefaultScale)
		var vs []Prepared
		for range 1 + r.IntN(300) {
			v := int64(r.ExpFloat64() * 3e8)
			switch r.IntN(20) {
			case 0:
				v = 0
			case 1:
				v = -v
			}
			h.Record(v)
			vs = append(vs, Prepare(v))
		}
		if h.Scale() != DefaultScale {
			continue // downscaled: the count is another scale's
		}
		ts := []int64{-1, 0, 1, 300_000_000, int64(r.ExpFloat64() * 3e8)}
		for _, p := range vs[:min(len(vs), 5)] {
			if p.v > 0 {
				i := p.i8 >> (MaxScale - DefaultScale)
				lo, hi := bounds(i, DefaultScale)
				ts = append(ts, p.v, p.v-1, p.v+1, int64(lo), int64(hi), int64(representative(i, DefaultScale)), int64(representative(i, DefaultScale))-1)
			}
		}
		for _, th := range ts {
			tr := NewThreshold(th, DefaultScale)
			var n uint64
			for _, p := range vs {
				if tr.AtOrBelow(p) {
					n++
				}
			}
			if want := h.CountAtOrBelow(th); n != want {
				t.Fatalf("round %d, t %d: %d values at or below, CountAtOrBelow says %d", round, th, n, want)
			}
			for _, q := range []float64{0.5, 0.99, 0.999} {
				if (n >= Rank(q, h.Count())) != (h.Quantile(q) <= th) {
					t.Fatalf("round %d, t %d, q %v: count %d rank %d, quantile %d", round, th, q, n, Rank(q, h.Count()), h.Quantile(q))
				}
			}
		}
	}
}
