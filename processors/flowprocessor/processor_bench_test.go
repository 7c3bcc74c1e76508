package flowprocessor

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const benchSpans = 1000

// benchTraces is a realistic batch: 10 resources of two services, 100 spans
// each, with the usual attributes. Of 1000 spans, 600 are entry spans; 250
// shop spans are checkout entries, 50 shop root spans on /cart match no flow,
// and all 500 worker spans fall in orders-queue, a flow open to every span
// kind: 750 spans get annotated.
func benchTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for r := range 10 {
		rs := td.ResourceSpans().AppendEmpty()
		ra := rs.Resource().Attributes()
		ra.PutStr("service.name", []string{"shop", "worker"}[r%2])
		ra.PutStr("service.version", "1.2.3")
		ra.PutStr("host.name", fmt.Sprintf("host-%d", r))
		ra.PutStr("telemetry.sdk.language", "go")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		for i := range benchSpans / 10 {
			s := spans.AppendEmpty()
			s.SetName("GET /checkout/{id}")
			s.SetTraceID(pcommon.TraceID{byte(r), byte(i)})
			s.SetSpanID(pcommon.SpanID{byte(i)})
			s.SetKind([]ptrace.SpanKind{ptrace.SpanKindServer, ptrace.SpanKindClient, ptrace.SpanKindConsumer, ptrace.SpanKindInternal}[i%4])
			if i%5 != 0 {
				s.SetParentSpanID(pcommon.SpanID{1})
			}
			a := s.Attributes()
			a.PutStr("http.request.method", "GET")
			a.PutStr("http.route", []string{"/checkout/{id}", "/cart"}[i%2])
			a.PutStr("url.scheme", "https")
			a.PutStr("server.address", "shop.example")
			a.PutInt("http.response.status_code", []int64{200, 200, 404, 503}[i%4])
			if r%2 == 1 {
				a.PutStr("messaging.destination.name", "orders")
			}
			a.PutStr("network.protocol.version", "1.1")
		}
	}
	return td
}

// BenchmarkProcessSpans measures the per-span path, classify and annotate,
// over a batch of 1000 spans, and reports ns/span and allocs/span.
// "reannotate" runs on spans that already carry the burnwatch attributes (pdata
// updates them in place): that is our code's own cost. "fresh" runs on new
// copies of the batch, as spans come from a receiver, where pdata allocates
// the value wrappers of the two new attributes and may grow the attribute
// slice; the copy itself is made with the timer stopped and not counted.
func BenchmarkProcessSpans(b *testing.B) {
	p := startedProcessor(b, nil, "testdata/specs/*.yaml")
	ctx := context.Background()
	template := benchTraces()
	report := func(b *testing.B, mallocs uint64) {
		spans := float64(b.N * benchSpans)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/spans, "ns/span")
		b.ReportMetric(float64(mallocs)/spans, "allocs/span")
	}

	b.Run("reannotate", func(b *testing.B) {
		td := ptrace.NewTraces()
		template.CopyTo(td)
		// Twice: the second pass grows the attribute slices for good.
		_, _ = p.processTraces(ctx, td)
		_, _ = p.processTraces(ctx, td)
		var m0, m1 runtime.MemStats
		b.ReportAllocs()
		b.ResetTimer()
		runtime.ReadMemStats(&m0)
		for i := 0; i < b.N; i++ {
			_, _ = p.processTraces(ctx, td)
		}
		b.StopTimer()
		runtime.ReadMemStats(&m1)
		report(b, m1.Mallocs-m0.Mallocs)
	})
	b.Run("fresh", func(b *testing.B) {
		var m0, m1 runtime.MemStats
		var mallocs uint64
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			td := ptrace.NewTraces()
			template.CopyTo(td)
			runtime.ReadMemStats(&m0)
			b.StartTimer()
			_, _ = p.processTraces(ctx, td)
			b.StopTimer()
			runtime.ReadMemStats(&m1)
			mallocs += m1.Mallocs - m0.Mallocs
			b.StartTimer()
		}
		b.StopTimer()
		report(b, mallocs)
	})
}
