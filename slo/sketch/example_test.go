package sketch_test

import (
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// A window keeps one histogram per slot and a running total: add the newest
// slot, subtract the evicted one.
func Example_window() {
	slots := make([]sketch.Histogram, 3) // the zero value is ready at DefaultScale
	var total sketch.Histogram
	for minute, latencies := range [][]time.Duration{
		{12 * time.Millisecond, 15 * time.Millisecond, 300 * time.Millisecond},
		{11 * time.Millisecond, 14 * time.Millisecond},
		{13 * time.Millisecond, 2 * time.Second},
		{10 * time.Millisecond, 16 * time.Millisecond}, // evicts minute 0
	} {
		slot := &slots[minute%len(slots)]
		if err := total.Subtract(slot); err != nil {
			panic(err) // a bug: the slot was added before
		}
		slot.Reset()
		for _, d := range latencies {
			slot.Record(int64(d))
		}
		total.Merge(slot)
	}
	p50 := time.Duration(total.Quantile(0.5))
	fmt.Printf("count %d, p50 %v, max %v\n", total.Count(), p50.Round(time.Millisecond), time.Duration(total.Quantile(1)).Round(100*time.Millisecond))
	// Output: count 6, p50 13ms, max 2s
}

// A time-slice SLO asks whether a slice's percentile met the threshold; the
// same verdict comes from counting values at or below it. 300 ms is not a
// bucket edge, so its whole bucket (299.14 ms to 305.69 ms) counts as above it:
// 299 rather than 300. Event SLOs use the engine's exact good/bad counters.
func ExampleHistogram_CountAtOrBelow() {
	h := sketch.New(sketch.DefaultScale)
	for i := range 1000 {
		h.Record(int64(time.Duration(i+1) * time.Millisecond))
	}
	threshold := int64(300 * time.Millisecond)
	good := h.CountAtOrBelow(threshold)
	fmt.Printf("good %d of %d\n", good, h.Count())
	fmt.Println("p99 within threshold:", h.Quantile(0.99) <= threshold,
		"| 99% within threshold:", good >= sketch.Rank(0.99, h.Count()))
	// Output:
	// good 299 of 1000
	// p99 within threshold: false | 99% within threshold: false
}
