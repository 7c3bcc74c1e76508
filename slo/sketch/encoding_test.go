package sketch

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	_ encoding.BinaryAppender    = (*Histogram)(nil)
	_ encoding.BinaryMarshaler   = (*Histogram)(nil)
	_ encoding.BinaryUnmarshaler = (*Histogram)(nil)
)

func TestBinaryRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	downscaled := NewWithMaxBuckets(DefaultScale, 16)
	for _, v := range lognormal(r, 1000, 50*msec, 1) {
		downscaled.Record(v)
	}
	wide := histOf(DefaultScale, 1, math.MaxInt64)
	wide.RecordN(50*msec, 1<<40)
	tests := []struct {
		name string
		h    *Histogram
	}{
		{"empty", New(DefaultScale)},
		{"zeros only", histOf(CoarseScale, 0, -1)},
		{"lognormal", histOf(DefaultScale, lognormal(r, 10000, 50*msec, 1)...)},
		{"bimodal coarse", histOf(CoarseScale, bimodal(r, 10000, 20*msec, 800*msec, 0.05)...)},
		{"downscaled", downscaled},
		{"wide counters and range", wide},
		{"min scale", histOf(MinScale, 1, 2, 3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.h.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			// Decode over a histogram holding other data, as a checkpoint
			// restore into a reused ring slot does.
			got := histOf(MaxScale, lognormal(r, 100, msec, 2)...)
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, got)
			if !got.Equal(tt.h) || got.ConfiguredScale() != tt.h.ConfiguredScale() || got.MaxBuckets() != tt.h.MaxBuckets() {
				t.Fatalf("decoded %v, want %v", got, tt.h)
			}
			again, _ := got.AppendBinary([]byte("prefix"))
			if !bytes.Equal(again[6:], b) {
				t.Fatalf("re-encoding differs")
			}
		})
	}
}

func TestUnmarshalRejects(t *testing.T) {
	valid, _ := histOf(DefaultScale, 0, 10*msec, 20*msec).MarshalBinary()
	// header builds an encoding field by field.
	header := func(scale, conf int8, maxb, zero, n uint64) []byte {
		b := []byte{encodingVersion, byte(scale), byte(conf)}
		for _, v := range []uint64{maxb, zero, 0, 0, n} {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"short", valid[:2]},
		{"version", append([]byte{2}, valid[1:]...)},
		{"truncated", valid[:len(valid)-1]},
		{"trailing byte", append(append([]byte(nil), valid...), 0)},
		{"scale too fine", header(9, 9, 100, 0, 0)},
		{"scale too coarse", header(-11, 5, 100, 0, 0)},
		{"scale above configured", header(5, 4, 100, 0, 0)},
		{"bound too small", header(5, 5, 1, 0, 0)},
		{"bound too large", header(5, 5, MaxBucketsLimit+1, 0, 0)},
		{"more buckets than bound", binary.AppendVarint(header(5, 5, 4, 0, 5), 0)},
		{"empty first bucket", append(binary.AppendVarint(header(5, 5, 100, 0, 2), 10), 0, 1)},
		{"empty last bucket", append(binary.AppendVarint(header(5, 5, 100, 0, 2), 10), 1, 0)},
		{"index below range", append(binary.AppendVarint(header(5, 5, 100, 0, 1), -64<<5-1), 1)},
		{"index above range", append(binary.AppendVarint(header(5, 5, 100, 0, 2), 64<<5-1), 1, 1)},
		{"count overflow", binary.AppendUvarint(binary.AppendVarint(header(5, 5, 100, 1, 1), 10), math.MaxUint64)},
		{"overlong varint", append(header(5, 5, 100, 0, 0)[:3], 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)},
		{"missing counts", binary.AppendVarint(header(5, 5, 100, 0, 3), 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(DefaultScale, 5*msec)
			err := h.UnmarshalBinary(tt.data)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("UnmarshalBinary = %v, want ErrCorrupt", err)
			}
			if !h.Equal(histOf(DefaultScale, 5*msec)) {
				t.Fatalf("h changed to %v", h)
			}
		})
	}
}

// TestBinaryNarrowCounts covers the 8-bit fast path: every count from 0 to
// 255 in one histogram (one and two byte varints) encodes to the bytes the
// general path writes for the same data in 16-bit counters, and decodes
// back exactly.
func TestBinaryNarrowCounts(t *testing.T) {
	h := New(DefaultScale)
	for c := range 257 {
		// Bucket i at scale 5 ends at 2^(i/32) ns: one value per bucket.
		v := int64(math.Exp2(float64(1000+c)/32)) - 1
		h.RecordN(v, uint64(min(c, 255)))
	}
	if h.c.wsh != 0 || h.n < 250 {
		t.Fatalf("counters %d bits wide over %d buckets, want 8 over 256", 8<<h.c.wsh, h.n)
	}
	wide := h.Clone()
	wide.c.widen(1)
	b, _ := h.AppendBinary(nil)
	ref, _ := wide.AppendBinary(nil)
	if !bytes.Equal(b, ref) {
		t.Fatalf("8-bit path wrote %d bytes, the general path %d, or other bytes", len(b), len(ref))
	}
	var g Histogram
	if err := g.UnmarshalBinary(b); err != nil || !g.Equal(h) {
		t.Fatalf("round trip: %v, %v vs %v", err, &g, h)
	}
}
