package deploy

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHelmScaleOutRuns runs what the chart renders for scale-out, as it
// is but on loopback ports and temporary directories: two gateways of
// ci/gateway-sharded-values.yaml and an agent of
// ci/agent-aggregate-values.yaml pointed at them. Spans posted to the agent
// are counted per flow, errors included, by exactly one of the gateways.
func TestHelmScaleOutRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three daemons")
	}
	helm := tool(t, "helm", installHelm)
	render := func(values string) string {
		out := command(t, nil, nil, helm, "template", "burnwatch", path("deploy/helm/burnwatch"), "--namespace", "burnwatch",
			"-f", path("deploy/helm/burnwatch/ci/"+values))
		for _, o := range decodeObjects(t, "helm template", []byte(out)) {
			if cfg, ok := get(o, "data", "config.yaml").(string); ok && o.kind() == "ConfigMap" {
				return cfg
			}
		}
		t.Fatalf("%s: no collector config rendered", values)
		return ""
	}
	gatewayCfg, agentCfg := render("gateway-sharded-values.yaml"), render("agent-aggregate-values.yaml")
	dir := t.TempDir()
	var gateways []*process
	otlpHTTP := "127.0.0.1:" + freePort(t)
	agentReplace := map[string]string{
		"0.0.0.0:4317": "127.0.0.1:" + freePort(t),
		"0.0.0.0:4318": otlpHTTP,
		"0.0.0.0:9464": "127.0.0.1:" + freePort(t),
		"port: 8888":   "port: " + freePort(t),
		"interval: 5s": "interval: 1s",
	}
	for i := range 2 {
		grpc := freePort(t)
		gateways = append(gateways, startFromManifest(t, gatewayCfg, map[string]string{
			"/var/lib/burnwatch": filepath.Join(dir, fmt.Sprintf("gateway-%d", i)),
			"0.0.0.0:4317":       "127.0.0.1:" + grpc,
			"0.0.0.0:4318":       "127.0.0.1:" + freePort(t),
			"0.0.0.0:9464":       "127.0.0.1:" + freePort(t),
			"port: 8888":         "port: " + freePort(t),
		}))
		agentReplace[fmt.Sprintf("burnwatch-gateway-%d.burnwatch-gateway-headless.burnwatch.svc.cluster.local:4317", i)] = "127.0.0.1:" + grpc
	}
	agent := startFromManifest(t, agentCfg, agentReplace)
	for _, d := range append([]*process{agent}, gateways...) {
		d.waitFor(t, "/-/ready", func(status int, _ string) bool { return status == http.StatusOK })
	}

	now := time.Now()
	var spans []string
	want := map[string][2]float64{} // events, errors
	for n := range 40 {
		flow, route := "checkout", "/checkout/pay"
		if n%2 == 1 {
			flow, route = "search", "/search"
		}
		failed := n%5 == 0
		spans = append(spans, span(n, now, "shop", route, "", failed))
		w := want[flow]
		w[0]++
		if failed {
			w[1]++
		}
		want[flow] = w
	}
	if status, b := postJSON(t, "http://"+otlpHTTP+"/v1/traces", `{"resourceSpans":[`+strings.Join(spans, ",")+`]}`); status != http.StatusOK {
		t.Fatalf("POST /v1/traces to the agent: %d %s", status, b)
	}

	counted := func() map[string][2]float64 {
		got := map[string][2]float64{}
		for _, g := range gateways {
			page := g.get(t, "/metrics")
			for flow := range want {
				if n := sample(page, fmt.Sprintf(`burnwatch_flow_events_total{flow=%q}`, flow)); n > 0 {
					w := got[flow]
					w[0] += n
					w[1] += max(sample(page, fmt.Sprintf(`burnwatch_flow_errors_total{flow=%q}`, flow)), 0)
					got[flow] = w
				}
			}
		}
		return got
	}
	gateways[0].waitFor(t, "/-/ready", func(int, string) bool {
		got := counted()
		return got["checkout"] == want["checkout"] && got["search"] == want["search"]
	})
	for flow := range want {
		on := 0
		for _, g := range gateways {
			if sample(g.get(t, "/metrics"), fmt.Sprintf(`burnwatch_flow_events_total{flow=%q}`, flow)) > 0 {
				on++
			}
		}
		if on != 1 {
			t.Errorf("flow %s is counted on %d gateways, want exactly one", flow, on)
		}
	}
	if n := sample(agent.get(t, "/metrics"), "burnwatch_agent_events_total"); n != 40 {
		t.Errorf("the agent aggregated %v events, want 40", n)
	}
}
