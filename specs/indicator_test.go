package specs

import (
	"strings"
	"testing"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

const metricSLOs = `apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api-availability}
spec:
  indicator:
    metric:
      good: {name: http.server.requests, match: [{attribute: http.response.status_code, lt: 500}]}
      total: {name: http.server.requests}
  target: 99.9
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api-latency}
spec:
  indicator:
    latency:
      name: http.server.request.duration
      match: [{attribute: http.route, equals: /checkout}]
      threshold: 300ms
      interpolate: true
  target: 99
  alerting:
    labels: {team: payments}
    annotations: {summary: "{{ .SLO }} {{ .Labels.team }}"}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api-promql}
spec:
  indicator:
    promql:
      bad: sum by (http_route) (rate(http_server_requests_total{http_response_status_code=~"5.."}[{{ .window }}]))
      total: sum by (http_route) (rate(http_server_requests_total[{{.window}}]))
  target: 99.5
  period: 28d
`

func TestMetricIndicators(t *testing.T) {
	set, err := Parse("m.yaml", []byte(metricSLOs))
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(set.Flows) != 0 {
		t.Errorf("flows %v: synthetic flows must not reach the classifier", set.Flows)
	}
	want := map[string]string{
		"api-availability": "good: counter http.server.requests [http.response.status_code lt 500]\ntotal: counter http.server.requests\n",
		"api-latency":      "good: histogram threshold http.server.request.duration [http.route equals \"/checkout\"] <= 300ms interpolated\ntotal: histogram count http.server.request.duration [http.route equals \"/checkout\"]\n",
		"api-promql":       "bad: sum http_server_requests_total{http_response_status_code=~\"5..\"}\ntotal: sum http_server_requests_total\ngrouping: by (http_route)\n",
	}
	if len(set.SLOs) != 3 {
		t.Fatalf("%d SLOs, want 3", len(set.SLOs))
	}
	for _, s := range set.SLOs {
		if s.Flow != metricsli.FlowName(s.Name) || s.Objective != slo.Availability || s.Criticality != "medium" {
			t.Errorf("%s: flow %q objective %v criticality %q", s.Name, s.Flow, s.Objective, s.Criticality)
		}
		in := set.Indicators[s.Name]
		if in == nil {
			t.Fatalf("%s has no indicator", s.Name)
		}
		if err := in.Validate(); err != nil {
			t.Error(err)
		}
		if got := in.String(); got != want[s.Name] {
			t.Errorf("%s:\n%s\nwant\n%s", s.Name, got, want[s.Name])
		}
	}
	if set.SLOs[2].Period != 28*24*3600e9 {
		t.Errorf("period %v", set.SLOs[2].Period)
	}
}

func TestMetricIndicatorErrors(t *testing.T) {
	head := "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: m}\nspec:\n  target: 99\n"
	for _, tc := range []struct{ name, spec, want string }{
		{"flow and indicator", "  flow: checkout\n  indicator: {metric: {good: {name: a}, total: {name: a}}}\n",
			"x.yaml:7: spec.indicator: an SLO measures either a flow (spec.flow, from spans) or an indicator (from metrics), not both"},
		{"objective with indicator", "  objective: {type: latency, threshold: 1s}\n  indicator: {metric: {good: {name: a}, total: {name: a}}}\n",
			"x.yaml:6: spec.objective: applies only with spec.flow: an indicator says itself which events are good"},
		{"two forms", "  indicator:\n    metric: {good: {name: a}, total: {name: a}}\n    latency: {name: a, threshold: 1s}\n",
			"x.yaml:7: spec.indicator: gives metric and latency (want exactly one of: metric, latency, promql)"},
		{"empty indicator", "  indicator: {}\n", "x.yaml:6: spec.indicator: empty (want exactly one of: metric, latency, promql)"},
		{"three sources", "  indicator: {metric: {good: {name: a}, bad: {name: b}, total: {name: a}}}\n",
			"x.yaml:6: spec.indicator.metric: gives good, bad and total (want exactly two of good, bad and total: the third follows from the two)"},
		{"one source", "  indicator: {metric: {good: {name: a}}}\n",
			"x.yaml:6: spec.indicator.metric: gives only good (want exactly two of good, bad and total)"},
		{"source key typo", "  indicator: {metric: {good: {name: a, mach: []}, total: {name: a}}}\n",
			"x.yaml:6: spec.indicator.metric.good.mach: unknown key; did you mean match? (allowed: name, match)"},
		{"span pseudo key", "  indicator:\n    metric:\n      good: {name: a, match: [{attribute: span.kind, equals: server}]}\n      total: {name: a}\n",
			"x.yaml:8: spec.indicator.metric.good.match[0].attribute: span.kind is a span's; a metric's data points have attributes only"},
		{"bad metric name", "  indicator: {metric: {good: {name: 1abc}, total: {name: a}}}\n",
			`x.yaml:6: spec.indicator.metric.good.name: "1abc" is not an OpenTelemetry metric name`},
		{"latency without threshold", "  indicator:\n    latency: {name: d}\n",
			"x.yaml:7: spec.indicator.latency.threshold: missing: good observations take at most this long, e.g. threshold: 300ms"},
		{"latency bad interpolate", "  indicator:\n    latency: {name: d, threshold: 1s, interpolate: maybe}\n",
			`x.yaml:7: spec.indicator.latency.interpolate: want true or false, not "maybe"`},
		{"promql ratio and total", "  indicator:\n    promql:\n      ratio: a\n      total: b\n",
			"x.yaml:9: spec.indicator.promql.total: ratio is given: give ratio alone, or two of good, bad and total"},
		{"promql plain position", "  indicator:\n    promql:\n      bad: sum(rate(x_total[5m]))\n      total: sum(rate(x_total[{{.window}}]))\n",
			"x.yaml:8:28: spec.indicator.promql.bad: expression 1:17: a literal window: write [{{.window}}]"},
		{"promql quoted position", "  indicator:\n    promql:\n      bad: \"histogram_quantile(0.9, x)\"\n      total: sum(rate(x_total[{{.window}}]))\n",
			"x.yaml:8:13: spec.indicator.promql.bad: expression 1:1: function histogram_quantile is not supported"},
		{"promql block position", "  indicator:\n    promql:\n      bad: |\n        sum(\n          irate(x_total[{{.window}}])\n        )\n      total: sum(rate(x_total[{{.window}}]))\n",
			"x.yaml:10:11: spec.indicator.promql.bad: expression 2:3: irate (it reads only the last two samples; use rate) is not supported"},
		{"promql folded", "  indicator:\n    promql:\n      bad: >\n        sum(rate(x_total[{{.window}}]))\n        * 2\n      total: sum(rate(x_total[{{.window}}]))\n",
			"x.yaml:8: spec.indicator.promql.bad: expression 1:33: binary operator * is not supported"},
		{"promql groups differ", "  indicator:\n    promql:\n      bad: sum by (a) (rate(x_total[{{.window}}]))\n      total: sum(rate(x_total[{{.window}}]))\n",
			"x.yaml:9:14: spec.indicator.promql.total: expression 1:1: groups by nothing but bad groups by (a)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(head+tc.spec))
			if err == nil {
				t.Fatalf("parsed; want %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\ndoes not contain\n%s", err, tc.want)
			}
		})
	}
}

// A broken SLO still has its flow checked, and its name taken.
func TestBrokenSLOStillChecked(t *testing.T) {
	const file = `apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: a}
spec: {flow: chekout, target: 120}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: a}
spec: {flow: checkout, target: 99}
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec: {match: [{attribute: service.name, equals: shop}]}
`
	set, err := parse("x.yaml", []byte(file))
	got := []string{}
	for _, e := range flatten(err) {
		got = append(got, e.Error())
	}
	if verr := set.Validate(); verr != nil {
		for _, e := range flatten(verr) {
			got = append(got, e.Error())
		}
	}
	want := []string{
		"x.yaml:4: spec.target: 120 is not a percentage in (0, 100) (e.g. 99.9 for 99.9%)",
		`x.yaml:8: metadata.name: SLO "a" is already defined at x.yaml:3`,
		`x.yaml:4: spec.flow: flow "chekout" is not defined; did you mean checkout? (flows: checkout)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
