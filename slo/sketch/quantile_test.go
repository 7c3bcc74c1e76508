package sketch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var quantiles = []float64{0.5, 0.9, 0.95, 0.99, 0.999}

func TestQuantileAccuracy(t *testing.T) {
	type dist struct {
		name string
		gen  func(r *rand.Rand, n int) []int64
	}
	dists := []dist{
		{"bimodal 95% 20ms / 5% 800ms", func(r *rand.Rand, n int) []int64 { return bimodal(r, n, 20*msec, 800*msec, 0.05) }},
		{"bimodal 99% 2ms / 1% 3s", func(r *rand.Rand, n int) []int64 { return bimodal(r, n, 2*msec, 3*sec, 0.01) }},
	}
	for _, sigma := range []float64{0.5, 0.8, 1.0, 1.2} {
		dists = append(dists, dist{fmt.Sprintf("lognormal 50ms σ=%.1f", sigma), func(r *rand.Rand, n int) []int64 {
			return lognormal(r, n, 50*msec, sigma)
		}})
	}
	sizes := []int{1, 10, 100, 1000, 10_000, 100_000}
	seeds := 20
	if testing.Short() {
		seeds = 3
	}
	const limit = 0.011
	bound := RelativeError(DefaultScale)
	worstAll := 0.0
	for _, d := range dists {
		worst, where := 0.0, ""
		for seed := range seeds {
			r := rand.New(rand.NewPCG(uint64(seed), 99))
			for _, n := range sizes {
				vs := d.gen(r, n)
				h := histOf(DefaultScale, vs...)
				sv := sorted(vs)
				for _, q := range quantiles {
					exact, got := exactQuantile(sv, q), h.Quantile(q)
					rel := math.Abs(float64(got-exact)) / float64(exact)
					if rel > worst {
						worst, where = rel, fmt.Sprintf("seed %d n %d p%g: got %d, exact %d", seed, n, 100*q, got, exact)
					}
					if rel > limit {
						t.Errorf("%s seed %d n %d p%g: got %d, exact %d, relative error %.4f%%",
							d.name, seed, n, 100*q, got, exact, 100*rel)
					}
				}
			}
		}
		t.Logf("%-30s worst relative error %.4f%% (bound %.4f%%) at %s", d.name, 100*worst, 100*bound, where)
		worstAll = max(worstAll, worst)
	}
	if worstAll > bound+1e-6 {
		t.Errorf("worst relative error %.5f%% above the bucket bound %.5f%%", 100*worstAll, 100*bound)
	}
}

func TestQuantileAccuracyAtEveryScale(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	vs := lognormal(r, 20_000, 50*msec, 1)
	sv := sorted(vs)
	for scale := MinScale; scale <= MaxScale; scale++ {
		h := NewWithMaxBuckets(scale, MaxBucketsLimit)
		for _, v := range vs {
			h.Record(v)
		}
		bound := RelativeError(scale)
		for _, q := range quantiles {
			exact, got := exactQuantile(sv, q), h.Quantile(q)
			if rel := math.Abs(float64(got-exact)) / float64(exact); rel > bound+1e-9 {
				t.Errorf("scale %d p%g: got %d, exact %d, relative error %.4f%% > %.4f%%",
					scale, 100*q, got, exact, 100*rel, 100*bound)
			}
		}
	}
}

func TestQuantileEdges(t *testing.T) {
	tests := []struct {
		name string
		vs   []int64
		q    float64
		want int64
	}{
		{"empty", nil, 0.99, 0},
		{"all zero", []int64{0, -3, 0}, 0.99, 0},
		{"rank in zero bucket", []int64{0, 0, 10 * msec}, 0.5, 0},
		{"rank above zero bucket", []int64{0, 0, 8 * msec}, 0.9, 8 * msec},
		{"single value", []int64{1}, 0.5, 1},
		{"min", []int64{1, 2, 3, 1 << 20}, 0, 1},
		{"max", []int64{1, 2, 3, 1 << 20}, 1, 1 << 20},
		{"NaN is the min", []int64{1, 2, 3, 1 << 20}, math.NaN(), 1},
		{"largest duration", []int64{math.MaxInt64}, 1, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(DefaultScale, tt.vs...)
			got := h.Quantile(tt.q)
			if tt.want == 0 || tt.want <= 3 {
				if got != tt.want {
					t.Fatalf("Quantile(%g) = %d, want %d", tt.q, got, tt.want)
				}
				return
			}
			if rel := math.Abs(float64(got-tt.want)) / float64(tt.want); rel > RelativeError(DefaultScale)+1e-9 {
				t.Fatalf("Quantile(%g) = %d, want %d ± %.3f%%", tt.q, got, tt.want, 100*RelativeError(DefaultScale))
			}
		})
	}
}

func TestRank(t *testing.T) {
	tests := []struct {
		q    float64
		n    uint64
		want uint64
	}{
		{0.5, 0, 0},
		{0.5, 1, 1},
		{0.5, 2, 1},
		{0.5, 3, 2},
		{0.99, 100, 99},
		{0.99, 101, 100},
		{0.999, 1000, 999}, // 0.999·1000 is 999.0000000000001 in float64
		{0.9, 10, 9},
		{0.95, 20, 19},
		{0.001, 1000, 1},
		{1e-9, 10, 1},
		{0, 10, 1},
		{-1, 10, 1},
		{1, 10, 10},
		{2, 10, 10},
	}
	for _, tt := range tests {
		if got := Rank(tt.q, tt.n); got != tt.want {
			t.Errorf("Rank(%g, %d) = %d, want %d", tt.q, tt.n, got, tt.want)
		}
	}
}

// The two ways to ask a time-slice question must agree: "is p99 <= T?" and
// "are at least Rank(0.99) values <= T?".
func TestQuantileAgreesWithCountAtOrBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for round := range 200 {
		scale := MinScale + r.IntN(MaxScale-MinScale+1)
		vs := bimodal(r, 1+r.IntN(500), 20*msec, 800*msec, 0.05)
		for range r.IntN(5) {
			vs = append(vs, 0)
		}
		h := histOf(scale, vs...)
		for range 50 {
			q := r.Float64()
			thr := int64(math.Exp(r.Float64() * 22))
			if r.IntN(4) == 0 {
				thr = h.Quantile(q) + int64(r.IntN(3)) - 1
			}
			if (h.Quantile(q) <= thr) != (h.CountAtOrBelow(thr) >= Rank(q, h.Count())) {
				t.Fatalf("round %d scale %d: Quantile(%g) = %d, CountAtOrBelow(%d) = %d, rank %d",
					round, scale, q, h.Quantile(q), thr, h.CountAtOrBelow(thr), Rank(q, h.Count()))
			}
		}
	}
}

func TestCountAtOrBelowExactAtBucketEdges(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	vs := append(lognormal(r, 5000, 50*msec, 1.2), 0, -1, 1, 2)
	sv := sorted(vs)
	for _, scale := range []int{CoarseScale, DefaultScale, MaxScale} {
		h := NewWithMaxBuckets(scale, MaxBucketsLimit)
		for _, v := range vs {
			h.Record(v)
		}
		for i := Index(1, scale) - 1; i <= Index(100*sec, scale); i++ {
			lo, hi := Bounds(i, scale)
			for _, thr := range []int64{hi, lo - 1} {
				if got, want := h.CountAtOrBelow(thr), countAtOrBelow(sv, thr); got != want {
					t.Fatalf("scale %d: CountAtOrBelow(%d) = %d, want %d", scale, thr, got, want)
				}
			}
		}
		// Elsewhere the error is at most the bucket holding the threshold.
		for range 1000 {
			thr := int64(math.Exp(r.Float64() * 22))
			lo, hi := Bounds(Index(thr, scale), scale)
			got := h.CountAtOrBelow(thr)
			if got < countAtOrBelow(sv, lo-1) || got > countAtOrBelow(sv, hi) {
				t.Fatalf("scale %d: CountAtOrBelow(%d) = %d outside [%d, %d]",
					scale, thr, got, countAtOrBelow(sv, lo-1), countAtOrBelow(sv, hi))
			}
		}
	}
}

// countAtOrBelow counts sorted values <= t, counting negatives as zero.
func countAtOrBelow(sorted []int64, t int64) uint64 {
	if t < 0 {
		return 0
	}
	var n uint64
	for _, v := range sorted {
		if v <= t {
			n++
		}
	}
	return n
}
