package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

const groupedSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: api}
spec:
  match: [{attribute: service.name, equals: shop}]
  group_by: http.route
  max_groups: 2
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api-availability}
spec:
  flow: api
  target: 99
  period: 2h
  alerting: {min_events: 10, tiers: [` + pageTier + `]}
`

// TestGroupedFlowPagesPerRoute: the real daemon with a flow grouped by
// http.route (at most two routes) and one SLO on it, spans through the OTel
// SDK. An outage of one route pages for that route's SLO, labelled with it;
// the third route counts in the flow itself; the status API serves a
// group's SLO by its name; a kill -9 loses no group and no count.
func TestGroupedFlowPagesPerRoute(t *testing.T) {
	hook := newSink(t)
	cfg := &daemonConfig{specs: groupedSpecs, dataDir: t.TempDir(),
		alerting: hookReceivers(map[string]*sink{"hook": hook}) + "      route: {receiver: hook, group_by: [slo]}\n"}
	d := startDaemonWith(t, cfg)
	exp := newExporter(t, d.grpc)
	exp.send(t, flowSpans("cart", 50, 0))
	exp.send(t, flowSpans("pay", 50, 0))
	exp.send(t, flowSpans("search", 30, 0))
	exp.send(t, outageSpans("pay"))

	const paySLO = `api-availability{http.route="/pay"}`
	if !hook.waitFor(time.Now().Add(10*time.Second), func([]request) bool { return hook.firingSLOs()[paySLO] }) {
		t.Fatalf("no page for %s; firing: %v", paySLO, hook.firingSLOs())
	}
	for _, p := range hook.payloads() {
		for _, a := range p.payload.Alerts {
			if a.Status != "firing" {
				continue
			}
			if a.Labels["slo"] != paySLO || a.Labels["http_route"] != "/pay" || a.Labels["flow"] != `api{http.route="/pay"}` {
				t.Errorf("a page with labels %v, want only /pay's SLO, labelled http_route=/pay", a.Labels)
			}
		}
	}

	resp, err := http.Get("http://" + d.metrics + "/api/v1/slos/" + url.PathEscape(paySLO))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name string `json:"name"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || got.Name != paySLO {
		t.Errorf("GET the group's SLO: %d %q (%v), want 200 and its name", resp.StatusCode, got.Name, err)
	}

	good := func(d *daemon, slo string) float64 {
		return metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_slo_window_events{slo=%q,window="2h",outcome="good"}`, slo))
	}
	want := map[string]float64{`api-availability{http.route="/cart"}`: 50, paySLO: 50, "api-availability": 30}
	counted := func(d *daemon) bool {
		for slo, n := range want {
			if good(d, slo) != n {
				return false
			}
		}
		return true
	}
	if !waitUntil(time.Now().Add(5*time.Second), func() bool { return counted(d) }) {
		t.Fatalf("good events before the crash: cart %v, pay %v, api %v; want %v", good(d, `api-availability{http.route="/cart"}`),
			good(d, paySLO), good(d, "api-availability"), want)
	}
	if n := metricValue(t, d.metrics, `burnwatch_flow_groups_overflow_total{flow="api"}`); n != 30 {
		t.Errorf("overflow %v, want the 30 /search spans", n)
	}

	d.kill()
	d = startDaemonWith(t, cfg)
	if !waitUntil(time.Now().Add(5*time.Second), func() bool { return counted(d) }) {
		t.Errorf("good events after a kill -9: cart %v, pay %v, api %v; want %v", good(d, `api-availability{http.route="/cart"}`),
			good(d, paySLO), good(d, "api-availability"), want)
	}
}
