package sketch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
)

// fuzzValues turns fuzz bytes into durations of every magnitude and sign.
func fuzzValues(data []byte) []int64 {
	var vs []int64
	for len(data) >= 8 {
		x := binary.LittleEndian.Uint64(data)
		vs = append(vs, int64(x)>>(x%64))
		data = data[8:]
	}
	return vs
}

func fuzzScale(s int8) int { return MinScale + int(uint8(s))%(MaxScale-MinScale+1) }

func fuzzMaxBuckets(m uint16) int { return minMaxBuckets + int(m)%(MaxBucketsLimit-minMaxBuckets+1) }

func FuzzMergeSubtract(f *testing.F) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, n := range []int{0, 1, 5, 40} {
		b := make([]byte, 8*n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		f.Add(b, int8(15), int8(13), uint16(DefaultMaxBuckets), uint8(n/2))
	}
	f.Add(binary.LittleEndian.AppendUint64(nil, 1<<62|1<<10), int8(0), int8(18), uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, sa, sb int8, maxb uint16, split uint8) {
		vs := fuzzValues(data)
		cut := min(int(split), len(vs))
		va, vb := vs[:cut], vs[cut:]
		m := fuzzMaxBuckets(maxb)
		build := func(scale int, vs []int64) *Histogram {
			h := NewWithMaxBuckets(scale, m)
			for _, v := range vs {
				h.Record(v)
			}
			checkInvariants(t, h)
			return h
		}
		a, b := build(fuzzScale(sa), va), build(fuzzScale(sb), vb)

		ab, ba := a.Clone(), b.Clone()
		ab.Merge(b)
		ba.Merge(a)
		checkInvariants(t, ab)
		want := build(min(fuzzScale(sa), fuzzScale(sb)), vs)
		if !ab.Equal(want) || !ba.Equal(want) {
			t.Fatalf("a+b = %v, b+a = %v, want %v", ab, ba, want)
		}

		if err := ab.Subtract(b); err != nil {
			t.Fatalf("(a+b)-b: %v", err)
		}
		checkInvariants(t, ab)
		wantA := a.Clone()
		wantA.Downscale(ab.Scale())
		if !ab.Equal(wantA) {
			t.Fatalf("(a+b)-b = %v, want %v", ab, wantA)
		}

		// A reset histogram reuses storage sized for other data.
		reused := b.Clone()
		reused.Reset()
		reused.Merge(a)
		checkInvariants(t, reused)
		if want := build(min(fuzzScale(sa), fuzzScale(sb)), va); !reused.Equal(want) {
			t.Fatalf("reset b + a = %v, want %v", reused, want)
		}

		// Subtracting what may not be there either works or changes nothing.
		before := b.Clone()
		if err := b.Subtract(a); err != nil {
			if !errors.Is(err, ErrNotContained) || !b.Equal(before) || b.Scale() != before.Scale() {
				t.Fatalf("failed Subtract changed %v to %v: %v", before, b, err)
			}
		}
		checkInvariants(t, b)
	})
}

func FuzzUnmarshal(f *testing.F) {
	r := rand.New(rand.NewPCG(53, 54))
	for _, h := range []*Histogram{
		New(DefaultScale),
		histOf(DefaultScale, lognormal(r, 100, 50*msec, 1)...),
		histOf(CoarseScale, 0, 1, 1<<40),
		histOf(MinScale, 7),
	} {
		b, _ := h.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Histogram
		if err := h.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		checkInvariants(t, &h)
		enc, _ := h.AppendBinary(nil)
		var g Histogram
		if err := g.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if !g.Equal(&h) {
			t.Fatalf("re-decoded %v, want %v", &g, &h)
		}
		if again, _ := g.AppendBinary(nil); !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable")
		}
		// Whatever decodes must work with the rest of the API.
		_ = h.Quantile(0.99)
		_ = h.CountAtOrBelow(int64(h.Sum()))
		var sum Histogram
		sum.Merge(&h)
		checkInvariants(t, &sum)
		if err := sum.Subtract(&h); err != nil || sum.Count() != 0 {
			t.Fatalf("(0+h)-h = %v, %v", &sum, err)
		}
		checkInvariants(t, &sum)
	})
}
