package e2e

import (
	"context"
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

// defaultConfigSpecs: every span of the shop service, and the requests
// metric of each exporter's own service.
const defaultConfigSpecs = `
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
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: cart-grpc}
spec:
  indicator:
    metric:
      bad:   {name: cart.requests, match: [{attribute: service.name, equals: cart-grpc}, {attribute: outcome, equals: error}]}
      total: {name: cart.requests, match: [{attribute: service.name, equals: cart-grpc}]}
  target: 99
  period: 2h
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: cart-http}
spec:
  indicator:
    metric:
      bad:   {name: cart.requests, match: [{attribute: service.name, equals: cart-http}, {attribute: outcome, equals: error}]}
      total: {name: cart.requests, match: [{attribute: service.name, equals: cart-http}]}
  target: 99
  period: 2h
`

// TestDefaultConfigTakesTracesAndMetrics runs the binary on its embedded
// default config (no --config), placed by its environment knobs: an OTel
// SDK sends spans and metrics to its one OTLP endpoint, metrics over gRPC
// and over HTTP, and the span SLO and the metric SLOs count them.
func TestDefaultConfigTakesTracesAndMetrics(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(defaultConfigSpecs), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{grpc: freeAddr(t), http: freeAddr(t), metrics: freeAddr(t), stdout: &lineLog{}, stderr: &lineLog{}, exited: make(chan struct{})}
	_, telemetryPort, _ := net.SplitHostPort(freeAddr(t))
	d.cmd = exec.Command(binary)
	d.cmd.Dir = dir
	d.cmd.Env = append(os.Environ(), "BURNWATCH_SPECS="+specPath, "BURNWATCH_DATA_DIR="+filepath.Join(dir, "data"),
		"BURNWATCH_OTLP_GRPC_ENDPOINT="+d.grpc, "BURNWATCH_OTLP_HTTP_ENDPOINT="+d.http, "BURNWATCH_METRICS_ENDPOINT="+d.metrics,
		"BURNWATCH_HEALTH_ENDPOINT="+freeAddr(t), "BURNWATCH_TELEMETRY_PORT="+telemetryPort)
	stdout, _ := d.cmd.StdoutPipe()
	stderr, _ := d.cmd.StderrPipe()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go d.stdout.collect(stdout)
	go d.stderr.collect(stderr)
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("burnwatch stderr:\n%s", d.stderr)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range []string{d.grpc, d.http, d.metrics} {
		for {
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("burnwatch did not listen on %s:\n%s", addr, d.stderr)
			}
			time.Sleep(50 * time.Millisecond) // polling a real process
		}
	}

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
	deadline = time.Now().Add(10 * time.Second)
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
