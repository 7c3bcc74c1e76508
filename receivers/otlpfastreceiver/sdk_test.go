package otlpfastreceiver

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// TestSDK: the OTel Go SDK's exporters, over gRPC and HTTP, compressed
// and not, end to end into the App's engine.
func TestSDK(t *testing.T) {
	for _, c := range []struct {
		name     string
		exporter func(h *harness) (sdktrace.SpanExporter, error)
	}{
		{"grpc", func(h *harness) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(h.grpcAddr()), otlptracegrpc.WithInsecure())
		}},
		{"grpc gzip", func(h *harness) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(h.grpcAddr()), otlptracegrpc.WithInsecure(),
				otlptracegrpc.WithCompressor("gzip"))
		}},
		{"http", func(h *harness) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(h.r.addrs[1].String()), otlptracehttp.WithInsecure())
		}},
		{"http gzip", func(h *harness) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(h.r.addrs[1].String()), otlptracehttp.WithInsecure(),
				otlptracehttp.WithCompression(otlptracehttp.GzipCompression))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := start(t, setup{})
			exp, err := c.exporter(h)
			if err != nil {
				t.Fatal(err)
			}
			shop := provider(t, exp, "shop")
			auth := provider(t, exp, "auth")
			const checkouts, failed, logins = 40, 7, 9
			for i := range checkouts {
				_, s := shop.Tracer("test").Start(context.Background(), "GET /checkout/{id}", trace.WithSpanKind(trace.SpanKindServer),
					trace.WithAttributes(attribute.String("http.route", "/checkout/{id}"), attribute.Int("http.response.status_code", 200)))
				// A child of each request: not an entry span, no flow.
				ctx := trace.ContextWithSpan(context.Background(), s)
				_, child := shop.Tracer("test").Start(ctx, "SELECT", trace.WithSpanKind(trace.SpanKindClient))
				child.End()
				if i < failed {
					s.SetStatus(otelcodes.Error, "boom")
				}
				s.End()
			}
			for i := range logins {
				_, s := auth.Tracer("test").Start(context.Background(), "Login", trace.WithSpanKind(trace.SpanKindServer),
					trace.WithAttributes(attribute.String("rpc.method", "Login"), attribute.Int("rpc.grpc.status_code", []int{0, 14}[i%2])))
				s.End()
			}
			for _, p := range []*sdktrace.TracerProvider{shop, auth} {
				if err := p.ForceFlush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			got := flowEvents(h.app)
			if got["checkout"] != [2]uint64{checkouts, failed} || got["login"] != [2]uint64{logins, logins / 2} {
				t.Errorf("engine = %v, want checkout %d (%d errors), login %d (%d errors)", got, checkouts, failed, logins, logins/2)
			}
			if n := metric(t, h.app, "burnwatch_spans_received_total"); n != 2*checkouts+logins {
				t.Errorf("spans received = %v, want %d", n, 2*checkouts+logins)
			}
		})
	}
}

func provider(t *testing.T, exp sdktrace.SpanExporter, service string) *sdktrace.TracerProvider {
	t.Helper()
	res := resource.NewSchemaless(attribute.String("service.name", service))
	p := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("shut down %s's tracer provider: %v", service, fmt.Sprint(err))
		}
	})
	return p
}
