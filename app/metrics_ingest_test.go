package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
)

const metricSpecs = `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api}
spec:
  indicator:
    metric:
      good:  {name: http.server.requests, match: [{attribute: http.response.status_code, lt: 500}]}
      total: {name: http.server.requests}
  target: 99
  period: 2h
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: lat}
spec:
  indicator:
    latency: {name: http.server.request.duration, threshold: 300ms}
  target: 99
  period: 2h
`

func metricConfig(t *testing.T, dir string) Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slos.yaml")
	if err := os.WriteFile(path, []byte(metricSpecs), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := storedConfig(dir)
	cfg.Files = []string{path}
	return cfg
}

// requestPoints are cumulative counts of a service that started at start:
// ok requests with status 200 and failed with 503.
func requestPoints(start, at time.Time, ok, failed float64) []metricsli.Point {
	p := func(code int64, v float64) metricsli.Point {
		return metricsli.Point{Metric: "http.server.requests", Unit: "{request}", Type: metricsli.MonotonicSum,
			Temporality: metricsli.Cumulative, Start: start.UnixNano(), Time: at.UnixNano(), Value: v,
			Attrs:    []metricsli.Attr{{Key: "http.response.status_code", Value: flows.IntValue(code)}},
			Resource: []metricsli.Attr{{Key: "service.name", Value: flows.StrValue("shop")}}}
	}
	return []metricsli.Point{p(200, ok), p(503, failed)}
}

func TestObserveMetricsSurvivesKill9(t *testing.T) {
	dir := t.TempDir()
	a1 := startApp(t, metricConfig(t, dir))
	start := time.Now() // the service starts after Burnwatch: its first points count
	if err := a1.ObserveMetrics(requestPoints(start, start.Add(time.Second), 90, 10)); err != nil {
		t.Fatal(err)
	}
	if err := a1.ObserveMetrics(requestPoints(start, start.Add(2*time.Second), 150, 12)); err != nil {
		t.Fatal(err)
	}
	now := start.Add(3 * time.Second)
	period := func(a *App) [2]uint64 {
		st := a.Engine().Evaluate(now)[0]
		return [2]uint64{st.Period.Total, st.Period.Bad}
	}
	if got := period(a1); got != [2]uint64{162, 12} {
		t.Fatalf("api counts %v, want 162 total, 12 bad", got)
	}
	crash(a1)
	a2 := startApp(t, metricConfig(t, dir))
	if got := period(a2); got != [2]uint64{162, 12} {
		t.Fatalf("after kill -9: api counts %v, want 162 total, 12 bad", got)
	}
	if v, _ := metric(a2, `burnwatch_metric_points_total{outcome="counted"}`); v != 0 {
		t.Fatalf("a restarted App counted %v points before any came", v)
	}
}

func TestObserveMetricsReportsProblems(t *testing.T) {
	a := startApp(t, metricConfig(t, t.TempDir()))
	now := time.Now()
	hist := metricsli.Point{Metric: "http.server.request.duration", Unit: "s", Type: metricsli.Histogram,
		Temporality: metricsli.Delta, Start: now.Add(-time.Second).UnixNano(), Time: now.UnixNano(),
		Count: 10, Bounds: []float64{0.25, 0.5}, Buckets: []uint64{5, 3, 2}}
	gauge := metricsli.Point{Metric: "process.cpu.utilization", Type: metricsli.Gauge}
	if err := a.ObserveMetrics([]metricsli.Point{hist, gauge}); err != nil {
		t.Fatal(err)
	}
	for series, want := range map[string]float64{
		`burnwatch_metric_points_rejected_total{reason="between_bounds"}`: 1,
		`burnwatch_metric_points_total{outcome="unused"}`:                 1,
		`burnwatch_metric_points_total{outcome="counted"}`:                0,
		`burnwatch_metric_slo_problem{slo="lat",reason="between_bounds"}`: 1,
	} {
		if v, ok := metric(a, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	if st := a.Engine().Evaluate(now)[1]; st.Period.Total != 0 {
		t.Fatalf("lat counted %d events of a histogram it cannot read", st.Period.Total)
	}
	// Bounds that hold the threshold: counted, and the problem is over.
	hist.Bounds, hist.Time = []float64{0.3, 0.5}, now.Add(time.Second).UnixNano()
	if err := a.ObserveMetrics([]metricsli.Point{hist}); err != nil {
		t.Fatal(err)
	}
	if _, ok := metric(a, `burnwatch_metric_slo_problem{slo="lat",reason="between_bounds"}`); ok {
		t.Error("the problem is still reported")
	}
	if st := a.Engine().Evaluate(now.Add(time.Second))[1]; st.Period.Total != 10 || st.Period.Bad != 5 {
		t.Fatalf("lat counted %d/%d total/bad, want 10/5", st.Period.Total, st.Period.Bad)
	}
}

func TestSumByPagesPerGroup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slos.yaml")
	spec := `
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api}
spec:
  indicator:
    promql:
      bad: sum by (http_route) (rate(http_server_requests_total{http_response_status_code=~"5.."}[{{.window}}]))
      total: sum by (http_route) (rate(http_server_requests_total[{{.window}}]))
  target: 99
  period: 2h
`
	if err := os.WriteFile(path, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := storedConfig(dir)
	cfg.Files = []string{path}
	a := startApp(t, cfg)
	now := time.Now()
	point := func(route string, code int64, v float64) metricsli.Point {
		return metricsli.Point{Metric: "http.server.requests", Unit: "{request}", Type: metricsli.MonotonicSum,
			Temporality: metricsli.Delta, Start: now.Add(-time.Second).UnixNano(), Time: now.UnixNano(), Value: v,
			Attrs: []metricsli.Attr{{Key: "http.route", Value: flows.StrValue(route)}, {Key: "http.response.status_code", Value: flows.IntValue(code)}}}
	}
	if err := a.ObserveMetrics([]metricsli.Point{point("/a", 200, 90), point("/a", 500, 10), point("/b", 200, 50)}); err != nil {
		t.Fatal(err)
	}
	got := map[string][2]uint64{}
	for _, st := range a.Engine().Evaluate(now) {
		got[st.SLO.Name] = [2]uint64{st.Period.Total, st.Period.Bad}
		if st.SLO.Name == `api{http_route="/a"}` && st.SLO.AlertLabels["http_route"] != "/a" {
			t.Errorf("the /a group's alerts are labelled %v", st.SLO.AlertLabels)
		}
	}
	want := map[string][2]uint64{"api": {0, 0}, `api{http_route="/a"}`: {100, 10}, `api{http_route="/b"}`: {50, 0}}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: total/bad %v, want %v (all: %v)", name, got[name], w, got)
		}
	}
	// The groups are kept across a restart, with their counts.
	crash(a)
	a2 := startApp(t, cfg)
	for _, st := range a2.Engine().Evaluate(now) {
		if w, ok := want[st.SLO.Name]; ok && [2]uint64{st.Period.Total, st.Period.Bad} != w {
			t.Errorf("after a restart %s: %d/%d, want %v", st.SLO.Name, st.Period.Total, st.Period.Bad, w)
		}
		delete(want, st.SLO.Name)
	}
	if len(want) != 0 {
		t.Errorf("SLOs missing after a restart: %v", want)
	}
}

// TestMetricStreamsResumeAfterCleanStop: after a clean stop, a cumulative
// stream's first point counts its increase since its last point before
// the stop, as if Burnwatch had not stopped. After a kill -9 that point is
// a baseline again: nothing is counted twice.
func TestMetricStreamsResumeAfterCleanStop(t *testing.T) {
	dir := t.TempDir()
	a1 := startApp(t, metricConfig(t, dir))
	start := time.Now().Add(-time.Hour) // the service started before Burnwatch
	at := func(sec int) time.Time { return start.Add(time.Hour + time.Duration(sec)*time.Second) }
	observe := func(a *App, pts []metricsli.Point) {
		t.Helper()
		if err := a.ObserveMetrics(pts); err != nil {
			t.Fatal(err)
		}
	}
	period := func(a *App) [2]uint64 {
		st := a.Engine().Evaluate(at(10))[0]
		return [2]uint64{st.Period.Total, st.Period.Bad}
	}
	observe(a1, requestPoints(start, at(1), 1000, 10)) // baselines
	observe(a1, requestPoints(start, at(2), 1090, 12))
	if got := period(a1); got != [2]uint64{92, 2} {
		t.Fatalf("before the stop: %v, want 92 total, 2 bad", got)
	}
	if err := a1.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a1.ObserveMetrics(requestPoints(start, at(3), 1100, 12)); !errors.Is(err, ErrStopping) {
		t.Fatalf("a batch after the stop: %v, want ErrStopping", err)
	}

	a2 := startApp(t, metricConfig(t, dir))
	observe(a2, requestPoints(start, at(3), 1150, 20))
	if got := period(a2); got != [2]uint64{160, 10} {
		t.Fatalf("after a clean restart: %v, want 160 total, 10 bad (the increase since the last point before the stop)", got)
	}
	crash(a2)

	a3 := startApp(t, metricConfig(t, dir))
	observe(a3, requestPoints(start, at(4), 1200, 21))
	if got := period(a3); got != [2]uint64{160, 10} {
		t.Fatalf("after a kill -9: %v, want 160 total, 10 bad (the first point a baseline, nothing counted twice)", got)
	}
	if v, _ := metric(a3, `burnwatch_metric_points_total{outcome="baseline"}`); v != 2 {
		t.Fatalf("baselines after a kill -9: %v, want the 2 streams", v)
	}
}
