package slo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkMergeSlot is a gateway's cost per aggregate point: one agent
// slot of one flow (its latency histogram into every percentile window
// and slice, its counts into both event-based SLOs' windows, and into the
// delta written to the WAL after each batch). Each of 1,000 flows has the three kinds of
// SLO with the default 30 d tiers; a slot holds events events of
// realistic latencies, as a 5 s cut of a flow at events/5 requests a
// second does. Reported per slot.
func BenchmarkMergeSlot(b *testing.B) {
	for _, events := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) {
			const flows = 1000
			specs := benchSpecs(flows, 3)
			gateway := mustEngine(b, specs, Options{Deltas: true})
			agent := NewAggregator(mustEngine(b, specs, Options{}))
			r := rand.New(rand.NewPCG(1, 1))
			now := base.Add(time.Hour)
			// A pool of cuts, one slot per flow each, merged in turn at
			// an advancing now, as every agent.interval.
			const cuts = 8
			pool := make([][]Aggregate, cuts)
			for c := range cuts {
				at := now.Add(time.Duration(c) * 5 * time.Second)
				var evs []Event
				for f := range flows {
					for i, d := range latencies(r, events) {
						evs = append(evs, Event{Flow: fmt.Sprintf("flow-%05d", f), End: at.UnixNano(), Duration: d, Error: i%97 == 0})
					}
				}
				agent.Add(at, evs)
				pool[c] = agent.Cut(nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			slots := 0
			var wal []byte
			for i := 0; i < b.N; i += flows {
				c := (i / flows) % cuts
				// Later rounds place the pool's slots at a later now: the
				// windows move as they would.
				at := now.Add(time.Duration(c)*5*time.Second + time.Duration(i/flows/cuts)*40*time.Second)
				aggs := pool[c]
				shift := at.Sub(now.Add(time.Duration(c) * 5 * time.Second)).Nanoseconds()
				for j := range aggs {
					for k := range aggs[j].Slots {
						aggs[j].Slots[k].Start += shift
					}
					for s := range aggs[j].SLOs {
						for k := range aggs[j].SLOs[s].Counts {
							aggs[j].SLOs[s].Counts[k].Start += shift
						}
					}
				}
				gateway.Merge(at, aggs)
				// A gateway writes the merge ahead before it acknowledges.
				wal = gateway.AppendDelta(wal[:0])
				slots += len(aggs)
				for j := range aggs {
					for k := range aggs[j].Slots {
						aggs[j].Slots[k].Start -= shift
					}
					for s := range aggs[j].SLOs {
						for k := range aggs[j].SLOs[s].Counts {
							aggs[j].SLOs[s].Counts[k].Start -= shift
						}
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(slots), "ns/slot")
		})
	}
}

// BenchmarkAggregatorAdd is an agent's cost per event, as BenchmarkObserve
// is a daemon's: batches of 100 events of one flow with three SLOs
// (availability, latency, time slice), 10,000 a second, cut every 5 s as
// agent.interval does. Reported per event.
func BenchmarkAggregatorAdd(b *testing.B) {
	agent := NewAggregator(mustEngine(b, benchSpecs(1, 3), Options{}))
	r := rand.New(rand.NewPCG(1, 2))
	lat := latencies(r, 1<<12)
	const batch = 100
	evs := make([]Event, batch)
	for i := range evs {
		evs[i] = Event{Flow: "flow-00000", Duration: lat[i], Error: i%97 == 0}
	}
	now := base
	var cut []Aggregate
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		now = now.Add(10 * time.Millisecond)
		for j := range evs {
			evs[j].End = now.UnixNano() - int64(j)*int64(50*time.Microsecond)
			evs[j].Duration = lat[(i+j)&(len(lat)-1)]
		}
		agent.Add(now, evs)
		if i%(batch*500) == 0 {
			cut = agent.Cut(cut[:0])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/event")
}
