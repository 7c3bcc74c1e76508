package sloconnector

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
)

// metricSpecs measure one SLO from each kind of counting metric.
const metricSpecs = `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: sum}
spec:
  indicator:
    promql:
      bad: sum(rate(http_server_requests_total{job="shop", http_response_status_code=~"5.."}[{{.window}}]))
      total: sum(rate(http_server_requests_total{job="shop"}[{{.window}}]))
  target: 99
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: explicit}
spec:
  indicator:
    latency: {name: http.server.request.duration, threshold: 250ms, match: [{attribute: http.route, equals: /a}]}
  target: 99
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: exponential}
spec:
  indicator:
    latency: {name: rpc.server.duration, threshold: 4ms}
  target: 99
`

// sdkExport builds what an SDK exports: a cumulative int counter by status
// code, a delta explicit histogram in seconds, a cumulative exponential
// one in ms and a gauge.
func sdkExport(start, at time.Time, ok, failed int64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "shop")
	ms := rm.ScopeMetrics().AppendEmpty().Metrics()
	ts, st := pcommon.NewTimestampFromTime(at), pcommon.NewTimestampFromTime(start)

	m := ms.AppendEmpty()
	m.SetName("http.server.requests")
	m.SetUnit("{request}")
	sum := m.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	for code, v := range map[int64]int64{200: ok, 503: failed} {
		dp := sum.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(st)
		dp.SetTimestamp(ts)
		dp.SetIntValue(v)
		dp.Attributes().PutInt("http.response.status_code", code)
	}

	m = ms.AppendEmpty()
	m.SetName("http.server.request.duration")
	m.SetUnit("s")
	h := m.SetEmptyHistogram()
	h.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
	for _, route := range []string{"/a", "/b"} {
		dp := h.DataPoints().AppendEmpty()
		dp.SetStartTimestamp(st)
		dp.SetTimestamp(ts)
		dp.ExplicitBounds().FromRaw([]float64{0.1, 0.25, 1})
		dp.BucketCounts().FromRaw([]uint64{4, 3, 2, 1})
		dp.SetCount(10)
		dp.Attributes().PutStr("http.route", route)
	}

	m = ms.AppendEmpty()
	m.SetName("rpc.server.duration")
	m.SetUnit("ms")
	e := m.SetEmptyExponentialHistogram()
	e.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := e.DataPoints().AppendEmpty()
	dp.SetStartTimestamp(st)
	dp.SetTimestamp(ts)
	dp.SetScale(0)
	dp.Positive().SetOffset(0)
	dp.Positive().BucketCounts().FromRaw([]uint64{1, 2, 3, 4}) // (1,2] (2,4] (4,8] (8,16]
	dp.Negative().BucketCounts().FromRaw([]uint64{1})
	dp.SetZeroCount(1)
	dp.SetCount(12)

	m = ms.AppendEmpty()
	m.SetName("process.cpu.utilization")
	m.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(0.5)

	return md
}

func TestMetricsPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(path, []byte(metricSpecs), 0o644); err != nil {
		t.Fatal(err)
	}
	host, a := burnwatchextensiontest.Start(t, nil, path)
	conn, err := NewFactory().CreateMetricsToMetrics(context.Background(), connectortest.NewNopSettings(Type), createDefaultConfig(), new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Shutdown(context.Background()) }()

	start := time.Now() // after the App began: first cumulative points count in full
	if err := conn.ConsumeMetrics(context.Background(), sdkExport(start, start.Add(time.Second), 95, 5)); err != nil {
		t.Fatal(err)
	}
	if err := conn.ConsumeMetrics(context.Background(), sdkExport(start, start.Add(2*time.Second), 195, 7)); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]uint64{
		"sum":         {202, 7}, // 195+7 requests, 7 failed
		"explicit":    {20, 6},  // two batches of /a: 10 each, 3 above 250 ms
		"exponential": {12, 7},  // the first cumulative point in full, then nothing new: zero, negative and (1,4] at most 4 ms
	}
	for _, st := range a.Engine().Evaluate(start.Add(3 * time.Second)) {
		w, ok := want[st.SLO.Name]
		if !ok {
			continue
		}
		if got := [2]uint64{st.Period.Total, st.Period.Bad}; got != w {
			t.Errorf("%s: total/bad %v, want %v", st.SLO.Name, got, w)
		}
	}
	// Per batch: two counter points, /a's histogram and the exponential
	// one are read (the second exponential point adds nothing new); the
	// gauge and /b's histogram, which no matcher takes, are unused.
	for series, want := range map[string]uint64{
		`burnwatch_metric_points_total{outcome="counted"}`: 8,
		`burnwatch_metric_points_total{outcome="unused"}`:  4,
		`burnwatch_metric_streams`:                         3,
	} {
		if n := counter(a, series); n != want {
			t.Errorf("%s = %d, want %d", series, n, want)
		}
	}
}
