package slo

import (
	"fmt"
	"runtime"
	"testing"
	"time"
)

// BenchmarkMemoryQuietFlows measures the live heap of an engine with
// 100,000 flows, an availability SLO on each (default 30 d tiers), storage
// on, when a share of them (busy) had a few events in the last minute and
// the rest none: a gateway's many mostly quiet flows. It reports bytes per
// flow; one iteration is enough (-benchtime 1x).
func BenchmarkMemoryQuietFlows(b *testing.B) {
	const n = 100_000
	specs := benchSpecsFrom(n, 1, 0)
	for _, busy := range []int{0, 10, 50} {
		b.Run(fmt.Sprintf("busy=%d%%", busy), func(b *testing.B) {
			var perFlow float64
			for b.Loop() {
				before := heapInUse()
				e := mustEngine(b, specs, Options{Deltas: true})
				now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
				evs := make([]Event, 3)
				for i, f := range e.flowList {
					if i%100 >= busy {
						continue
					}
					for j := range evs {
						evs[j] = Event{Flow: f.name, End: now.Add(-time.Duration(j*20) * time.Second).UnixNano(), Duration: 40 * time.Millisecond}
					}
					e.Observe(now, evs)
				}
				_ = e.AppendDelta(nil)
				var ev Evaluation
				e.EvaluateInto(&ev, now)
				runtime.GC()
				perFlow = float64(heapInUse()-before) / n
				runtime.KeepAlive(e)
				runtime.KeepAlive(ev)
			}
			b.ReportMetric(perFlow, "bytes/flow")
		})
	}
}

// BenchmarkRestoreQuietFlows restores a snapshot of 100,000 flows of which
// 10% had a few events (BenchmarkMemoryQuietFlows's), and reports the
// restored engine's live heap per flow.
func BenchmarkRestoreQuietFlows(b *testing.B) {
	const n = 100_000
	specs := benchSpecsFrom(n, 1, 0)
	e := mustEngine(b, specs, Options{Deltas: true})
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]Event, 3)
	for i, f := range e.flowList {
		if i%10 != 0 {
			continue
		}
		for j := range evs {
			evs[j] = Event{Flow: f.name, End: now.Add(-time.Duration(j*20) * time.Second).UnixNano(), Duration: 40 * time.Millisecond}
		}
		e.Observe(now, evs)
	}
	snap := e.AppendSnapshot(nil, now)
	var perFlow float64
	for b.Loop() {
		b.StopTimer()
		before := heapInUse()
		r := mustEngine(b, specs, Options{Deltas: true})
		b.StartTimer()
		if _, err := r.Restore(snap); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		perFlow = float64(heapInUse()-before) / n
		runtime.KeepAlive(r)
		b.StartTimer()
	}
	b.ReportMetric(perFlow, "bytes/flow")
	b.ReportMetric(float64(len(snap)), "snapshot-bytes")
}
