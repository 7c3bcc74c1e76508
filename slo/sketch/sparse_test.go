package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMergeSparseEqualsMerge: merging through Sparse gives the histogram
// and the tracked quantiles Merge gives, at the same scale and into a
// coarser one, with values far apart, zeros, and wide counts.
func TestMergeSparseEqualsMerge(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	for round := range 200 {
		o := New(DefaultScale)
		for range 1 + r.IntN(40) {
			v := int64(math.Exp(r.Float64() * 25)) // 1 ns .. 70 s
			if r.IntN(10) == 0 {
				v = 0
			}
			o.RecordN(v, 1+uint64(r.IntN(3))*uint64(r.IntN(2)*300+1))
		}
		scale := DefaultScale
		if round%3 == 0 {
			scale = CoarseScale
		}
		var sp Sparse
		o.Sparse(&sp)
		a, b := New(scale), New(scale)
		ta, tb := NewTracked(scale), NewTracked(scale)
		for range r.IntN(50) {
			v := int64(math.Exp(r.Float64() * 22))
			a.Record(v)
			b.Record(v)
			ta.Record(v)
			tb.Record(v)
		}
		out := make([]int64, len(qs))
		ta.Quantiles(qs, out) // sets the cursors, which the merges move
		tb.Quantiles(qs, out)
		a.Merge(o)
		b.MergeSparse(&sp)
		ta.Merge(o)
		tb.MergeSparse(&sp)
		if !a.Equal(b) {
			t.Fatalf("round %d: MergeSparse gave %v, Merge %v", round, b, a)
		}
		want, got, plain := make([]int64, len(qs)), make([]int64, len(qs)), make([]int64, len(qs))
		ta.Quantiles(qs, want)
		tb.Quantiles(qs, got)
		a.Quantiles(qs, plain)
		for k := range qs {
			if got[k] != want[k] || got[k] != plain[k] {
				t.Fatalf("round %d q%v: sparse %d, merge %d, histogram %d", round, qs[k], got[k], want[k], plain[k])
			}
		}
		if int32(sp.Len()) > o.n {
			t.Fatalf("%d sparse buckets for a range of %d", sp.Len(), o.n)
		}
	}
}
