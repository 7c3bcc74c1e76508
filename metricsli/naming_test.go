package metricsli

import (
	"testing"

	"github.com/prometheus/otlptranslator"
)

func TestPrometheusName(t *testing.T) {
	for _, tc := range []struct {
		name, unit string
		typ        MetricType
		want       string
	}{
		{"http.server.request.duration", "s", Histogram, "http_server_request_duration_seconds"},
		{"http.server.request.duration", "s", ExponentialHistogram, "http_server_request_duration_seconds"},
		{"http.server.requests", "{request}", MonotonicSum, "http_server_requests_total"},
		{"http.server.requests", "", MonotonicSum, "http_server_requests_total"},
		{"http.server.duration", "ms", Histogram, "http_server_duration_milliseconds"},
		{"rpc.server.duration", "us", Histogram, "rpc_server_duration_microseconds"},
		{"requests.total", "1", MonotonicSum, "requests_total"},
		{"system.network.io", "By", MonotonicSum, "system_network_io_bytes_total"},
		{"throughput", "By/s", Gauge, "throughput_bytes_per_second"},
		{"events", "{event}/min", Gauge, "events_per_min"}, // only m is minute after a /,
		{"cpu.utilization", "1", Gauge, "cpu_utilization_ratio"},
		{"queue.size", "{item}", NonMonotonicSum, "queue_size"},
		{"latency_seconds", "s", Histogram, "latency_seconds"},
		{"2xx.count", "", MonotonicSum, "_2xx_count_total"},
		{"temp", "Cel", Gauge, "temp_celsius"},
		{"weird..name--x", "", Gauge, "weird_name_x"},
		{"disk.io", "MiBy", MonotonicSum, "disk_io_mebibytes_total"},
		{"jobs.done", "{job}", MonotonicSum, "jobs_done_total"},
	} {
		if got := PrometheusName(tc.name, tc.unit, tc.typ); got != tc.want {
			t.Errorf("PrometheusName(%q, %q, %d) = %q, want %q", tc.name, tc.unit, tc.typ, got, tc.want)
		}
	}
}

func TestLabelName(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http.response.status_code", "http_response_status_code"},
		{"http.route", "http_route"},
		{"service.name", "service_name"},
		{"k8s.pod.name", "k8s_pod_name"},
		{"a..b", "a_b"},
		{"a._b", "a_b"},
		{"x__y", "x_y"},
		{"2xx", "key_2xx"},
		{"__name__", "__name__"},
		{"__a.b__", "__a_b__"},
		{"ok_label", "ok_label"},
	} {
		if got := LabelName(tc.in); got != tc.want {
			t.Errorf("LabelName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestResourceLabels(t *testing.T) {
	for _, tc := range []struct{ ns, name, inst, job, instance string }{
		{"shop", "checkout", "pod-1", "shop/checkout", "pod-1"},
		{"", "checkout", "", "checkout", ""},
		{"shop", "", "x", "", "x"},
	} {
		job, inst := ResourceLabels(tc.ns, tc.name, tc.inst)
		if job != tc.job || inst != tc.instance {
			t.Errorf("ResourceLabels(%q, %q, %q) = %q, %q; want %q, %q", tc.ns, tc.name, tc.inst, job, inst, tc.job, tc.instance)
		}
	}
}

// TestNamingAgreesWithPrometheus checks the rules against Prometheus's own
// OTLP translator, over names and units that exercise each rule.
func TestNamingAgreesWithPrometheus(t *testing.T) {
	types := map[MetricType]otlptranslator.MetricType{
		Gauge: otlptranslator.MetricTypeGauge, MonotonicSum: otlptranslator.MetricTypeMonotonicCounter,
		NonMonotonicSum: otlptranslator.MetricTypeNonMonotonicCounter, Histogram: otlptranslator.MetricTypeHistogram,
		ExponentialHistogram: otlptranslator.MetricTypeExponentialHistogram, Summary: otlptranslator.MetricTypeSummary,
	}
	names := []string{"http.server.request.duration", "http.server.requests", "requests_total", "total", "a.total.b",
		"cpu.ratio", "9lives", "x__y", "db.client.connections.usage", "seconds.spent", "per.second", "ünïcode.name", "a:b"}
	units := []string{"", "s", "ms", "1", "{request}", "By/s", "{packet}/s", "m/s", "%", "KiBy", "kg", "foo bar", "/s", "s/", "seconds"}
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	for _, n := range names {
		for _, u := range units {
			for ours, theirs := range types {
				want, err := namer.Build(otlptranslator.Metric{Name: n, Unit: u, Type: theirs})
				if err != nil {
					continue
				}
				if got := PrometheusName(n, u, ours); got != want {
					t.Errorf("PrometheusName(%q, %q, %d) = %q, Prometheus says %q", n, u, ours, got, want)
				}
			}
		}
	}
	labeler := otlptranslator.LabelNamer{}
	for _, k := range []string{"http.response.status_code", "a..b", "a._b", "x__y", "9a", "__a.b__", "ünï", "k8s.pod.uid", "_a"} {
		want, err := labeler.Build(k)
		if err != nil {
			continue
		}
		if got := LabelName(k); got != want {
			t.Errorf("LabelName(%q) = %q, Prometheus says %q", k, got, want)
		}
	}
}
