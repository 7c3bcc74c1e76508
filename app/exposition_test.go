package app

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestLabelValueEscaping(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"checkout", "checkout"},
		{`a"b\c` + "\nd", `a\"b\\c\nd`},
		{"x\xff\x01y", "x\uFFFD\x01y"},
		{"München", "München"},
		{"\xe2\x82", "\uFFFD\uFFFD"}, // a cut multi-byte sequence
	} {
		if got := string(appendLabelValue(nil, tc.in)); got != tc.want {
			t.Errorf("appendLabelValue(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestMetricsPageParses scrapes /metrics over a real listener, with hostile
// label values present (receiver names with quotes, backslashes, newlines
// and invalid UTF-8), and parses it with Prometheus' own text parser: every
// family once, with HELP and TYPE, and the evaluation time a histogram.
func TestMetricsPageParses(t *testing.T) {
	cfg := storedConfig(t.TempDir())
	cfg.Metrics.Level = MetricsDetailed
	cfg.Alerting.Receivers = []ReceiverConfig{{Name: "on\"call\\\n\xff", Console: &struct{}{}}}
	cfg.Alerting.Console = false
	a := firingApp(t, cfg)
	base := apiServer(t, a, HandlerOptions{ProcessMetrics: true})
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the page does not parse: %v\n%s", err, body)
	}
	for name, want := range map[string]string{
		"burnwatch_evaluation_duration_seconds": "HISTOGRAM",
		"burnwatch_slo_burn_rate":               "GAUGE",
		"burnwatch_flow_events_total":           "COUNTER",
		"burnwatch_slo_events_total":            "COUNTER",
		"burnwatch_outbox_pending":              "GAUGE",
		"burnwatch_slo_window_events":           "GAUGE",
		"burnwatch_flow_latency_seconds":        "GAUGE",
		"go_goroutines":                         "GAUGE",
	} {
		f, ok := families[name]
		if !ok {
			t.Errorf("family %s missing", name)
			continue
		}
		if f.GetType().String() != want || f.GetHelp() == "" {
			t.Errorf("family %s: type %s help %q, want %s with a help text", name, f.GetType(), f.GetHelp(), want)
		}
	}
	pending := families["burnwatch_outbox_pending"].GetMetric()
	if len(pending) != 1 || pending[0].GetLabel()[0].GetValue() != "on\"call\\\n\uFFFD" {
		t.Errorf("hostile receiver name read back as %v", pending)
	}
	// Windows read as people write them.
	var windows []string
	for _, m := range families["burnwatch_slo_burn_rate"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "window" {
				windows = append(windows, l.GetValue())
			}
		}
	}
	if s := strings.Join(windows, " "); !strings.Contains(s, "2h") || strings.Contains(s, "h0m0s") {
		t.Errorf("window labels %s, want 2h and the like", s)
	}
}

// TestBasicLevelAndCap: the default level leaves the detailed families out,
// and max_series caps the per-flow and per-SLO series, counting the rest.
func TestBasicLevelAndCap(t *testing.T) {
	cfg := testConfig()
	cfg.Metrics.MaxSeries = 3
	a := firingApp(t, cfg)
	var page bytes.Buffer
	a.WriteMetrics(&page)
	if strings.Contains(page.String(), "burnwatch_slo_window_events{") || strings.Contains(page.String(), "burnwatch_flow_latency_seconds{") {
		t.Error("the basic level shows detailed series")
	}
	if v, ok := metric(a, "burnwatch_metrics_series_dropped"); !ok || v == 0 {
		t.Errorf("burnwatch_metrics_series_dropped = %v (present %v), want the series past 3", v, ok)
	}
	n := 0
	for line := range strings.Lines(page.String()) {
		if strings.HasPrefix(line, "burnwatch_slo_") || strings.HasPrefix(line, "burnwatch_flow_") || strings.HasPrefix(line, "burnwatch_spans_classified_total{") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d per-flow and per-SLO series, want the cap of 3", n)
	}
}
