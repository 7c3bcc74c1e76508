package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
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

	"github.com/burnwatch/burnwatch/app"
)

// Scale-out on the real binary: agents (mode: agent) pre-aggregate spans
// and export OTLP metrics; gateways merge them. The configs below are the
// ones docs/deploy.md shows.

// scaleSpecs are n flows flow-00.. on http.route /flow-00..; the first
// has an availability and a latency SLO, the second a latency SLO, with
// the default 30 d tiers (so the agents' slots are 5 s wide).
func scaleSpecs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: flow-%02d}\nspec:\n  match: [{attribute: http.route, equals: /flow-%02d}]\n---\n", i, i)
	}
	b.WriteString(`apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: flow-00-availability}
spec: {flow: flow-00, target: 99}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: flow-00-latency}
spec: {flow: flow-00, objective: {type: latency, threshold: 120ms}, target: 95}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: flow-01-latency}
spec: {flow: flow-01, objective: {type: latency, threshold: 40ms}, target: 99}
`)
	return b.String()
}

// agentConfig is an agent: spans in, aggregates out every second through
// exporter (YAML under exporters, named out), which the metrics pipeline
// uses.
const agentConfig = `
extensions:
  burnwatch:
    files: [%[1]q]
    mode: agent
    agent: {interval: 1s}
    http: {endpoint: %[2]q}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %[3]q}
processors:
  flow: {}
connectors:
  slo: {}
exporters:
%[4]s
service:
  extensions: [burnwatch]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [flow], exporters: [slo]}
    metrics: {receivers: [slo], exporters: [%[5]s]}
`

// agentFastConfig is agentConfig with the fast receiver, which classifies
// spans itself and hands the events to the same aggregation; the slo
// connector, fed no spans, exports the aggregates.
const agentFastConfig = `
extensions:
  burnwatch:
    files: [%[1]q]
    mode: agent
    agent: {interval: 1s}
    http: {endpoint: %[2]q}
receivers:
  otlpfast:
    protocols:
      grpc: {endpoint: %[3]q}
connectors:
  slo: {}
exporters:
%[4]s
service:
  extensions: [burnwatch]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlpfast], exporters: [slo]}
    metrics: {receivers: [slo], exporters: [%[5]s]}
`

// gatewayConfig is a gateway: agents' metrics in over OTLP gRPC, merged by
// the slo connector, with storage so merges survive a kill -9.
const gatewayConfig = `
extensions:
  burnwatch:
    files: [%[1]q]
    evaluation_interval: 250ms
    storage: {directory: %[4]q}
    http: {endpoint: %[2]q}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %[3]q}
connectors:
  slo: {}
exporters:
  nop: {}
service:
  extensions: [burnwatch]
  telemetry: {metrics: {level: none}}
  pipelines:
    metrics/agents: {receivers: [otlp], exporters: [slo]}
    metrics/sli: {receivers: [slo], exporters: [nop]}
`

// standaloneConfig is one daemon fed every raw span.
const standaloneConfig = `
extensions:
  burnwatch:
    files: [%[1]q]
    evaluation_interval: 250ms
    http: {endpoint: %[2]q}
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %[3]q}
processors:
  flow: {}
connectors:
  slo: {}
exporters:
  nop: {}
service:
  extensions: [burnwatch]
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [flow], exporters: [slo]}
    metrics: {receivers: [slo], exporters: [nop]}
`

// startProcess runs the binary with a collector config made by format(spec
// path, http address, grpc address, args...), and waits until both
// addresses listen. Addresses passed in keep a restarted process's ports.
func startProcess(t *testing.T, specPath, httpAddr, grpcAddr, format string, args ...any) *daemon {
	t.Helper()
	if httpAddr == "" {
		httpAddr = freeAddr(t)
	}
	if grpcAddr == "" {
		grpcAddr = freeAddr(t)
	}
	cfg := fmt.Sprintf(format, append([]any{specPath, httpAddr, grpcAddr}, args...)...)
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{grpc: grpcAddr, metrics: httpAddr, specPath: specPath}
	d.cmd = exec.Command(binary, "--config", cfgPath)
	d.run(t)
	d.waitListening(t, grpcAddr, httpAddr)
	return d
}

// scaleTraffic is spans over flows, with errors and a spread of
// latencies, ending within the last few seconds.
type scaleTraffic struct {
	spans  []sdktrace.ReadOnlySpan
	events map[string]uint64
	errors map[string]uint64
}

func makeTraffic(seed uint64, flows, n int) scaleTraffic {
	rng := rand.New(rand.NewPCG(seed, 11))
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))
	tr := scaleTraffic{events: map[string]uint64{}, errors: map[string]uint64{}}
	now := time.Now()
	for i := range n {
		flow := rng.IntN(flows)
		route := fmt.Sprintf("/flow-%02d", flow)
		dur := max(time.Duration(float64(30*time.Millisecond)*math.Exp(0.9*rng.NormFloat64())), time.Microsecond)
		end := now.Add(-time.Duration(rng.Int64N(int64(3 * time.Second))))
		var tid trace.TraceID
		tid[0], tid[1], tid[2], tid[3] = byte(seed), byte(i>>16), byte(i>>8), byte(i)
		stub := tracetest.SpanStub{
			Name:                 "GET " + route,
			SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{byte(i >> 8), byte(i), 1}}),
			SpanKind:             trace.SpanKindServer,
			StartTime:            end.Add(-dur),
			EndTime:              end,
			Attributes:           []attribute.KeyValue{attribute.String("http.route", route)},
			Resource:             res,
			InstrumentationScope: instrumentation.Scope{Name: "scaleout"},
		}
		name := route[1:]
		tr.events[name]++
		if rng.IntN(25) == 0 {
			stub.Status = sdktrace.Status{Code: codes.Error}
			tr.errors[name]++
		}
		tr.spans = append(tr.spans, stub.Snapshot())
	}
	return tr
}

func getJSON(t *testing.T, addr, path string, v any) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// flowTotals are a daemon's events since start per flow, from the API.
func flowTotals(t *testing.T, addr string) map[string]app.FlowView {
	var list app.FlowList
	getJSON(t, addr, "/api/v1/flows", &list)
	out := map[string]app.FlowView{}
	for _, f := range list.Flows {
		out[f.Flow] = f
	}
	return out
}

func sumEvents(fs map[string]app.FlowView) (n uint64) {
	for _, f := range fs {
		n += f.EventsTotal
	}
	return n
}

// waitEvents waits until the daemons' flows hold want events in all.
func waitEvents(t *testing.T, want uint64, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got uint64
		for _, a := range addrs {
			got += sumEvents(flowTotals(t, a))
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemons %v hold %d events, want %d", addrs, got, want)
		}
		time.Sleep(100 * time.Millisecond) // polling real processes
	}
}

// within says a and b differ by at most rel of b.
func within(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b) }

// TestAgentsToGatewayEqualOneDaemon: two agents (one on the otlp receiver
// and flow processor, one on the fast receiver) with disjoint halves of
// the traffic and one gateway give exactly the counts of one daemon fed
// every span, and its percentiles within the histogram's error; a kill -9
// of the gateway loses nothing it merged.
func TestAgentsToGatewayEqualOneDaemon(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(scaleSpecs(4)), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "gateway-data")
	gw := startProcess(t, specPath, "", "", gatewayConfig, data)
	single := startProcess(t, specPath, "", "", standaloneConfig)
	toGateway := fmt.Sprintf("  otlp_grpc/gateway:\n    endpoint: %q\n    tls: {insecure: true}\n", gw.grpc)
	agents := []*daemon{
		startProcess(t, specPath, "", "", agentConfig, toGateway, "otlp_grpc/gateway"),
		startProcess(t, specPath, "", "", agentFastConfig, toGateway, "otlp_grpc/gateway"),
	}
	tr := makeTraffic(1, 4, 6000)
	half := len(tr.spans) / 2
	newExporter(t, single.grpc).send(t, tr.spans)
	newExporter(t, agents[0].grpc).send(t, tr.spans[:half])
	newExporter(t, agents[1].grpc).send(t, tr.spans[half:])
	waitEvents(t, uint64(len(tr.spans)), single.metrics)
	waitEvents(t, uint64(len(tr.spans)), gw.metrics)
	time.Sleep(600 * time.Millisecond) // two evaluations of the real daemons

	compareDaemons(t, gw.metrics, single.metrics, tr)
	for _, a := range agents {
		if n := sumEvents(flowTotals(t, a.metrics)); n != 0 {
			t.Errorf("an agent's own engine counted %d events: agents only aggregate", n)
		}
	}

	// kill -9: what the gateway acknowledged is in its WAL.
	gw.kill()
	gw = startProcess(t, specPath, gw.metrics, gw.grpc, gatewayConfig, data)
	waitEvents(t, uint64(len(tr.spans)), gw.metrics)
	time.Sleep(600 * time.Millisecond)
	compareDaemons(t, gw.metrics, single.metrics, tr)
}

// compareDaemons checks a gateway's flows and SLOs against a single
// daemon's: counts exactly, percentiles within 1.1%.
func compareDaemons(t *testing.T, gwAddr, singleAddr string, tr scaleTraffic) {
	t.Helper()
	gf, sf := flowTotals(t, gwAddr), flowTotals(t, singleAddr)
	for name, want := range tr.events {
		g, s := gf[name], sf[name]
		if s.EventsTotal != want || s.ErrorsTotal != tr.errors[name] {
			t.Errorf("single daemon %s: %d events %d errors, sent %d and %d", name, s.EventsTotal, s.ErrorsTotal, want, tr.errors[name])
		}
		if g.EventsTotal != s.EventsTotal || g.ErrorsTotal != s.ErrorsTotal || g.Events != s.Events {
			t.Errorf("%s: gateway %d/%d events (window %d), single daemon %d/%d (window %d)", name,
				g.EventsTotal, g.ErrorsTotal, g.Events, s.EventsTotal, s.ErrorsTotal, s.Events)
		}
		for q, pair := range map[string][2]float64{"p50": {g.P50, s.P50}, "p95": {g.P95, s.P95}, "p99": {g.P99, s.P99}} {
			if pair[1] == 0 || !within(pair[0], pair[1], 0.011) {
				t.Errorf("%s %s: gateway %.6fs, single daemon %.6fs", name, q, pair[0], pair[1])
			}
		}
	}
	var gs, ss app.SLOList
	getJSON(t, gwAddr, "/api/v1/slos", &gs)
	getJSON(t, singleAddr, "/api/v1/slos", &ss)
	if len(gs.SLOs) != 3 || len(ss.SLOs) != 3 {
		t.Fatalf("%d and %d SLOs, want 3", len(gs.SLOs), len(ss.SLOs))
	}
	bad := uint64(0)
	for i, s := range ss.SLOs {
		g := gs.SLOs[i]
		if g.Good != s.Good || g.Bad != s.Bad || g.Total != s.Total {
			t.Errorf("%s: gateway %d good %d bad, single daemon %d good %d bad", s.Name, g.Good, g.Bad, s.Good, s.Bad)
		}
		bad += s.Bad
		for j, w := range s.Windows {
			if gw := g.Windows[j]; gw.Good != w.Good || gw.Bad != w.Bad {
				t.Errorf("%s window %s: gateway %d/%d good/bad, single daemon %d/%d", s.Name, w.Window, gw.Good, gw.Bad, w.Good, w.Bad)
			}
		}
		for j, l := range s.Latency {
			gl := g.Latency[j]
			if gl.Count != l.Count || !within(gl.P99, l.P99, 0.011) || !within(gl.P50, l.P50, 0.011) {
				t.Errorf("%s latency %s: gateway %+v, single daemon %+v", s.Name, l.Window, gl, l)
			}
		}
	}
	if bad == 0 {
		t.Fatal("no bad events: the test should judge some slow or failed requests")
	}
}

// TestLoadBalancedGatewaysShardFlows: an agent's load-balancing exporter
// routes each flow by burnwatch.flow to one of two gateways: each flow is
// on exactly one, and every flow is accounted for with exact counts.
func TestLoadBalancedGatewaysShardFlows(t *testing.T) {
	const nflows = 16
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(scaleSpecs(nflows)), 0o644); err != nil {
		t.Fatal(err)
	}
	gws := []*daemon{
		startProcess(t, specPath, "", "", gatewayConfig, filepath.Join(dir, "g1")),
		startProcess(t, specPath, "", "", gatewayConfig, filepath.Join(dir, "g2")),
	}
	lb := fmt.Sprintf(`  loadbalancing:
    routing_key: attributes
    routing_attributes: [burnwatch.flow]
    protocol:
      otlp:
        tls: {insecure: true}
    resolver:
      static:
        hostnames: [%q, %q]
`, gws[0].grpc, gws[1].grpc)
	agents := []*daemon{
		startProcess(t, specPath, "", "", agentConfig, lb, "loadbalancing"),
		startProcess(t, specPath, "", "", agentConfig, lb, "loadbalancing"),
	}
	tr := makeTraffic(2, nflows, 8000)
	half := len(tr.spans) / 2
	newExporter(t, agents[0].grpc).send(t, tr.spans[:half])
	newExporter(t, agents[1].grpc).send(t, tr.spans[half:])
	waitEvents(t, uint64(len(tr.spans)), gws[0].metrics, gws[1].metrics)

	per := []map[string]app.FlowView{flowTotals(t, gws[0].metrics), flowTotals(t, gws[1].metrics)}
	used := [2]int{}
	for name, want := range tr.events {
		on := -1
		for i, fs := range per {
			if fs[name].EventsTotal == 0 {
				continue
			}
			if on >= 0 {
				t.Errorf("%s is on both gateways: %d and %d events", name, per[0][name].EventsTotal, per[1][name].EventsTotal)
			}
			on = i
		}
		if on < 0 {
			t.Errorf("%s is on no gateway", name)
			continue
		}
		used[on]++
		if got := per[on][name]; got.EventsTotal != want || got.ErrorsTotal != tr.errors[name] {
			t.Errorf("%s on gateway %d: %d events %d errors, sent %d and %d", name, on, got.EventsTotal, got.ErrorsTotal, want, tr.errors[name])
		}
	}
	if len(tr.events) != nflows || used[0] == 0 || used[1] == 0 {
		t.Errorf("%d flows sent, %v on each gateway: want all %d, split over both", len(tr.events), used, nflows)
	}
	t.Logf("flows per gateway: %v", used)
}

// TestAgentResendsAcrossGatewayCrash: a gateway killed with -9 while an
// agent keeps exporting; the agent's exporter retries until the gateway is
// back, and the gateway ends with every event exactly once: the first
// batch from its WAL, the second from the retries.
func TestAgentResendsAcrossGatewayCrash(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(scaleSpecs(4)), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "gateway-data")
	gw := startProcess(t, specPath, "", "", gatewayConfig, data)
	toGateway := fmt.Sprintf("  otlp_grpc/gateway:\n    endpoint: %q\n    tls: {insecure: true}\n"+
		"    retry_on_failure: {initial_interval: 100ms, max_interval: 500ms}\n", gw.grpc)
	agent := startProcess(t, specPath, "", "", agentConfig, toGateway, "otlp_grpc/gateway")
	send := newExporter(t, agent.grpc)

	first := makeTraffic(3, 4, 2000)
	send.send(t, first.spans)
	waitEvents(t, uint64(len(first.spans)), gw.metrics)
	gw.kill()
	second := makeTraffic(4, 4, 3000)
	send.send(t, second.spans)
	time.Sleep(2500 * time.Millisecond) // two agent intervals of exports refused: polling real processes
	gw = startProcess(t, specPath, gw.metrics, gw.grpc, gatewayConfig, data)
	want := uint64(len(first.spans) + len(second.spans))
	waitEvents(t, want, gw.metrics)
	time.Sleep(1500 * time.Millisecond) // a later export would show a double count
	got := flowTotals(t, gw.metrics)
	for name, n := range first.events {
		if got[name].EventsTotal != n+second.events[name] || got[name].ErrorsTotal != first.errors[name]+second.errors[name] {
			t.Errorf("%s: %d events %d errors, sent %d and %d", name, got[name].EventsTotal, got[name].ErrorsTotal,
				n+second.events[name], first.errors[name]+second.errors[name])
		}
	}
	if n := sumEvents(got); n != want {
		t.Errorf("gateway holds %d events, sent %d", n, want)
	}
}
