package sloconnector

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/processors/flowprocessor"
)

// otlploadBatch is shaped like ../shared/bench/otlpload's requests: 8
// services, 25 routes each with skewed popularity, 500 server spans per
// request, each with 3 client children; lognormal durations; 0.1% errors.
func otlploadBatch(now time.Time) ptrace.Traces {
	rng := rand.New(rand.NewPCG(1, 2))
	td := ptrace.NewTraces()
	const services, servers, children = 8, 500, 3
	rss := make([]ptrace.SpanSlice, services)
	for s := range services {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("svc-%d", s))
		rs.Resource().Attributes().PutStr("host.name", "bench")
		rss[s] = rs.ScopeSpans().AppendEmpty().Spans()
	}
	for i := 0; i < servers; i++ {
		svc := rng.IntN(services)
		route := int(math.Floor(math.Pow(rng.Float64(), 2) * 25))
		d := time.Duration(float64(40*time.Millisecond) * math.Exp(0.8*rng.NormFloat64()))
		sp := rss[svc].AppendEmpty()
		sp.SetName("GET /api/v1/r" + fmt.Sprint(route))
		sp.SetKind(ptrace.SpanKindServer)
		sp.SetTraceID(pcommon.TraceID{byte(i), byte(i >> 8), 1})
		sp.SetSpanID(pcommon.SpanID{byte(i), byte(i >> 8)})
		sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-d)))
		sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
		a := sp.Attributes()
		a.PutStr("http.route", fmt.Sprintf("/api/v1/r%d", route))
		a.PutStr("http.request.method", "GET")
		code := int64(200)
		if rng.Float64() < 0.001 {
			code = 503
			sp.Status().SetCode(ptrace.StatusCodeError)
		}
		a.PutInt("http.response.status_code", code)
		for c := 0; c < children; c++ {
			ch := rss[svc].AppendEmpty()
			ch.SetName("SELECT")
			ch.SetKind(ptrace.SpanKindClient)
			ch.SetTraceID(sp.TraceID())
			ch.SetParentSpanID(sp.SpanID())
			ch.SetStartTimestamp(sp.StartTimestamp())
			ch.SetEndTimestamp(sp.EndTimestamp())
			ch.Attributes().PutStr("db.system.name", "postgresql")
		}
	}
	return td
}

// BenchmarkSpanPath is the whole per-span path after OTLP decoding: flow
// classification and annotation, then event extraction and the engine's
// exact counters, on bench/specs.yaml (9 flows, 11 SLOs). Reported per span,
// client children included, as otlpload counts them.
func BenchmarkSpanPath(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	host, _ := burnwatchextensiontest.Start(b, nil, "../../bench/specs.yaml")
	conn, err := NewFactory().CreateTracesToMetrics(ctx, connectortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	pf := flowprocessor.NewFactory()
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(flowprocessor.Type), pf.CreateDefaultConfig(), conn)
	if err != nil {
		b.Fatal(err)
	}
	if err := proc.Start(ctx, host); err != nil {
		b.Fatal(err)
	}
	if err := conn.Start(ctx, host); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = proc.Shutdown(ctx); _ = conn.Shutdown(ctx) }()

	batch := otlploadBatch(now)
	perBatch := batch.SpanCount()
	// Fresh copies, as each request decodes into new pdata.
	const copies = 64
	pool := make([]ptrace.Traces, copies)
	var next consumer.Traces = proc
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%copies == 0 {
			b.StopTimer()
			for j := range pool {
				pool[j] = ptrace.NewTraces()
				batch.CopyTo(pool[j])
			}
			b.StartTimer()
		}
		if err := next.ConsumeTraces(ctx, pool[i%copies]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBatch), "ns/span")
}
