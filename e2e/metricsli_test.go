package e2e

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The bounds of the explicit-bucket request duration histogram, in
// seconds: 250 ms is one, so a 250ms threshold reads exactly.
var durationBounds = []float64{0.05, 0.1, 0.25, 0.5, 1}

// meterProvider exports through the OTel metric SDK's OTLP gRPC exporter
// to the daemon every 100 ms, cumulative (the SDK's default), with
// app.request.duration as an exponential histogram of at most scale 5.
func meterProvider(t *testing.T, addr string) *sdkmetric.MeterProvider {
	t.Helper()
	exp, err := otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(addr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(
		sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(100*time.Millisecond))),
		sdkmetric.WithView(sdkmetric.NewView(sdkmetric.Instrument{Name: "app.request.duration"},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationBase2ExponentialHistogram{MaxSize: 160, MaxScale: 5}})),
	)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

// Sloth-style PromQL over the SDK's instruments, named by the
// OpenTelemetry-to-Prometheus rules: the counter http.server.requests
// ({request}) is http_server_requests_total, the histogram
// http.server.request.duration (s) has _bucket and _count series. A 2 h
// period makes page-fast 10 s long and 833 ms short.
const promqlSpecs = `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-errors, labels: {team: payments}}
spec:
  indicator:
    promql:
      bad: sum(rate(http_server_requests_total{job="shop", http_route="/checkout", http_response_status_code=~"5.."}[{{.window}}]))
      total: sum(rate(http_server_requests_total{job="shop", http_route="/checkout"}[{{.window}}]))
  target: 99
  period: 2h
  alerting: {min_events: 10}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-latency}
spec:
  indicator:
    promql:
      # Sloth's latency errors: total - good.
      bad: |
        sum(rate(http_server_request_duration_seconds_count{http_route="/checkout"}[{{.window}}]))
        -
        sum(rate(http_server_request_duration_seconds_bucket{http_route="/checkout", le="0.25"}[{{.window}}]))
      total: sum(rate(http_server_request_duration_seconds_count{http_route="/checkout"}[{{.window}}]))
  target: 99
  period: 2h
  alerting: {min_events: 10}
---
# One SLO per route, as Pyrra's grouping: only the failing route pages.
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: by-route}
spec:
  indicator:
    promql:
      bad: sum by (http_route) (rate(http_server_requests_total{http_response_status_code=~"5.."}[{{.window}}]))
      total: sum by (http_route) (rate(http_server_requests_total[{{.window}}]))
  target: 99
  period: 2h
  alerting: {min_events: 10}
`

func TestPromQLSLOPagesFromOTelMetrics(t *testing.T) {
	hook := newWebhook(t)
	d := startDaemonWith(t, &daemonConfig{specs: promqlSpecs, webhook: hook.URL, metricsIn: true})
	mp := meterProvider(t, d.grpc)
	meter := mp.Meter("e2e")
	requests, err := meter.Int64Counter("http.server.requests", metric.WithUnit("{request}"))
	if err != nil {
		t.Fatal(err)
	}
	duration, err := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		// 2,000 requests a second: 20 every 10 ms.
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		route := attribute.String("http.route", "/checkout")
		cart := metric.WithAttributes(attribute.String("http.route", "/cart"), attribute.Int("http.response.status_code", 200))
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			code, secs := 200, 0.08
			if failing.Load() {
				code, secs = 503, 0.7
			}
			attrs := metric.WithAttributes(route, attribute.Int("http.response.status_code", code))
			for range 20 {
				requests.Add(ctx, 1, attrs)
				duration.Record(ctx, secs, metric.WithAttributes(route))
			}
			requests.Add(ctx, 10, cart) // /cart stays healthy
		}
	}()
	defer func() { stop(); wg.Wait() }()

	// Healthy: the points are counted, nothing pages.
	if hook.waitFor(time.Now().Add(3*time.Second), func(as []alertEvent) bool { return len(as) > 0 }) {
		t.Fatalf("alert while healthy: %+v", hook.alerts())
	}
	page := scrape(t, d.metrics)
	for _, want := range []string{`burnwatch_metric_points_total{outcome="counted"}`, `burnwatch_slo_window_events{slo="checkout-errors",window="2h",outcome="good"}`,
		`burnwatch_slo_window_events{slo="by-route{http_route=\"/cart\"}",window="2h",outcome="good"}`} {
		if v := sampleValue(page, want); v <= 0 {
			t.Fatalf("%s = %v, want > 0:\n%s", want, v, grepLines(page, "burnwatch_metric", "burnwatch_slo_window_events"))
		}
	}
	if v := sampleValue(page, `burnwatch_slo_window_events{slo="checkout-errors",window="2h",outcome="bad"}`); v != 0 {
		t.Fatalf("bad events while healthy: %v", v)
	}

	// Outage of /checkout: every request fails and takes 700 ms. Its
	// SLOs page once the 10 s long window is more than 14.4% bad.
	outage := time.Now()
	failing.Store(true)
	const checkoutGroup, cartGroup = `by-route{http_route="/checkout"}`, `by-route{http_route="/cart"}`
	paged := func(as []alertEvent) bool {
		return count(as, "checkout-errors", "page-fast", "firing") > 0 && count(as, "checkout-latency", "page-fast", "firing") > 0 &&
			count(as, checkoutGroup, "page-fast", "firing") > 0
	}
	if !hook.waitFor(outage.Add(8*time.Second), paged) {
		t.Fatalf("no page from the three PromQL SLOs within 8 s of the outage; got %+v\n%s", hook.alerts(),
			grepLines(scrape(t, d.metrics), "burnwatch_metric", "burnwatch_slo_burn_rate", "burnwatch_slo_window_events"))
	}
	for _, a := range hook.alerts() {
		if a.slo == cartGroup || a.slo == "by-route" {
			t.Errorf("%s alerted: only the /checkout group fails: %v", a.slo, a.labels)
		}
		if a.slo == checkoutGroup && a.labels["http_route"] != "/checkout" {
			t.Errorf("the /checkout group's page is labelled %v", a.labels)
		}
		if a.slo != "checkout-errors" || a.tier != "page-fast" || a.status != "firing" {
			continue
		}
		if a.labels["flow"] != "metric:checkout-errors" || a.labels["team"] != "payments" || a.labels["severity"] != "page" {
			t.Errorf("page labels %v: want flow metric:checkout-errors, team payments, severity page", a.labels)
		}
		// The page's numbers are the metrics': the burn over the long
		// window crossed 14.4 on the counts it shows.
		var burn, good, total float64
		fmt.Sscan(a.annotations["burn_rate_long"], &burn)
		fmt.Sscan(a.annotations["events_good"], &good)
		fmt.Sscan(a.annotations["events_total"], &total)
		if burn < 14.4 || total < 4000 || (total-good)/total < 0.144 {
			t.Errorf("page-fast with burn %v, %v good of %v: %v", burn, good, total, a.annotations)
		}
	}
	if v := sampleValue(scrape(t, d.metrics), `burnwatch_metric_points_rejected_total{reason="between_bounds"}`); v != 0 {
		t.Errorf("points rejected: %v", v)
	}
}

// agreeSpecs measure the same requests three ways: by spans (exact), by an
// explicit-bucket histogram whose bounds include the threshold (exact) and
// by an exponential histogram (within half a bucket of the threshold).
const agreeSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: search}
spec:
  match:
    - {attribute: service.name, equals: shop}
    - {attribute: http.route, equals: /search}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-spans}
spec: {flow: search, objective: {type: latency, threshold: 250ms}, target: 90, period: 2h}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-explicit}
spec:
  indicator:
    latency:
      name: http.server.request.duration
      match: [{attribute: http.route, equals: /search}]
      threshold: 250ms
  target: 90
  period: 2h
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-exponential}
spec:
  indicator:
    latency:
      name: app.request.duration
      match: [{attribute: http.route, equals: /search}]
      threshold: 250ms
  target: 90
  period: 2h
`

func TestMetricAndSpanSLOsAgree(t *testing.T) {
	d := startDaemonWith(t, &daemonConfig{specs: agreeSpecs, webhook: newWebhook(t).URL, metricsIn: true})
	ctx := context.Background()
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(d.grpc), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))),
		sdktrace.WithBatcher(texp, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxQueueSize(8192)))
	defer func() { _ = tp.Shutdown(ctx) }()
	mp := meterProvider(t, d.grpc)
	meter := mp.Meter("e2e")
	explicit, err := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	if err != nil {
		t.Fatal(err)
	}
	expo, err := meter.Float64Histogram("app.request.duration", metric.WithUnit("s"))
	if err != nil {
		t.Fatal(err)
	}
	tracer := tp.Tracer("e2e")

	// Durations log-uniform over 20 ms to 400 ms: about 16% slower than
	// 250 ms, a burn of 1.6 against a 90% target. Each request is one
	// server span and one observation in each histogram, of the same
	// duration.
	const n = 6000
	threshold := 250 * time.Millisecond
	// At scale 5 a bucket spans a factor 2^(1/32); the threshold is read
	// at the nearest bucket boundary, so only observations within half a
	// bucket of it can be misread.
	half := math.Exp2(1.0 / 64)
	r := rand.New(rand.NewPCG(11, 12))
	var slow, near int
	route := attribute.String("http.route", "/search")
	for range n {
		dur := time.Duration(float64(20*time.Millisecond) * math.Pow(20, r.Float64()))
		if dur > threshold {
			slow++
		}
		if f := float64(dur) / float64(threshold); f > 1/half && f <= half {
			near++
		}
		end := time.Now()
		_, span := tracer.Start(ctx, "GET /search", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(end.Add(-dur)),
			trace.WithAttributes(route))
		span.End(trace.WithTimestamp(end))
		explicit.Record(ctx, dur.Seconds(), metric.WithAttributes(route))
		expo.Record(ctx, dur.Seconds(), metric.WithAttributes(route))
	}
	if err := tp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mp.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}

	// Every request counted by all three, after an evaluation.
	total := func(c map[string]uint64, slo string) uint64 { return c[slo+"/2h/good"] + c[slo+"/2h/bad"] }
	var c map[string]uint64
	deadline := time.Now().Add(10 * time.Second)
	for {
		c = windowCounts(t, d.metrics)
		if total(c, "search-spans") == n && total(c, "search-explicit") == n && total(c, "search-exponential") == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every request counted within 10 s: %v", c)
		}
		time.Sleep(100 * time.Millisecond) // polling the daemon's /metrics
	}
	spans, explicitBad, expoBad := c["search-spans/2h/bad"], c["search-explicit/2h/bad"], c["search-exponential/2h/bad"]
	t.Logf("%d requests, %d slower than %v (%d within half a bucket of it): bad by spans %d, explicit %d, exponential %d",
		n, slow, threshold, near, spans, explicitBad, expoBad)
	if spans != uint64(slow) {
		t.Fatalf("spans count %d bad, the truth is %d", spans, slow)
	}
	if explicitBad != spans {
		t.Fatalf("the explicit histogram counts %d bad, spans %d: a threshold on a bound reads exactly", explicitBad, spans)
	}
	if diff := math.Abs(float64(expoBad) - float64(spans)); diff > float64(near) {
		t.Fatalf("the exponential histogram counts %d bad, spans %d: off by %v, more than the %d observations within half a bucket",
			expoBad, spans, diff, near)
	}
	// Their burn rates, as the alerts see them, agree as closely.
	page := scrape(t, d.metrics)
	burn := func(slo string) float64 {
		return sampleValue(page, fmt.Sprintf(`burnwatch_slo_burn_rate{slo=%q,window="2h"}`, slo))
	}
	bs, be, bx := burn("search-spans"), burn("search-explicit"), burn("search-exponential")
	if bs < 1 || be != bs || math.Abs(bx-bs) > float64(near)/n/0.1 {
		t.Fatalf("burn rates: spans %v, explicit %v, exponential %v: want a burn above 1, the explicit one equal, the exponential within %v",
			bs, be, bx, float64(near)/n/0.1)
	}
}

// sampleValue is the value of the sample whose series is exactly series,
// or -1.
func sampleValue(page, series string) float64 {
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}

// grepLines keeps the lines of page that start with any prefix, for
// failure messages.
func grepLines(page string, prefixes ...string) string {
	var out []string
	for _, line := range strings.Split(page, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				out = append(out, line)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}
