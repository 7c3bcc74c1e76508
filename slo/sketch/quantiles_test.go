package sketch

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkQuantiles compares Quantiles with Quantile for qs on h.
func checkQuantiles(t *testing.T, what string, h *Histogram, qs []float64) {
	t.Helper()
	out := make([]int64, len(qs))
	h.Quantiles(qs, out)
	for k, q := range qs {
		if want := h.Quantile(q); out[k] != want {
			t.Fatalf("%s: %v: Quantiles(%v)[%d] = %d, Quantile(%g) = %d", what, h, qs, k, out[k], q, want)
		}
	}
}

// randomQs returns 1 to 8 quantiles, ascending unless shuffled, with edge
// values and repeats among them.
func randomQs(r *rand.Rand, shuffle bool) []float64 {
	edges := []float64{0, 1, 0.5, 0.9, 0.95, 0.99, 0.999, -1, 2, 1e-9, 1 - 1e-9}
	qs := make([]float64, 1+r.IntN(8))
	for i := range qs {
		if r.IntN(3) == 0 {
			qs[i] = edges[r.IntN(len(edges))]
		} else {
			qs[i] = r.Float64()
		}
	}
	if shuffle {
		return qs
	}
	slices.Sort(qs)
	return qs
}

func TestQuantilesMatchQuantile(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	std := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	for round := range 3000 {
		scale := MinScale + r.IntN(MaxScale-MinScale+1)
		if r.IntN(2) == 0 {
			scale = DefaultScale
		}
		var vs []int64
		switch r.IntN(4) {
		case 0:
			vs = lognormal(r, r.IntN(2000), 50*msec, 0.2+2*r.Float64())
		case 1:
			vs = bimodal(r, r.IntN(3000), 20*msec, 800*msec, r.Float64()*0.2)
		case 2:
			vs = lognormal(r, r.IntN(20), 1+r.Int64N(sec), r.Float64())
		default:
			vs = make([]int64, r.IntN(50))
			for i := range vs {
				vs[i] = r.Int64N(1 << uint(1+r.IntN(62)))
			}
		}
		for range r.IntN(3) * r.IntN(200) {
			vs = append(vs, -r.Int64N(10))
		}
		h := NewWithMaxBuckets(scale, 2+r.IntN(DefaultMaxBuckets))
		for _, v := range vs {
			// Repeats widen the counters past 8 bits.
			if r.IntN(8) == 0 {
				h.RecordN(v, 1+r.Uint64N(1<<uint(r.IntN(40))))
			} else {
				h.Record(v)
			}
		}
		what := fmt.Sprintf("round %d", round)
		checkQuantiles(t, what, h, std)
		for range 10 {
			checkQuantiles(t, what, h, randomQs(r, false))
		}
		checkQuantiles(t, what+" unsorted", h, randomQs(r, true))
		// A total with a slot subtracted, as the engine's windows do.
		if len(vs) > 2 {
			part := histOf(h.Scale(), vs[:len(vs)/3]...)
			g := h.Clone()
			if g.Subtract(part) == nil {
				checkQuantiles(t, what+" after subtract", g, std)
				for range 5 {
					checkQuantiles(t, what+" after subtract", g, randomQs(r, false))
				}
			}
		}
	}
	var empty Histogram
	checkQuantiles(t, "empty", &empty, std)
}

func BenchmarkQuantiles(b *testing.B) {
	h := histOf(DefaultScale, benchValues...)
	h.RecordN(50*msec, 1<<20) // 32-bit counters, like a window total
	qs := []float64{0.5, 0.9, 0.95, 0.99, 0.999}
	out := make([]int64, len(qs))
	b.Run("one-pass", func(b *testing.B) {
		for b.Loop() {
			h.Quantiles(qs, out)
		}
	})
	b.Run("each", func(b *testing.B) {
		for b.Loop() {
			for k, q := range qs {
				out[k] = h.Quantile(q)
			}
		}
	})
}

func TestRepresentativeTable(t *testing.T) {
	lo, hi := indexRange(DefaultScale)
	for i := lo - 3; i <= hi+3; i++ {
		if got, want := representativeInt64(int32(i), DefaultScale), clampInt64(representative(int32(i), DefaultScale)); got != want {
			t.Fatalf("bucket %d: table %d, computed %d", i, got, want)
		}
	}
}
