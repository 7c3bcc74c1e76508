package e2e

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// restartMetricSpecs count bad requests and all requests (good follows).
const restartMetricSpecs = `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api}
spec:
  indicator:
    metric:
      bad:   {name: http.server.requests, match: [{attribute: http.response.status_code, gte: 500}]}
      total: {name: http.server.requests}
  target: 99.5
  period: 2h
`

// TestMetricStreamsCountAcrossCleanRestart: an OTel SDK exports a
// cumulative counter; Burnwatch is stopped with SIGTERM and started again
// on its data directory; the SDK's next export counts its increase since
// the export before the stop (a restarted Burnwatch without the streams'
// last points would take it as a baseline and count nothing).
func TestMetricStreamsCountAcrossCleanRestart(t *testing.T) {
	cfg := &daemonConfig{specs: restartMetricSpecs, webhook: newWebhook(t).URL, dataDir: t.TempDir(), metricsIn: true}
	d := startDaemonWith(t, cfg)
	exp, err := otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(d.grpc), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	// Exports only when the test flushes.
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	requests, err := mp.Meter("e2e").Int64Counter("http.server.requests", metric.WithUnit("{request}"))
	if err != nil {
		t.Fatal(err)
	}
	ok := metric.WithAttributes(attribute.Int("http.response.status_code", 200))
	failed := metric.WithAttributes(attribute.Int("http.response.status_code", 503))
	export := func(good, bad int64) {
		t.Helper()
		requests.Add(context.Background(), good, ok)
		requests.Add(context.Background(), bad, failed)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := mp.ForceFlush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	events := func(outcome string) float64 {
		return sampleValue(scrape(t, d.metrics), `burnwatch_slo_window_events{slo="api",window="2h",outcome="`+outcome+`"}`)
	}
	waitCounts := func(good, bad float64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for events("good") != good || events("bad") != bad {
			if time.Now().After(deadline) {
				t.Fatalf("api counts %v good %v bad, want %v and %v:\n%s", events("good"), events("bad"), good, bad,
					grepLines(scrape(t, d.metrics), "burnwatch_metric", "burnwatch_slo_window_events"))
			}
			time.Sleep(50 * time.Millisecond) // polling a real process
		}
	}
	export(100, 5) // the SDK began after Burnwatch: its first points count
	waitCounts(100, 5)

	d.stop()
	d = startDaemonWith(t, cfg)
	export(50, 3)
	waitCounts(150, 8)
	if v := sampleValue(scrape(t, d.metrics), `burnwatch_metric_points_total{outcome="baseline"}`); v != 0 {
		t.Errorf("%v baselines after a clean restart, want none", v)
	}
}
