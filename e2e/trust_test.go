package e2e

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// spoofed makes n spans of an unknown service that carry the flow
// annotations themselves: CLIENT spans naming a real flow as errors, server
// spans on a route no flow matches, and invented flow names.
func spoofed(n int) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "intruder"))
	now := time.Now()
	out := make([]sdktrace.ReadOnlySpan, 0, n)
	for i := 0; i < n; i++ {
		kind, flow, route := trace.SpanKindClient, "checkout", "/checkout"
		switch i % 3 {
		case 1:
			kind, route = trace.SpanKindServer, "/elsewhere"
		case 2:
			kind, flow, route = trace.SpanKindServer, "invented-"+string(rune('a'+i%26)), "/nowhere"
		}
		out = append(out, tracetest.SpanStub{
			Name: "GET " + route,
			SpanContext: trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{9, byte(i), byte(i >> 8)}, SpanID: trace.SpanID{9, byte(i), byte(i >> 8)}, TraceFlags: trace.FlagsSampled}),
			Parent:    trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9, byte(i)}, SpanID: trace.SpanID{8}}),
			SpanKind:  kind,
			StartTime: now.Add(-10 * time.Millisecond),
			EndTime:   now,
			Attributes: []attribute.KeyValue{attribute.String("http.route", route),
				attribute.String("burnwatch.flow", flow), attribute.Bool("burnwatch.error", true)},
			Status:               sdktrace.Status{Code: codes.Error},
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "spoof"},
		}.Snapshot())
	}
	return out
}

// TestSpoofedFlowCountsNothing: spans that match no flow but carry
// burnwatch.flow themselves change no flow's counts and page nobody; only
// the flow processor says which flow a span is in.
func TestSpoofedFlowCountsNothing(t *testing.T) {
	hook := newWebhook(t)
	d := startDaemonWith(t, &daemonConfig{specs: crashSpecs, webhook: hook.URL})
	exp := newExporter(t, d.grpc)
	legit := batch(rand.New(rand.NewPCG(1, 2)), 30, false) // 20 checkout, 10 search, all healthy
	exp.send(t, legit)
	exp.send(t, spoofed(300))

	// Wait for an evaluation that holds the legitimate spans.
	deadline := time.Now().Add(10 * time.Second)
	for windowCounts(t, d.metrics)["checkout-availability/2h/good"] < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("the legitimate spans were not counted:\n%s", scrape(t, d.metrics))
		}
		time.Sleep(50 * time.Millisecond) // polling a real process
	}
	w := windowCounts(t, d.metrics)
	if w["checkout-availability/2h/good"] != 20 || w["checkout-availability/2h/bad"] != 0 {
		t.Errorf("checkout 2h window = %d good, %d bad; want the 20 legitimate good spans only",
			w["checkout-availability/2h/good"], w["checkout-availability/2h/bad"])
	}
	metrics := scrape(t, d.metrics)
	for _, want := range []string{
		"burnwatch_spans_annotation_removed_total 300",
		`burnwatch_flow_events_total{flow="checkout"} 20`,
		`burnwatch_slo_tier_condition{slo="checkout-availability",tier="page-fast"} 0`,
		"burnwatch_alerts_firing 0",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, "invented-") {
		t.Error("/metrics shows an invented flow")
	}
	if n := len(hook.alerts()); n != 0 {
		t.Errorf("the webhook got %d alerts from spoofed spans", n)
	}
}

// TestDataDirectoryRemovedWhileRunning: the data directory removed under
// the running daemon is reported, recreated with a checkpoint of the whole
// state, and a kill -9 afterwards loses nothing acknowledged.
func TestDataDirectoryRemovedWhileRunning(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := &daemonConfig{specs: crashSpecs, webhook: newWebhook(t).URL, dataDir: dataDir}
	d := startDaemonWith(t, cfg)
	exp := newExporter(t, d.grpc)
	rng := rand.New(rand.NewPCG(3, 4))
	exp.send(t, batch(rng, 30, false))
	if err := os.RemoveAll(dataDir); err != nil {
		t.Fatal(err)
	}
	// Acknowledged into unlinked files until the daemon notices.
	exp.send(t, batch(rng, 30, true))
	deadline := time.Now().Add(10 * time.Second)
	for metricValue(t, d.metrics, "burnwatch_storage_recoveries_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the removed data directory was not recovered:\n%s", d.stderr)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process
	}
	if _, err := os.Stat(filepath.Join(dataDir, "checkpoints")); err != nil {
		t.Errorf("the data directory was not recreated: %v", err)
	}
	if v := metricValue(t, d.metrics, "burnwatch_storage_durable"); v != 1 {
		t.Errorf("burnwatch_storage_durable = %v after recovery, want 1", v)
	}
	log := d.stderr.String()
	for _, want := range []string{"storage is not durable", "storage is durable again"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not say %q", want)
		}
	}
	// Whichever noticed first: the check of the directory, or a WAL
	// segment that could not be created in it.
	if !strings.Contains(log, "removed or replaced while open") && !strings.Contains(log, "write-ahead log append failed") {
		t.Error("the log does not say why storage stopped being durable")
	}
	exp.send(t, batch(rng, 30, false))
	// Wait for an evaluation that holds all 90 spans (60 checkout, 30 search).
	for {
		w := windowCounts(t, d.metrics)
		if w["checkout-availability/2h/good"]+w["checkout-availability/2h/bad"] == 60 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all spans counted: %v", w)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process
	}
	want := windowCounts(t, d.metrics)
	d.kill()
	d = startDaemonWith(t, cfg)
	deadline = time.Now().Add(10 * time.Second)
	for windowCounts(t, d.metrics)["checkout-availability/2h/good"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no evaluation after the restart")
		}
		time.Sleep(50 * time.Millisecond) // polling a real process
	}
	got := windowCounts(t, d.metrics)
	for _, key := range []string{"checkout-availability/2h/good", "checkout-availability/2h/bad", "search-availability/2h/good"} {
		if got[key] != want[key] {
			t.Errorf("%s after kill -9: %d, before %d", key, got[key], want[key])
		}
	}
}
