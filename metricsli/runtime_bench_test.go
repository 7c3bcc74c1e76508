package metricsli

import (
	"fmt"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// benchPoints are one export of streams points of one metric: a service's
// routes by status code, as an SDK sends them every interval.
func benchPoints(kind string, tp Temporality, streams int, i int) []Point {
	pts := make([]Point, streams)
	res := []Attr{str("service.name", "shop"), str("service.instance.id", "pod-1"), str("deployment.environment", "prod")}
	for s := range pts {
		attrs := []Attr{str("http.route", fmt.Sprintf("/route/%d", s/4)), str("http.request.method", "GET"),
			num("http.response.status_code", []int64{200, 201, 404, 503}[s%4])}
		p := Point{Unit: "{request}", Temporality: tp, Start: at(-100), Time: at(float64(i)), Attrs: attrs, Resource: res, Scope: "io.opentelemetry.http@1.0"}
		v := uint64(i + 1)
		if tp == Delta {
			v = 1
		}
		switch kind {
		case "counter":
			p.Metric, p.Type, p.Value = "http.server.requests", MonotonicSum, float64(v*10)
		case "explicit":
			p.Metric, p.Unit, p.Type = "http.server.request.duration", "s", Histogram
			p.Bounds = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
			p.Buckets = make([]uint64, len(p.Bounds)+1)
			for j := range p.Buckets {
				p.Buckets[j] = v
			}
			p.Count = v * uint64(len(p.Buckets))
		case "exponential":
			p.Metric, p.Unit, p.Type = "http.server.request.duration", "s", ExponentialHistogram
			p.Scale, p.Offset = 4, -120 // 160 buckets from about 5 ms to 5 s
			p.Positive = make([]uint64, 160)
			for j := range p.Positive {
				p.Positive[j] = v
			}
			p.Count = v * 160
		}
		pts[s] = p
	}
	return pts
}

// BenchmarkIngest measures points to engine: the runtime reads a batch of
// 1,000 points (the streams of one export) and the engine counts what
// they say, per point.
func BenchmarkIngest(b *testing.B) {
	route := []flows.Rule{{Attribute: "http.route", Op: flows.OpEquals, Value: "/route/7"}}
	ins := map[string]*Indicator{
		// Every point of the counter: PromQL, names translated.
		"promql": mustCompile(b, PromQL{
			Bad:   `sum(rate(http_server_requests_total{job="shop", http_response_status_code=~"5.."}[{{.window}}]))`,
			Total: `sum(rate(http_server_requests_total{job="shop"}[{{.window}}]))`,
		}),
		// One route of the counter, by match rules.
		"metric": {Good: &Source{Kind: Counter, Metric: "http.server.requests", Match: append(route, flows.Rule{Attribute: "http.response.status_code", Op: flows.OpLt, Number: 500})},
			Total: &Source{Kind: Counter, Metric: "http.server.requests", Match: route}},
		// Every point of the histogram, at 250 ms.
		"latency": {Good: &Source{Kind: HistogramThreshold, Metric: "http.server.request.duration", Threshold: 250 * time.Millisecond},
			Total: &Source{Kind: HistogramCount, Metric: "http.server.request.duration"}},
	}
	var specs []slo.Spec
	for name := range ins {
		specs = append(specs, slo.Spec{Name: name, Flow: FlowName(name), Objective: slo.Availability, Target: 0.99, Period: 30 * 24 * time.Hour})
	}
	const streams = 1000
	for _, kind := range []string{"counter", "explicit", "exponential"} {
		for _, tp := range []Temporality{Cumulative, Delta} {
			b.Run(kind+"/"+tp.String(), func(b *testing.B) {
				r, err := NewRuntime(ins, Options{Began: t0})
				if err != nil {
					b.Fatal(err)
				}
				e, err := slo.NewEngine(specs, slo.Options{Deltas: true, AllowedLateness: 1000 * time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				// Batches of distinct times, made before the clock starts.
				batches := make([][]Point, 64)
				for i := range batches {
					batches[i] = benchPoints(kind, tp, streams, i)
				}
				var cs []slo.Counts
				var delta []byte
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % len(batches)
					if k == 0 && i > 0 {
						b.StopTimer()
						for j := range batches {
							batches[j] = benchPoints(kind, tp, streams, i+j)
						}
						b.StartTimer()
					}
					now := time.Unix(0, at(float64(i)))
					cs = r.Ingest(now, batches[k], cs[:0])
					e.ObserveCounts(now, cs)
					delta = e.AppendDelta(delta[:0])
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*streams), "ns/point")
			})
		}
	}
}

func mustCompile(tb testing.TB, q PromQL) *Indicator {
	in, err := CompilePromQL(q)
	if err != nil {
		tb.Fatal(err)
	}
	return in
}
