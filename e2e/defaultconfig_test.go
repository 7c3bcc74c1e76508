package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/burnwatch/burnwatch/app"
)

// defaultConfigSpecs: every span of the shop service, and for each of
// services (cart-grpc, cart-http) an SLO on its own requests metric.
func defaultConfigSpecs(services ...string) string {
	out := `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: shop}
spec:
  match: [{attribute: service.name, equals: shop}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: shop-availability}
spec: {flow: shop, target: 99, period: 2h}
`
	for _, svc := range services {
		out += fmt.Sprintf(`---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: %[1]s}
spec:
  indicator:
    metric:
      bad:   {name: cart.requests, match: [{attribute: service.name, equals: %[1]s}, {attribute: outcome, equals: error}]}
      total: {name: cart.requests, match: [{attribute: service.name, equals: %[1]s}]}
  target: 99
  period: 2h
`, svc)
	}
	return out
}

// TestDefaultConfigTakesTracesAndMetrics runs the binary on its embedded
// default config (no --config), placed by its environment knobs: an OTel
// SDK sends spans and metrics to its one OTLP endpoint, metrics over gRPC
// and over HTTP, and the span SLO and the metric SLOs count them.
func TestDefaultConfigTakesTracesAndMetrics(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(defaultConfigSpecs("cart-grpc", "cart-http")), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{grpc: freeAddr(t), http: freeAddr(t), metrics: freeAddr(t)}
	_, telemetryPort, _ := net.SplitHostPort(freeAddr(t))
	d.cmd = exec.Command(binary)
	d.cmd.Dir = dir
	d.cmd.Env = append(os.Environ(), "BURNWATCH_SPECS="+specPath, "BURNWATCH_DATA_DIR="+filepath.Join(dir, "data"),
		"BURNWATCH_OTLP_GRPC_ENDPOINT="+d.grpc, "BURNWATCH_OTLP_HTTP_ENDPOINT="+d.http, "BURNWATCH_METRICS_ENDPOINT="+d.metrics,
		"BURNWATCH_HEALTH_ENDPOINT="+freeAddr(t), "BURNWATCH_TELEMETRY_PORT="+telemetryPort)
	d.run(t)
	d.waitListening(t, d.grpc, d.http, d.metrics)

	traffic := makeTraffic(9, 3, 300)
	newExporter(t, d.grpc).send(t, traffic.spans)
	grpcExp, err := otlpmetricgrpc.New(context.Background(), otlpmetricgrpc.WithEndpoint(d.grpc), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlpmetrichttp.New(context.Background(), otlpmetrichttp.WithEndpoint(d.http), otlpmetrichttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	for i, exp := range []sdkmetric.Exporter{grpcExp, httpExp} {
		service := []string{"cart-grpc", "cart-http"}[i]
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))),
			sdkmetric.WithResource(resource.NewSchemaless(attribute.String("service.name", service))))
		requests, err := mp.Meter("e2e").Int64Counter("cart.requests")
		if err != nil {
			t.Fatal(err)
		}
		requests.Add(context.Background(), 40, metric.WithAttributes(attribute.String("outcome", "ok")))
		requests.Add(context.Background(), int64(3+i), metric.WithAttributes(attribute.String("outcome", "error")))
		if err := mp.Shutdown(context.Background()); err != nil { // exports
			t.Fatalf("%s: %v", service, err)
		}
	}

	var errs uint64
	for _, n := range traffic.errors {
		errs += n
	}
	want := map[string][2]float64{
		"shop-availability": {float64(uint64(len(traffic.spans)) - errs), float64(errs)},
		"cart-grpc":         {40, 3},
		"cart-http":         {40, 4},
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list app.SLOList
		getJSON(t, d.metrics, "/api/v1/slos", &list)
		got := map[string][2]float64{}
		for _, s := range list.SLOs {
			got[s.Name] = [2]float64{float64(s.Good), float64(s.Bad)}
		}
		if reflect.DeepEqual(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the SLOs count %v (good, bad), sent %v", got, want)
		}
		time.Sleep(50 * time.Millisecond) // polling a real process
	}
}
