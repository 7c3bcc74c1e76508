package sketch

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchValues are latencies like a busy flow's: lognormal around 50 ms.
var benchValues = lognormal(rand.New(rand.NewPCG(61, 62)), 1<<16, 50*msec, 1)

func BenchmarkIndex(b *testing.B) {
	var sink int32
	for i := 0; b.Loop(); i++ {
		sink += index8(uint64(benchValues[i&(len(benchValues)-1)]))
	}
	_ = sink
}

func BenchmarkRecord(b *testing.B) {
	for _, scale := range []int{DefaultScale, CoarseScale} {
		b.Run(fmt.Sprintf("scale=%d", scale), func(b *testing.B) {
			h := histOf(scale, benchValues...)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				h.Record(benchValues[i&(len(benchValues)-1)])
			}
		})
	}
}

func BenchmarkRecordN(b *testing.B) {
	h := histOf(DefaultScale, benchValues...)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.RecordN(benchValues[i&(len(benchValues)-1)], 3)
	}
}

// slotAndTotal returns a one-minute slot at 100 rps and a running total of
// many such slots, both at the given scales.
func slotAndTotal(slotScale, totalScale int) (slot, total *Histogram) {
	r := rand.New(rand.NewPCG(63, 64))
	slot = histOf(slotScale, lognormal(r, 6000, 50*msec, 1)...)
	total = histOf(totalScale, lognormal(r, 1_000_000, 50*msec, 1)...)
	return slot, total
}

func BenchmarkMerge(b *testing.B) {
	for _, s := range []struct{ slot, total int }{{5, 5}, {5, 3}} {
		b.Run(fmt.Sprintf("slot=%d/total=%d", s.slot, s.total), func(b *testing.B) {
			slot, total := slotAndTotal(s.slot, s.total)
			total.RecordN(50*msec, 1<<40) // 64-bit counters from the start: no widening mid-run
			b.ReportAllocs()
			for b.Loop() {
				total.Merge(slot)
			}
		})
	}
}

func BenchmarkSubtract(b *testing.B) {
	slot, total := slotAndTotal(DefaultScale, DefaultScale)
	// full holds 4096 copies of slot; Subtract drains it and it is refilled
	// off the clock.
	const copies = 4096
	full := total.Clone()
	full.RecordN(50*msec, 1<<40)
	for range copies {
		full.Merge(slot)
	}
	h := full.Clone()
	left := copies
	b.ReportAllocs()
	for b.Loop() {
		if left == 0 {
			b.StopTimer()
			h.CopyFrom(full)
			left = copies
			b.StartTimer()
		}
		if err := h.Subtract(slot); err != nil {
			b.Fatal(err)
		}
		left--
	}
}

// BenchmarkSlide is one step of a window's running total: add the newest
// slot, subtract the evicted one.
func BenchmarkSlide(b *testing.B) {
	newest, total := slotAndTotal(DefaultScale, DefaultScale)
	evicted := histOf(DefaultScale, lognormal(rand.New(rand.NewPCG(65, 66)), 6000, 50*msec, 1)...)
	total.Merge(evicted)
	total.RecordN(50*msec, 1<<40)
	b.ReportAllocs()
	for b.Loop() {
		total.Merge(newest)
		if err := total.Subtract(evicted); err != nil {
			b.Fatal(err)
		}
		newest, evicted = evicted, newest
	}
}

func BenchmarkQuantile(b *testing.B) {
	h := histOf(DefaultScale, benchValues...)
	for _, q := range []float64{0.5, 0.99, 0.999} {
		b.Run(fmt.Sprintf("q=%g", q), func(b *testing.B) {
			b.ReportAllocs()
			var sink int64
			for b.Loop() {
				sink += h.Quantile(q)
			}
			_ = sink
		})
	}
}

func BenchmarkCountAtOrBelow(b *testing.B) {
	h := histOf(DefaultScale, benchValues...)
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += h.CountAtOrBelow(300 * msec)
	}
	_ = sink
}

func BenchmarkAppendBinary(b *testing.B) {
	_, total := slotAndTotal(DefaultScale, DefaultScale)
	buf, _ := total.AppendBinary(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = total.AppendBinary(buf[:0])
	}
}

func BenchmarkUnmarshalBinary(b *testing.B) {
	_, total := slotAndTotal(DefaultScale, DefaultScale)
	buf, _ := total.MarshalBinary()
	var h Histogram
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if err := h.UnmarshalBinary(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSizeBytes reports the memory of histograms of realistic latency
// data as bytes/hist (the loop itself measures nothing of interest).
func BenchmarkSizeBytes(b *testing.B) {
	r := rand.New(rand.NewPCG(67, 68))
	cases := []struct {
		name  string
		scale int
		vs    []int64
	}{
		{"slot_1m_100rps_lognormal", DefaultScale, lognormal(r, 6000, 50*msec, 1)},
		{"slot_1m_100rps_bimodal", DefaultScale, bimodal(r, 6000, 20*msec, 800*msec, 0.05)},
		{"slot_10s_10rps", DefaultScale, lognormal(r, 100, 50*msec, 1)},
		{"total_1e6_lognormal", DefaultScale, lognormal(r, 1_000_000, 50*msec, 1)},
		{"total_1e6_lognormal_coarse", CoarseScale, lognormal(r, 1_000_000, 50*msec, 1)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := histOf(c.scale, c.vs...)
			enc, _ := h.MarshalBinary()
			for b.Loop() {
				_ = h.SizeBytes()
			}
			b.ReportMetric(float64(h.SizeBytes()), "bytes/hist")
			b.ReportMetric(float64(len(enc)), "encoded-bytes/hist")
		})
	}
}
