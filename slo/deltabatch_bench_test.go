package slo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkReplay10kFlows replays a WAL's worth of deltas of 10,000 flows (one
// default-tier SLO each): 600 batches of 2,000 events, 20 a second over 30 s,
// flows drawn with the skew otlpload's routes have, a delta cut after each
// batch as the daemon does. one-by-one is ApplyDelta per delta, bulk a
// DeltaBatch over all of them.
func BenchmarkReplay10kFlows(b *testing.B) {
	specs := benchSpecs(10_000, 1)
	src := mustEngine(b, specs, Options{Deltas: true})
	r := rand.New(rand.NewPCG(3, 4))
	lat := latencies(r, 1<<12)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]Event, 2000)
	var deltas [][]byte
	size := 0
	for i := range 600 {
		now = now.Add(50 * time.Millisecond)
		for j := range evs {
			u := r.Float64()
			evs[j] = Event{Flow: fmt.Sprintf("flow-%05d", int(u*u*10_000)), End: now.UnixNano(), Duration: lat[(i*2000+j)&(len(lat)-1)], Error: r.IntN(1000) == 0}
		}
		src.Observe(now, evs)
		d := src.AppendDelta(nil)
		deltas = append(deltas, d)
		size += len(d)
	}
	for _, mode := range []string{"one-by-one", "bulk"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := mustEngine(b, specs, Options{Deltas: true})
				b.StartTimer()
				if mode == "bulk" {
					batch := e.NewDeltaBatch()
					for _, d := range deltas {
						if err := batch.Add(d); err != nil {
							b.Fatal(err)
						}
					}
					batch.Flush()
				} else {
					for _, d := range deltas {
						if err := e.ApplyDelta(d); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.ReportMetric(float64(size)/(1<<20), "MiB")
		})
	}
}
