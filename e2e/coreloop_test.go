package e2e

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// A 2 h period scales the Workbook windows by 1/360: page-fast is 10 s long
// and 833 ms short, so an outage pages within seconds.
const coreSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout, labels: {team: payments}}
spec:
  tier: critical
  match:
    - {attribute: service.name, equals: shop}
    - {attribute: http.route, equals: /checkout}
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: search}
spec:
  tier: high
  match:
    - {attribute: service.name, equals: shop}
    - {attribute: http.route, regex: "/search.*"}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability, labels: {team: payments}}
spec:
  flow: checkout
  target: 99
  period: 2h
  runbook: https://runbooks.example/checkout
  alerting: {min_events: 10}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-availability}
spec:
  flow: search
  target: 99
  period: 2h
  alerting: {min_events: 10}
`

// sender emits server spans for one route at a steady rate through a real
// OTel SDK pipeline; failing makes every span an HTTP 500 with status Error.
type sender struct {
	tp      *sdktrace.TracerProvider
	route   string
	failing atomic.Bool
	sent    atomic.Int64
}

func newSender(t *testing.T, exp sdktrace.SpanExporter, route string) *sender {
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res),
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(100*time.Millisecond), sdktrace.WithMaxExportBatchSize(512)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &sender{tp: tp, route: route}
}

// run sends about rate spans per second until ctx ends.
func (s *sender) run(ctx context.Context, rate int) {
	tracer := s.tp.Tracer("e2e")
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	perTick := rate / 100
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for i := 0; i < perTick; i++ {
			_, span := tracer.Start(context.Background(), "POST "+s.route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("http.route", s.route), attribute.String("http.request.method", "POST")))
			code := 200
			if s.failing.Load() {
				code = 500
				span.SetStatus(codes.Error, "upstream failed")
			}
			span.SetAttributes(attribute.Int("http.response.status_code", code))
			span.End()
			s.sent.Add(1)
		}
	}
}

func TestOutagePagesOnceAndResolves(t *testing.T) {
	hook := newWebhook(t)
	d := startDaemon(t, coreSpecs, hook.URL)
	ctx := context.Background()

	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(d.grpc), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(d.http), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	checkout := newSender(t, grpcExp, "/checkout")   // over gRPC
	search := newSender(t, httpExp, "/search/items") // over HTTP

	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, s := range []*sender{checkout, search} {
		wg.Add(1)
		go func() { defer wg.Done(); s.run(loadCtx, 200) }()
	}
	defer func() { stop(); wg.Wait() }()

	// Healthy: nothing may page.
	if hook.waitFor(time.Now().Add(4*time.Second), func(as []alertEvent) bool { return len(as) > 0 }) {
		t.Fatalf("alert during the healthy period: %+v", hook.alerts())
	}

	// Outage on checkout. The burn condition holds once the 10 s long window
	// is more than 14.4% errors: about 1.7 s in at a steady rate.
	outage := time.Now()
	checkout.failing.Store(true)
	firing := func(as []alertEvent) bool { return count(as, "checkout-availability", "page-fast", "firing") > 0 }
	if !hook.waitFor(outage.Add(5*time.Second), firing) {
		t.Fatalf("no page-fast page within 5 s of the outage; got %+v", hook.alerts())
	}
	var page alertEvent
	for _, a := range hook.alerts() {
		if a.slo == "checkout-availability" && a.tier == "page-fast" && a.status == "firing" {
			page = a
			break
		}
	}
	t.Logf("outage to page: %v", page.at.Sub(outage).Round(time.Millisecond))
	for _, key := range []string{"runbook_url", "burn_rate_long", "burn_rate_short", "budget_left", "time_to_exhaustion"} {
		if page.annotations[key] == "" {
			t.Errorf("page lacks annotation %q: %v", key, page.annotations)
		}
	}
	if page.labels["severity"] != "page" {
		t.Errorf("page severity label = %q, want page", page.labels["severity"])
	}

	// Stay down a while: the alert keeps firing without a second notification.
	time.Sleep(4 * time.Second) // real load on a real process: the outage must last
	recovered := time.Now()
	checkout.failing.Store(false)
	resolved := func(as []alertEvent) bool { return count(as, "checkout-availability", "page-fast", "resolved") > 0 }
	if !hook.waitFor(recovered.Add(8*time.Second), resolved) {
		t.Fatalf("page-fast did not resolve within 8 s of recovery; got %+v", hook.alerts())
	}

	as := hook.alerts()
	if n := count(as, "checkout-availability", "page-fast", "firing"); n != 1 {
		t.Errorf("page-fast firing notifications = %d, want exactly 1", n)
	}
	if n := count(as, "search-availability", "", ""); n != 0 {
		t.Errorf("healthy flow got %d alert notifications: %+v", n, as)
	}
	for _, a := range as {
		if a.slo == "checkout-availability" && a.tier == "page-fast" && a.status == "resolved" && a.at.Before(recovered) {
			t.Errorf("resolved at %v, before recovery at %v", a.at, recovered)
		}
	}

	// Self-metrics saw both transports' spans, classified by flow.
	m := scrape(t, d.metrics)
	for _, want := range []string{`burnwatch_flow_events_total{flow="checkout"}`, `burnwatch_flow_events_total{flow="search"}`, "burnwatch_spans_received_total", "burnwatch_alerts_firing", "burnwatch_evaluation_duration_seconds"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The console got the page too.
	if !strings.Contains(d.stdout.String(), "checkout-availability") {
		t.Errorf("console output lacks the alert:\n%s", d.stdout)
	}
}
