package sketch

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestZeroValueIsDefault(t *testing.T) {
	var h Histogram
	if h.Scale() != DefaultScale || h.ConfiguredScale() != DefaultScale || h.MaxBuckets() != DefaultMaxBuckets {
		t.Fatalf("zero value: scale %d, configured %d, max buckets %d", h.Scale(), h.ConfiguredScale(), h.MaxBuckets())
	}
	h.Record(50 * msec)
	if !h.Equal(histOf(DefaultScale, 50*msec)) {
		t.Fatalf("zero value recorded %v", &h)
	}
}

func TestRecordZeroAndNegative(t *testing.T) {
	h := histOf(DefaultScale, 0, -5, math.MinInt64, 1, 10*msec)
	h.RecordN(-1, 3)
	h.RecordN(7, 0) // no-op
	checkInvariants(t, h)
	if h.Count() != 8 || h.ZeroCount() != 6 {
		t.Fatalf("count %d, zero %d; want 8, 6", h.Count(), h.ZeroCount())
	}
	if got := h.Sum(); got != float64(1+10*msec) {
		t.Fatalf("sum %g, want %d: non-positive values count as zero", got, 1+10*msec)
	}
	b := h.Buckets(nil)
	if b.Offset != -1 || len(b.Counts) != int(Index(10*msec, DefaultScale))+2 || b.Counts[0] != 1 {
		t.Fatalf("buckets %+v", b)
	}
	lo10, _ := Bounds(Index(10*msec, DefaultScale), DefaultScale)
	tests := []struct {
		t    int64
		want uint64
	}{
		{-1, 0}, {0, 6}, {1, 7}, {lo10 - 1, 7}, {hiOf(10 * msec), 8}, {math.MaxInt64, 8},
	}
	for _, tt := range tests {
		if got := h.CountAtOrBelow(tt.t); got != tt.want {
			t.Errorf("CountAtOrBelow(%d) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

func TestRecordNEqualsRepeatedRecord(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a, b := New(DefaultScale), New(DefaultScale)
	for _, v := range lognormal(r, 200, 50*msec, 1) {
		n := uint64(r.IntN(300))
		a.RecordN(v, n)
		for range n {
			b.Record(v)
		}
	}
	if !a.Equal(b) {
		t.Fatalf("RecordN %v != Record %v", a, b)
	}
}

func TestCounterWidening(t *testing.T) {
	tests := []struct {
		name   string
		counts []uint64 // added in turn to one bucket
		width  uint8
	}{
		{"fits 8 bits", []uint64{255}, 0},
		{"256 needs 16", []uint64{255, 1}, 1},
		{"65536 needs 32", []uint64{65535, 1}, 2},
		{"2^32 needs 64", []uint64{math.MaxUint32, 1}, 3},
		{"large single add", []uint64{1 << 40}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(DefaultScale)
			// Neighbours must survive the re-packing.
			h.Record(10 * msec)
			h.Record(40 * msec)
			var want uint64
			for _, n := range tt.counts {
				h.RecordN(20*msec, n)
				want += n
			}
			checkInvariants(t, h)
			if h.c.wsh != tt.width {
				t.Errorf("width shift %d, want %d", h.c.wsh, tt.width)
			}
			if got := bucketCount(h, 20*msec); got != want {
				t.Errorf("bucket holds %d, want %d", got, want)
			}
			if got := h.CountAtOrBelow(hiOf(40 * msec)); got != want+2 {
				t.Errorf("count %d, want %d", got, want+2)
			}
		})
	}
}

func TestMergeEqualsConcatenation(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tests := []struct {
		name           string
		scaleA, scaleB int
		a, b           []int64
	}{
		{"same scale", 5, 5, lognormal(r, 1000, 50*msec, 0.8), lognormal(r, 1000, 20*msec, 1.2)},
		{"disjoint ranges", 5, 5, lognormal(r, 500, 100*usec, 0.2), lognormal(r, 500, 10*sec, 0.2)},
		{"finer into coarser", 3, 5, lognormal(r, 1000, 50*msec, 0.8), bimodal(r, 1000, 20*msec, 800*msec, 0.05)},
		{"coarser into finer", 5, 2, lognormal(r, 1000, 50*msec, 0.8), lognormal(r, 1000, 50*msec, 0.5)},
		{"empty into full", 5, 5, lognormal(r, 100, 50*msec, 0.8), nil},
		{"full into empty", 5, 5, nil, lognormal(r, 100, 50*msec, 0.8)},
		{"zeros", 5, 5, []int64{0, 0, 5}, []int64{-1, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := histOf(tt.scaleA, tt.a...), histOf(tt.scaleB, tt.b...)
			ab := a.Clone()
			ab.Merge(b)
			ba := b.Clone()
			ba.Merge(a)
			want := histOf(min(tt.scaleA, tt.scaleB), append(append([]int64(nil), tt.a...), tt.b...)...)
			checkInvariants(t, ab)
			if !ab.Equal(want) {
				t.Errorf("a+b = %v, want %v", ab, want)
			}
			if !ba.Equal(want) {
				t.Errorf("b+a = %v, want %v", ba, want)
			}
		})
	}
}

func TestMergeSelf(t *testing.T) {
	vs := lognormal(rand.New(rand.NewPCG(7, 8)), 300, 50*msec, 1)
	h := histOf(DefaultScale, vs...)
	h.Merge(h)
	if want := histOf(DefaultScale, append(vs, vs...)...); !h.Equal(want) {
		t.Fatalf("h+h = %v, want %v", h, want)
	}
	if err := h.Subtract(h); err != nil || h.Count() != 0 || h.Scale() != DefaultScale {
		t.Fatalf("h-h = %v, %v", h, err)
	}
	checkInvariants(t, h)
}

func TestSubtractRestoresExactly(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 50 {
		a := histOf(DefaultScale, lognormal(r, r.IntN(2000), 50*msec, 0.5+r.Float64())...)
		b := histOf(DefaultScale, bimodal(r, r.IntN(2000), 20*msec, 800*msec, 0.05)...)
		b.RecordN(0, uint64(r.IntN(3)))
		b.RecordN(1<<40, uint64(r.IntN(300))) // widens a's counters
		sum := a.Clone()
		sum.Merge(b)
		if err := sum.Subtract(b); err != nil {
			t.Fatal(err)
		}
		checkInvariants(t, sum)
		if !sum.Equal(a) {
			t.Fatalf("round %d: (a+b)-b = %v, want %v", i, sum, a)
		}
	}
}

func TestSubtractAtDifferentScales(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	va, vb := lognormal(r, 1000, 50*msec, 1), lognormal(r, 1000, 50*msec, 1)
	// A window total at scale 3 dropping a slot recorded at scale 5.
	total := histOf(CoarseScale, append(append([]int64(nil), va...), vb...)...)
	if err := total.Subtract(histOf(DefaultScale, vb...)); err != nil {
		t.Fatal(err)
	}
	if want := histOf(CoarseScale, va...); !total.Equal(want) {
		t.Fatalf("got %v, want %v", total, want)
	}
	// A fine total dropping a coarse slot works at the coarse scale.
	fine := histOf(DefaultScale, append(append([]int64(nil), va...), vb...)...)
	if err := fine.Subtract(histOf(CoarseScale, vb...)); err != nil {
		t.Fatal(err)
	}
	if want := histOf(CoarseScale, va...); !fine.Equal(want) {
		t.Fatalf("got %v, want %v", fine, want)
	}
}

func TestSubtractNotContained(t *testing.T) {
	base := func() *Histogram { return histOf(DefaultScale, 0, 10*msec, 20*msec, 20*msec) }
	tests := []struct {
		name string
		o    *Histogram
	}{
		{"missing bucket", histOf(DefaultScale, 30*msec)},
		{"too many in a bucket", histOf(DefaultScale, 20*msec, 20*msec, 20*msec)},
		{"sum too large", histOf(DefaultScale, 10*msec, 20*msec, 20*msec, 20*msec)},
		{"empty bucket after a good one", histOf(DefaultScale, 10*msec, 15*msec)}, // rolls back 10 ms
		{"too many zeros", histOf(DefaultScale, 0, 0)},
		{"more values", histOf(DefaultScale, 0, 10*msec, 20*msec, 20*msec, 20*msec)},
		{"coarse bucket over", histOf(0, 20*msec, 20*msec, 20*msec)},
		{"below range", histOf(DefaultScale, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := base()
			err := h.Subtract(tt.o)
			if !errors.Is(err, ErrNotContained) {
				t.Fatalf("Subtract = %v, want ErrNotContained", err)
			}
			if !h.Equal(base()) || h.Scale() != DefaultScale {
				t.Fatalf("h changed to %v", h)
			}
		})
	}
	// A subset that is in a coarse bucket but not in the fine one is fine at
	// the coarse scale.
	h := base()
	if err := h.Subtract(histOf(0, 21*msec)); err != nil {
		t.Fatalf("coarse subset: %v", err)
	}
}

func TestDownscaleEqualsRecordingCoarser(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	vs := append(lognormal(r, 5000, 50*msec, 1.2), 0, 1, 2, 3, math.MaxInt64)
	for _, to := range []int{4, 3, 0, -1, MinScale} {
		h := histOf(DefaultScale, vs...)
		h.Downscale(to)
		checkInvariants(t, h)
		if want := histOf(to, vs...); !h.Equal(want) {
			t.Errorf("downscale to %d: %v, want %v", to, h, want)
		}
		if h.ConfiguredScale() != DefaultScale {
			t.Errorf("configured scale changed to %d", h.ConfiguredScale())
		}
	}
	h := histOf(3, vs...)
	h.Downscale(5) // never upscales
	if h.Scale() != 3 {
		t.Errorf("Downscale(5) from 3 moved to %d", h.Scale())
	}
}

func TestBucketBoundDownscales(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	// 64 buckets are 2 powers of two at scale 5; these values span about 10.
	vs := lognormal(r, 2000, 50*msec, 1.2)
	h := NewWithMaxBuckets(DefaultScale, 64)
	for _, v := range vs {
		h.Record(v)
		if int(h.n) > 64 {
			t.Fatalf("range of %d buckets", h.n)
		}
	}
	checkInvariants(t, h)
	if h.Scale() >= DefaultScale {
		t.Fatalf("scale %d, want a downscale", h.Scale())
	}
	if want := histOf(h.Scale(), vs...); !h.Equal(want) {
		t.Fatalf("got %v, want %v", h, want)
	}
	// Any value range fits the smallest bound at MinScale.
	tiny := NewWithMaxBuckets(DefaultScale, 2)
	for _, v := range []int64{1, 2, math.MaxInt64, 1 << 40} {
		tiny.Record(v)
	}
	checkInvariants(t, tiny)
	// Reset goes back to the configured scale.
	h.Reset()
	if h.Scale() != DefaultScale || h.Count() != 0 {
		t.Fatalf("after Reset: %v", h)
	}
}

func TestResetReusesStorage(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	vs := lognormal(r, 10000, 50*msec, 1)
	h := histOf(DefaultScale, vs...)
	size := h.SizeBytes()
	allocs := testing.AllocsPerRun(10, func() {
		h.Reset()
		for _, v := range vs {
			h.Record(v)
		}
	})
	if allocs != 0 || h.SizeBytes() != size {
		t.Fatalf("refilling after Reset: %v allocs, %d bytes (was %d)", allocs, h.SizeBytes(), size)
	}
}

// A reset histogram keeps its storage; data of any width and alignment must
// still fit when it arrives all at once.
func TestResetThenMergeAnyWidth(t *testing.T) {
	first := Index(10*msec, DefaultScale)
	valueAt := func(i int32) int64 { lo, _ := Bounds(i, DefaultScale); return lo }
	withStorage := func() *Histogram {
		h := New(DefaultScale)
		for i := range int32(100) {
			h.Record(valueAt(first + i))
		}
		h.Reset()
		return h
	}
	size := withStorage().c.len()
	for off := range int32(8) {
		for width := int32(1); width <= size+2; width++ {
			h := withStorage()
			o := histOf(DefaultScale, valueAt(first+off), valueAt(first+off+width-1))
			h.Merge(o)
			checkInvariants(t, h)
			if !h.Equal(o) {
				t.Fatalf("width %d: got %v, want %v", width, h, o)
			}
			b, _ := o.MarshalBinary()
			h.Reset()
			if err := h.UnmarshalBinary(b); err != nil || !h.Equal(o) {
				t.Fatalf("width %d: decoded %v, %v", width, h, err)
			}
		}
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	vs := lognormal(rand.New(rand.NewPCG(19, 20)), 10000, 50*msec, 1)
	h := histOf(DefaultScale, vs...)
	i := 0
	if allocs := testing.AllocsPerRun(10000, func() {
		h.Record(vs[i%len(vs)])
		i++
	}); allocs != 0 {
		t.Fatalf("Record: %v allocs", allocs)
	}
}

func TestCloneAndCopyFrom(t *testing.T) {
	vs := lognormal(rand.New(rand.NewPCG(21, 22)), 1000, 50*msec, 1)
	h := histOf(DefaultScale, vs...)
	c := h.Clone()
	var d Histogram
	d.CopyFrom(h)
	h.Record(1 * sec) // must not leak into the copies
	want := histOf(DefaultScale, vs...)
	if !c.Equal(want) || !d.Equal(want) {
		t.Fatalf("copies changed with the original: %v, %v", c, &d)
	}
	small := histOf(3, 1)
	if allocs := testing.AllocsPerRun(10, func() { d.CopyFrom(small) }); allocs != 0 {
		t.Errorf("CopyFrom into larger storage: %v allocs", allocs)
	}
	if !d.Equal(small) || d.ConfiguredScale() != 3 {
		t.Errorf("CopyFrom: %v", &d)
	}
}

func TestBucketsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	h := histOf(DefaultScale, append(lognormal(r, 5000, 50*msec, 1), 0, 0)...)
	b := h.Buckets(make([]uint64, 0, 1024))
	if b.Scale != DefaultScale || b.ZeroCount != 2 || b.Offset != h.lo || b.Sum != h.Sum() {
		t.Fatalf("buckets %+v", b)
	}
	var got Histogram
	if err := got.AddBuckets(b); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, &got)
	if !got.Equal(h) {
		t.Fatalf("round trip %v, want %v", &got, h)
	}
	var none Histogram
	if b := none.Buckets(nil); b.Offset != 0 || len(b.Counts) != 0 {
		t.Fatalf("empty buckets %+v", b)
	}
}

func TestAddBucketsFromFinerScale(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	vs := lognormal(r, 2000, 50*msec, 1)
	fine := histOf(MaxScale, vs...).Buckets(nil) // downscaled to fit 1024 buckets
	// Spread each bucket over the scale-20 buckets it contains, as an OTel
	// SDK at scale 20 would have recorded them.
	sh := 20 - fine.Scale
	b20 := Buckets{Scale: 20, Offset: fine.Offset << sh, Counts: make([]uint64, len(fine.Counts)<<sh), Sum: fine.Sum}
	for j, n := range fine.Counts {
		for ; n > 0; n-- {
			b20.Counts[j<<sh+r.IntN(1<<sh)]++
		}
	}
	var got Histogram
	if err := got.AddBuckets(b20); err != nil {
		t.Fatal(err)
	}
	if want := histOf(DefaultScale, vs...); !got.Equal(want) {
		t.Fatalf("got %v, want %v", &got, want)
	}
	// And into a coarser histogram.
	coarse := histOf(1, 5*sec)
	if err := coarse.AddBuckets(fine); err != nil {
		t.Fatal(err)
	}
	if want := histOf(1, append(vs, 5*sec)...); !coarse.Equal(want) {
		t.Fatalf("got %v, want %v", coarse, want)
	}
}

func TestAddBucketsRejects(t *testing.T) {
	tests := []struct {
		name string
		b    Buckets
	}{
		{"scale too fine", Buckets{Scale: 21}},
		{"scale too coarse", Buckets{Scale: MinScale - 1}},
		{"negative sum", Buckets{Scale: 5, Sum: -1}},
		{"NaN sum", Buckets{Scale: 5, Sum: math.NaN()}},
		{"infinite sum", Buckets{Scale: 5, Sum: math.Inf(1)}},
		{"below range", Buckets{Scale: 5, Offset: -64<<5 - 1, Counts: []uint64{1}}},
		{"above range", Buckets{Scale: 5, Offset: 64 << 5, Counts: []uint64{1}}},
		{"above range at scale 20", Buckets{Scale: 20, Offset: math.MaxInt32, Counts: []uint64{1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(DefaultScale, 10*msec)
			if err := h.AddBuckets(tt.b); err == nil {
				t.Fatalf("AddBuckets(%+v) succeeded", tt.b)
			}
			if !h.Equal(histOf(DefaultScale, 10*msec)) {
				t.Fatalf("h changed to %v", h)
			}
		})
	}
	// Empty buckets outside the range are not data.
	h := New(DefaultScale)
	if err := h.AddBuckets(Buckets{Scale: 5, Offset: math.MaxInt32 - 1, Counts: []uint64{0, 0}}); err != nil {
		t.Fatalf("empty out-of-range buckets: %v", err)
	}
}

func TestSizeBytesRealistic(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	tests := []struct {
		name   string
		scale  int
		vs     []int64
		maxLen int // bytes we promise for this shape of data
	}{
		{"1 min slot, 100 rps, lognormal σ=0.8", DefaultScale, lognormal(r, 6000, 50*msec, 0.8), 512},
		{"1 min slot, bimodal 20ms/800ms", DefaultScale, bimodal(r, 6000, 20*msec, 800*msec, 0.05), 512},
		{"10 s slot, 10 rps", DefaultScale, lognormal(r, 100, 50*msec, 0.8), 384},
		{"running total, 10^7 values σ=1.2", DefaultScale, lognormal(r, 10_000_000, 50*msec, 1.2), 4096},
		{"coarse running total, 10^7 values σ=1.2", CoarseScale, lognormal(r, 10_000_000, 50*msec, 1.2), 1024},
	}
	for _, tt := range tests {
		h := histOf(tt.scale, tt.vs...)
		enc, _ := h.AppendBinary(nil)
		t.Logf("%-42s scale %d: %4d buckets, %3d-bit counters, %5d bytes in memory, %5d encoded",
			tt.name, tt.scale, h.n, 8<<h.c.wsh, h.SizeBytes(), len(enc))
		if h.SizeBytes() > tt.maxLen {
			t.Errorf("%s: %d bytes, want <= %d", tt.name, h.SizeBytes(), tt.maxLen)
		}
	}
}
