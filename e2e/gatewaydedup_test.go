package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// captureServer is an OTLP metrics endpoint that keeps every export sent
// to it, as encoded, so that a test can send them on to a gateway as often
// as it likes.
type captureServer struct {
	pmetricotlp.UnimplementedGRPCServer
	mu   sync.Mutex
	reqs [][]byte
}

func (c *captureServer) Export(_ context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	body, err := req.MarshalProto()
	if err != nil {
		return pmetricotlp.NewExportResponse(), err
	}
	c.mu.Lock()
	c.reqs = append(c.reqs, body)
	c.mu.Unlock()
	return pmetricotlp.NewExportResponse(), nil
}

func (c *captureServer) captured() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.reqs...)
}

func startCapture(t *testing.T) (*captureServer, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	c := &captureServer{}
	pmetricotlp.RegisterGRPCServer(srv, c)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return c, lis.Addr().String()
}

// forward sends exports to a gateway over OTLP gRPC, one request each, as
// an agent's exporter would; each returns once the gateway merged it.
func forward(t *testing.T, addr string, exports [][]byte) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	client := pmetricotlp.NewGRPCClient(conn)
	for i, body := range exports {
		req := pmetricotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := client.Export(ctx, req)
		cancel()
		if err != nil {
			t.Fatalf("export %d of %d: %v", i+1, len(exports), err)
		}
	}
}

// TestGatewayDropsExportsSentAgainAfterKill9: a gateway merges an agent's
// exports, is killed with -9, and after the restart is sent every one of
// them again, as an agent does with exports whose responses a crash cut
// off. It keeps every event once: its memory of what it merged came back
// from its WAL and checkpoints with the counts.
func TestGatewayDropsExportsSentAgainAfterKill9(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(scaleSpecs(4)), 0o644); err != nil {
		t.Fatal(err)
	}
	capture, captureAddr := startCapture(t)
	toCapture := fmt.Sprintf("  otlp_grpc/capture:\n    endpoint: %q\n    tls: {insecure: true}\n", captureAddr)
	agent := startProcess(t, specPath, "", "", agentConfig, toCapture, "otlp_grpc/capture")
	traffic := makeTraffic(5, 4, 2000)
	newExporter(t, agent.grpc).send(t, traffic.spans)

	data := filepath.Join(dir, "gateway-data")
	gw := startProcess(t, specPath, "", "", gatewayConfig, data)
	want := uint64(len(traffic.spans))
	sent := 0
	deadline := time.Now().Add(30 * time.Second)
	for sumEvents(flowTotals(t, gw.metrics)) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway holds %d events after %d exports, want %d", sumEvents(flowTotals(t, gw.metrics)), sent, want)
		}
		exports := capture.captured()
		forward(t, gw.grpc, exports[sent:])
		sent = len(exports)
		time.Sleep(100 * time.Millisecond) // the agent exports every second: polling a real process
	}
	agent.kill()
	exports := capture.captured()[:sent]

	gw.kill()
	gw = startProcess(t, specPath, gw.metrics, gw.grpc, gatewayConfig, data)
	forward(t, gw.grpc, exports)
	got := flowTotals(t, gw.metrics)
	for name, n := range traffic.events {
		if got[name].EventsTotal != n || got[name].ErrorsTotal != traffic.errors[name] {
			t.Errorf("%s: %d events %d errors after the exports came again, sent %d and %d",
				name, got[name].EventsTotal, got[name].ErrorsTotal, n, traffic.errors[name])
		}
	}
	if merged := metricValue(t, gw.metrics, "burnwatch_aggregates_merged_total"); merged != 0 {
		t.Errorf("the restarted gateway merged %v aggregates it had merged before the kill", merged)
	}
	if dup := metricValue(t, gw.metrics, `burnwatch_aggregates_dropped_total{reason="duplicate"}`); dup < float64(len(exports)) {
		t.Errorf("%v aggregates dropped as duplicates, want at least one per export (%d)", dup, len(exports))
	}
}
