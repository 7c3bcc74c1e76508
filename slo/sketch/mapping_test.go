package sketch

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// refIndex is the OTel definition computed with exact integers: for scale
// s >= 0, v is in bucket i when 2^(i/2^s) < v <= 2^((i+1)/2^s), that is when
// 2^i < v^(2^s) <= 2^(i+1), so i = bitlen(v^(2^s) - 1) - 1. Negative scales
// shift the scale-0 index.
func refIndex(v int64, scale int) int32 {
	s := max(scale, 0)
	x := new(big.Int).Exp(big.NewInt(v), big.NewInt(1<<s), nil)
	i := int32(x.Sub(x, big.NewInt(1)).BitLen() - 1)
	if scale < 0 {
		i >>= uint(-scale)
	}
	return i
}

// testValues are values around every power of two plus small and random ones.
func testValues(r *rand.Rand) []int64 {
	var vs []int64
	for v := int64(1); v <= 3000; v++ {
		vs = append(vs, v)
	}
	for e := 2; e < 63; e++ {
		p := int64(1) << e
		vs = append(vs, p-1, p, p+1)
	}
	vs = append(vs, math.MaxInt64, math.MaxInt64-1)
	for range 2000 {
		vs = append(vs, r.Int64N(math.MaxInt64)+1, int64(math.Exp(r.Float64()*40)))
	}
	return vs
}

func TestThresholdsAreExactCeilings(t *testing.T) {
	// thresholds[k] = ceil(2^(63+k/256)) exactly when
	// (T-1)^256 < 2^(63·256+k) < T^256.
	for k := 1; k < 256; k++ {
		tk := new(big.Int).SetUint64(thresholds[k])
		hi := new(big.Int).Exp(tk, big.NewInt(256), nil)
		lo := new(big.Int).Exp(tk.Sub(tk, big.NewInt(1)), big.NewInt(256), nil)
		b := new(big.Int).Lsh(big.NewInt(1), uint(63*256+k))
		if lo.Cmp(b) >= 0 || hi.Cmp(b) <= 0 {
			t.Fatalf("thresholds[%d] = %d is not ceil(2^(63+%d/256))", k, thresholds[k], k)
		}
	}
}

func TestSlotsHoldAtMostOneThreshold(t *testing.T) {
	for slot := range slotFloor {
		start := uint64(1)<<63 | uint64(slot)<<54
		end := start + 1<<54 - 1
		if slot == len(slotFloor)-1 {
			end = math.MaxUint64
		}
		below, inside := 0, 0
		for k := 1; k < 256; k++ {
			switch {
			case thresholds[k] <= start:
				below++
			case thresholds[k] <= end:
				inside++
			}
		}
		if below != int(slotFloor[slot]) || inside > 1 {
			t.Fatalf("slot %d: %d thresholds at or below its start (table says %d), %d inside", slot, below, slotFloor[slot], inside)
		}
	}
}

func TestIndexMatchesExactDefinition(t *testing.T) {
	vs := testValues(rand.New(rand.NewPCG(1, 2)))
	for _, scale := range []int{MinScale, -3, -1, 0, 1, 3, 4, 5, 8} {
		for _, v := range vs {
			if got, want := Index(v, scale), refIndex(v, scale); got != want {
				t.Fatalf("Index(%d, %d) = %d, want %d", v, scale, got, want)
			}
		}
	}
}

func TestIndexAtPowersOfTwo(t *testing.T) {
	tests := []struct {
		v     int64
		scale int
		want  int32
	}{
		{1, 5, -1},                        // 1 = 2^0 closes bucket -1
		{2, 5, 31},                        // 2^1 closes bucket 1·32-1
		{3, 5, 50},                        // log2(3)·32 = 50.7
		{1 << 20, 5, 20*32 - 1},           // exact power: upper-inclusive
		{1<<20 + 1, 5, 20 * 32},           // just above opens the next octave
		{1<<20 - 1, 5, 20*32 - 1},         // just below shares the bucket
		{1 << 62, 5, 62*32 - 1},           //
		{1<<62 + 1, 5, 62 * 32},           //
		{math.MaxInt64, 5, 63*32 - 1},     // 2^63-1 is in the bucket 2^63 closes
		{1 << 20, 0, 19},                  //
		{1<<20 + 1, 0, 20},                //
		{1 << 20, -2, 4},                  // (19)>>2
		{1<<20 + 1, -2, 5},                // (20)>>2
		{1 << 20, MaxScale, 20*256 - 1},   //
		{1<<20 + 1, MaxScale, 20 * 256},   //
		{50_000_000, 5, refIndex(5e7, 5)}, // 50 ms
		{300_000_000, 3, refIndex(3e8, 3)},
	}
	for _, tt := range tests {
		if got := Index(tt.v, tt.scale); got != tt.want {
			t.Errorf("Index(%d, %d) = %d, want %d", tt.v, tt.scale, got, tt.want)
		}
	}
}

func TestBoundsTileTheIntegers(t *testing.T) {
	for _, scale := range []int{MinScale, -1, 0, 3, 5, 8} {
		if _, hi := Bounds(Index(1, scale)-1, scale); hi > 0 {
			t.Errorf("scale %d: the bucket below 1 holds integers up to %d", scale, hi)
		}
		prevHi := int64(0)
		last := Index(math.MaxInt64, scale)
		for i := int32(-1); i <= last; i++ {
			lo, hi := Bounds(i, scale)
			if lo > hi {
				continue // holds no integer
			}
			if lo != prevHi+1 {
				t.Fatalf("scale %d bucket %d starts at %d, previous ended at %d", scale, i, lo, prevHi)
			}
			if Index(lo, scale) != i || Index(hi, scale) != i {
				t.Fatalf("scale %d bucket %d holds %d..%d but they index to %d, %d",
					scale, i, lo, hi, Index(lo, scale), Index(hi, scale))
			}
			prevHi = hi
		}
		if prevHi != math.MaxInt64 {
			t.Errorf("scale %d: buckets end at %d", scale, prevHi)
		}
	}
}

func TestRepresentativeError(t *testing.T) {
	for _, scale := range []int{0, 3, 5, 8} {
		bound := RelativeError(scale)
		for i := Index(1000, scale); i <= Index(math.MaxInt64, scale); i++ {
			lo, hi := bounds(i, scale)
			p := representative(i, scale)
			if p < lo || p > hi {
				t.Fatalf("scale %d bucket %d: representative %d outside %d..%d", scale, i, p, lo, hi)
			}
			worst := max(float64(p-lo)/float64(lo), float64(hi-p)/float64(hi))
			if worst > bound+0.5/float64(lo)+1e-12 {
				t.Fatalf("scale %d bucket %d: worst relative error %g > %g", scale, i, worst, bound)
			}
		}
	}
}

func TestRelativeError(t *testing.T) {
	tests := []struct {
		scale int
		want  float64
	}{
		{DefaultScale, 0.010830},
		{CoarseScale, 0.043295},
		{4, 0.021657},
		{MaxScale, 0.001354},
	}
	for _, tt := range tests {
		if got := RelativeError(tt.scale); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("RelativeError(%d) = %.6f, want %.6f", tt.scale, got, tt.want)
		}
	}
}

func TestInvalidScalePanics(t *testing.T) {
	for _, scale := range []int{MinScale - 1, MaxScale + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%d) did not panic", scale)
				}
			}()
			New(scale)
		}()
	}
}
