package otlpfastreceiver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otelmetric "go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
)

// startBoth starts one receiver made for a traces and a metrics pipeline
// from one config, as the collector makes it, metrics going to next.
func startBoth(t *testing.T, next consumer.Metrics) *harness {
	t.Helper()
	var metricsRcv any
	h := start(t, setup{cfg: func(cfg *Config) {
		rcv, err := NewFactory().CreateMetrics(context.Background(), receiverSettings(), cfg, next)
		if err != nil {
			t.Fatal(err)
		}
		metricsRcv = rcv
	}})
	if metricsRcv != h.r {
		t.Fatal("the traces and the metrics pipeline got two receivers of one config: they would both listen on its ports")
	}
	return h
}

// TestMetricsSDK: the OTel Go SDK's metric exporters, over gRPC and HTTP,
// reach the metrics pipeline through the same ports as traces.
func TestMetricsSDK(t *testing.T) {
	for _, c := range []struct {
		name     string
		exporter func(h *harness) (sdkmetric.Exporter, error)
	}{
		{"grpc", func(h *harness) (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(h.grpcAddr()), otlpmetricgrpc.WithInsecure())
		}},
		{"http", func(h *harness) (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpoint(h.r.addrs[1].String()), otlpmetrichttp.WithInsecure())
		}},
		{"http gzip", func(h *harness) (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpoint(h.r.addrs[1].String()), otlpmetrichttp.WithInsecure(),
				otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := new(consumertest.MetricsSink)
			h := startBoth(t, sink)
			exp, err := c.exporter(h)
			if err != nil {
				t.Fatal(err)
			}
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)),
				sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", "shop"))))
			requests, err := mp.Meter("test").Int64Counter("http.server.requests")
			if err != nil {
				t.Fatal(err)
			}
			requests.Add(context.Background(), 7, otelmetric.WithAttributes(attribute.Int("http.response.status_code", 200)))
			requests.Add(context.Background(), 2, otelmetric.WithAttributes(attribute.Int("http.response.status_code", 503)))
			if err := mp.Shutdown(context.Background()); err != nil { // flushes
				t.Fatal(err)
			}
			got := map[int64]int64{}
			for _, md := range sink.AllMetrics() {
				rms := md.ResourceMetrics()
				for i := 0; i < rms.Len(); i++ {
					sms := rms.At(i).ScopeMetrics()
					for j := 0; j < sms.Len(); j++ {
						ms := sms.At(j).Metrics()
						for k := 0; k < ms.Len(); k++ {
							if ms.At(k).Name() != "http.server.requests" {
								continue
							}
							dps := ms.At(k).Sum().DataPoints()
							for l := 0; l < dps.Len(); l++ {
								code, _ := dps.At(l).Attributes().Get("http.response.status_code")
								got[code.Int()] += dps.At(l).IntValue()
							}
						}
					}
				}
			}
			if got[200] != 7 || got[503] != 2 {
				t.Fatalf("the metrics pipeline got %v, want 7 of 200 and 2 of 503", got)
			}
			if n := metric(t, h.app, `burnwatch_receiver_metric_requests_total{transport="`+strings.Fields(c.name)[0]+`",outcome="accepted"}`); n < 1 {
				t.Errorf("accepted metric requests = %v", n)
			}
		})
	}
}

// TestMetricsErrors: a metrics request that does not decode is 400 /
// InvalidArgument; what the pipeline asks to be sent again is 503 /
// Unavailable with Retry-After; what it refuses for good is 400.
func TestMetricsErrors(t *testing.T) {
	var fail error
	h := startBoth(t, consumerFunc(func(context.Context, pmetric.Metrics) error { return fail }))
	url := "http://" + h.r.addrs[1].String() + "/v1/metrics"
	req := pmetricotlp.NewExportRequestFromMetrics(gaugeMetrics())
	body, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)
	if resp, b := post(t, c, url, protobufType, []byte{0x0a, 0x05, 0x0a}); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("truncated request: %s %q, want 400", resp.Status, b)
	}
	fail = errors.New("storage is not durable")
	if resp, _ := post(t, c, url, protobufType, body); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a retryable refusal: %s, Retry-After %q; want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
	}
	fail = consumererror.NewPermanent(errors.New("malformed aggregates"))
	if resp, _ := post(t, c, url, protobufType, body); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a permanent refusal: %s, want 400", resp.Status)
	}
	fail = nil
	if resp, b := post(t, c, url, jsonType, []byte(`{"resourceMetrics":[]}`)); resp.StatusCode != http.StatusOK || string(b) != "{}" {
		t.Errorf("an empty JSON request: %s %q, want 200 {}", resp.Status, b)
	}

	conn, err := grpc.NewClient(h.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fail = errors.New("storage is not durable")
	_, err = pmetricotlp.NewGRPCClient(conn).Export(context.Background(), req)
	if status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC, a retryable refusal: %v, want Unavailable", err)
	}
}

// TestMetricsOnlyInAMetricsPipeline: a receiver in a traces pipeline alone
// serves no metrics, as before.
func TestMetricsOnlyInAMetricsPipeline(t *testing.T) {
	h := start(t, setup{})
	resp, _ := post(t, client(t), "http://"+h.r.addrs[1].String()+"/v1/metrics", protobufType, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /v1/metrics: %s, want 404", resp.Status)
	}
	conn, err := grpc.NewClient(h.grpcAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = pmetricotlp.NewGRPCClient(conn).Export(context.Background(), pmetricotlp.NewExportRequestFromMetrics(gaugeMetrics()))
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("gRPC metrics export: %v, want Unimplemented", err)
	}
}

func gaugeMetrics() pmetric.Metrics {
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("queue.depth")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(3)
	return md
}

type consumerFunc func(context.Context, pmetric.Metrics) error

func (f consumerFunc) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	return f(ctx, md)
}
func (consumerFunc) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

// TestTracesOnlyInATracesPipeline: a receiver in a metrics pipeline alone
// serves no traces, as the otlp receiver.
func TestTracesOnlyInATracesPipeline(t *testing.T) {
	host, _ := burnwatchextensiontest.Start(t, nil, specs)
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = "127.0.0.1:0"
	rcv, err := NewFactory().CreateMetrics(context.Background(), receiverSettings(), cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rcv.Shutdown(context.Background()) })
	r := rcv.(*fastReceiver)
	resp, _ := post(t, client(t), "http://"+r.addrs[1].String()+"/v1/traces", protobufType, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /v1/traces: %s, want 404", resp.Status)
	}
	resp, _ = post(t, client(t), "http://"+r.addrs[1].String()+"/v1/metrics", jsonType, []byte("{}"))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /v1/metrics: %s, want 200", resp.Status)
	}
}
