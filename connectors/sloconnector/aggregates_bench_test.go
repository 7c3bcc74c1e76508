package sloconnector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/slo"
)

// BenchmarkGatewayDecode is a gateway's cost per aggregate point before
// the merge (slo.BenchmarkMergeSlot is the merge): an agent's export of
// 1,000 flows, one 5 s slot each of events requests with three SLOs'
// verdicts, from OTLP protobuf bytes (as the receiver gets them) to
// pdata to aggregates. Reported per slot.
func BenchmarkGatewayDecode(b *testing.B) {
	for _, events := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("events=%d", events), func(b *testing.B) {
			const flows = 1000
			var specs []slo.Spec
			for f := range flows {
				flow := fmt.Sprintf("flow-%05d", f)
				specs = append(specs,
					slo.Spec{Name: flow + "-a", Flow: flow, Objective: slo.Availability, Target: 0.999, Period: 30 * 24 * time.Hour},
					slo.Spec{Name: flow + "-l", Flow: flow, Objective: slo.LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: 30 * 24 * time.Hour},
					slo.Spec{Name: flow + "-s", Flow: flow, Objective: slo.PercentileSlices, Threshold: 300 * time.Millisecond, Percentile: 0.99,
						Slice: time.Minute, Target: 0.99, Period: 30 * 24 * time.Hour})
			}
			e, err := slo.NewEngine(specs, slo.Options{})
			if err != nil {
				b.Fatal(err)
			}
			agent := slo.NewAggregator(e)
			r := rand.New(rand.NewPCG(1, 1))
			now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
			var evs []slo.Event
			for f := range flows {
				for i := range events {
					d := time.Duration(math.Exp(math.Log(50e6) + 0.6*r.NormFloat64()))
					evs = append(evs, slo.Event{Flow: fmt.Sprintf("flow-%05d", f), End: now.UnixNano(), Duration: d, Error: i%97 == 0})
				}
			}
			agent.Add(now, evs)
			md := pmetric.NewMetrics()
			encodeAggregates(md, "agent", 1, now, agent.Cut(nil))
			wire, err := (&pmetric.ProtoMarshaler{}).MarshalMetrics(md)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(wire) / flows))
			b.ReportAllocs()
			b.ResetTimer()
			slots := 0
			for i := 0; i < b.N; i += flows {
				got, err := (&pmetric.ProtoUnmarshaler{}).UnmarshalMetrics(wire)
				if err != nil {
					b.Fatal(err)
				}
				var g gatewayBatch
				rms := got.ResourceMetrics()
				for j := 0; j < rms.Len(); j++ {
					g.add(rms.At(j), rms.At(j).ScopeMetrics().At(0))
				}
				if len(g.errs) > 0 || len(g.aggs) != flows {
					b.Fatalf("%d aggregates, errors %v", len(g.aggs), g.errs)
				}
				slots += len(g.aggs)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(slots), "ns/slot")
		})
	}
}
