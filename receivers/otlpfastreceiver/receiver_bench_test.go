package otlpfastreceiver

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
)

// BenchmarkConsume is a request's whole path after the transport: bytes →
// events → the App's engine (exact windows, latency histograms), with the
// bench specs, on otlpload's request restamped to end now (so every event
// lands in the windows). ns and allocations per span.
//
//	go test -run '^$' -bench Consume -benchtime 200x -count 3 ./receivers/otlpfastreceiver
func BenchmarkConsume(b *testing.B) {
	f, err := os.Open("internal/otlpwire/testdata/otlpload.pb.gz")
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(raw); err != nil {
		b.Fatal(err)
	}
	td := req.Traces()
	spans := td.SpanCount()
	var latest pcommon.Timestamp
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		ss := rss.At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < ss.Len(); j++ {
			latest = max(latest, ss.At(j).EndTimestamp())
		}
	}
	shift := pcommon.NewTimestampFromTime(time.Now()) - latest
	for i := 0; i < rss.Len(); i++ {
		ss := rss.At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < ss.Len(); j++ {
			s := ss.At(j)
			s.SetStartTimestamp(s.StartTimestamp() + shift)
			s.SetEndTimestamp(s.EndTimestamp() + shift)
		}
	}
	body := encode(b, td, false)

	host, a := burnwatchextensiontest.Start(b, nil, "../../bench/specs.yaml")
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	r := newReceiver(cfg, receiverSettings())
	if err := r.Start(context.Background(), host); err != nil {
		b.Fatal(err)
	}
	defer r.Shutdown(context.Background())
	run := func() {
		w := r.getWork()
		if _, err := r.consume(context.Background(), w, body, false, &r.m.http); err != nil {
			b.Fatal(err)
		}
		r.putWork(w)
	}
	run()
	b.ReportAllocs()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	b.ResetTimer()
	for b.Loop() {
		run()
	}
	b.StopTimer()
	runtime.ReadMemStats(&m1)
	n := float64(b.N * spans)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/span")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n, "allocs/span")
	if ev := flowEvents(a)["r0"][0]; ev == 0 {
		b.Fatal("no r0 events: the request does not reach the engine")
	}
}
