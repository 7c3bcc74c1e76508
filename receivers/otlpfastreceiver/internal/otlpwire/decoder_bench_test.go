package otlpwire

import (
	"compress/gzip"
	"io"
	"os"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// otlploadRequest is one request of ../shared/bench/otlpload's default load
// (otlpload -dump, gzipped): 8 services, 500 server spans each with 3
// client children, 2,000 spans.
func otlploadRequest(b *testing.B) (pb []byte, spans int) {
	b.Helper()
	f, err := os.Open("testdata/otlpload.pb.gz")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	pb, err = io.ReadAll(zr)
	if err != nil {
		b.Fatal(err)
	}
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(pb); err != nil {
		b.Fatal(err)
	}
	return pb, req.Traces().SpanCount()
}

// reportPerSpan reports ns and allocations per span.
func reportPerSpan(b *testing.B, spans int, run func()) {
	b.Helper()
	run() // warm the pools and buffers
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
}

// BenchmarkDecode is the fast path's bytes → events on the otlpload
// request with the bench specs (bench/specs.yaml: 9 flows): protobuf,
// the same request in JSON, and, for scale, what pdata alone takes to
// unmarshal it (the upstream receiver's first step).
//
//	go test -run '^$' -bench Decode -benchtime 200x -count 3 ./receivers/otlpfastreceiver/internal/otlpwire
func BenchmarkDecode(b *testing.B) {
	pb, spans := otlploadRequest(b)
	d := NewDecoder(testClassifier(b, "../../../../bench/specs.yaml"), Options{})
	batch := d.NewBatch()
	b.Run("protobuf", func(b *testing.B) {
		reportPerSpan(b, spans, func() {
			if err := d.DecodeProto(batch, pb); err != nil {
				b.Fatal(err)
			}
		})
		if len(batch.Events) == 0 {
			b.Fatal("no events")
		}
	})
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(pb); err != nil {
		b.Fatal(err)
	}
	js, err := req.MarshalJSON()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("json", func(b *testing.B) {
		reportPerSpan(b, spans, func() {
			if err := d.DecodeJSON(batch, js); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("pdata unmarshal only", func(b *testing.B) {
		reportPerSpan(b, spans, func() {
			if err := ptraceotlp.NewExportRequest().UnmarshalProto(pb); err != nil {
				b.Fatal(err)
			}
		})
	})
}
