package app

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting/silence"
	"github.com/burnwatch/burnwatch/slo"
)

// statusSpecs are two flows and three SLOs over a day, with two tiers each
// whose warm-ups are 1m (page) and 6m (ticket).
const statusSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout, labels: {team: payments}}
spec:
  tier: critical
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: search}
spec:
  tier: high
  match: [{attribute: http.route, equals: /search}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability, labels: {team: payments}}
spec:
  description: Checkout requests succeed
  flow: checkout
  target: 99
  period: 1d
  runbook: https://runbooks.example/checkout
  alerting: &tiers
    min_events: 1
    tiers:
      - {name: page, severity: page, long: 1h, short: 5m, factor: 14.4}
      - {name: ticket, severity: ticket, long: 6h, short: 30m, factor: 6}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-latency}
spec:
  flow: checkout
  objective: {type: latency, threshold: 300ms}
  target: 99
  period: 1d
  alerting:
    min_events: 1
    tiers:
      - {name: page, severity: page, long: 1h, short: 5m, factor: 14.4}
      - {name: ticket, severity: ticket, long: 6h, short: 30m, factor: 6}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-availability}
spec:
  flow: search
  target: 99.5
  period: 1d
  alerting:
    min_events: 1
    tiers:
      - {name: page, severity: page, long: 1h, short: 5m, factor: 14.4}
      - {name: ticket, severity: ticket, long: 6h, short: 30m, factor: 6}
`

// statusConfig is testConfig on specs written to a temporary file.
func statusConfig(t *testing.T, specs string) Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "specs.yaml")
	if err := os.WriteFile(path, []byte(specs), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Files = []string{path}
	return cfg
}

// evaluateAt evaluates at now and samples the budget history, as the
// evaluation loop does.
func evaluateAt(a *App, now time.Time) {
	a.evaluate(now)
	a.ReadStatuses(a.recordBudgets)
}

// statusApp is statusSpecs evaluated twice, a history step (5m) apart:
// first with nothing seen, then after a batch at t1 of 100 checkout events
// (20 errors, 10 more taking 400ms, the rest 20ms) and 50 search events of
// 500ms without error. So at t1 the page tiers are warm and the ticket
// tiers warm up for one more minute.
func statusApp(t *testing.T) (a *App, t0, t1 time.Time) {
	t.Helper()
	a = startApp(t, statusConfig(t, statusSpecs))
	t1 = time.Now()
	t0 = t1.Add(-5 * time.Minute)
	evaluateAt(a, t0)
	search := events(50, "search", t1, 0, 0)
	for i := range search {
		search[i].Duration = 500 * time.Millisecond
	}
	if err := a.observe(t1, append(events(100, "checkout", t1, 20, 10), search...)); err != nil {
		t.Fatal(err)
	}
	evaluateAt(a, t1)
	return a, t0, t1
}

func TestSLOsAPI(t *testing.T) {
	a, t0, t1 := statusApp(t)
	base := apiServer(t, a, HandlerOptions{})
	var list SLOList
	getJSON(t, base+"/api/v1/slos", &list)
	if len(list.SLOs) != 3 || list.EvaluatedAt == nil || !list.EvaluatedAt.Equal(t1) {
		t.Fatalf("got %d SLOs evaluated at %v, want 3 at %v", len(list.SLOs), list.EvaluatedAt, t1)
	}
	byName := map[string]SLOView{}
	for _, s := range list.SLOs {
		byName[s.Name] = s
	}
	ca, cl, sa := byName["checkout-availability"], byName["checkout-latency"], byName["search-availability"]
	window := func(ws []WindowView, w string) WindowView {
		for _, v := range ws {
			if v.Window == w {
				return v
			}
		}
		t.Errorf("no window %s in %+v", w, ws)
		return WindowView{}
	}
	// By hand: checkout-availability has 20 bad of 100 against a 1%
	// budget, a burn of 20 in every window and 1 - 20 = -19 budget left;
	// checkout-latency 20 errors + 10 slow = 30 bad, burn 30; search 0 bad
	// of 50. Page tiers (factor 14.4, warm after 1m) fire; ticket tiers
	// warm up until 6m, so for 1m more.
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"ca.flow", ca.Flow, "checkout"},
		{"ca.labels", ca.Labels["team"], "payments"},
		{"ca.criticality", ca.Criticality, "critical"},
		{"ca.objective", ca.Objective, ObjectiveView{Type: "availability", Text: "99% of requests succeed"}},
		{"ca.target", ca.Target, 0.99},
		{"ca.period", ca.Period, "1d"},
		{"ca.period_seconds", ca.PeriodSeconds, 86400.0},
		{"ca.good/bad/total", [3]uint64{ca.Good, ca.Bad, ca.Total}, [3]uint64{80, 20, 100}},
		{"ca.budget_left", round(ca.BudgetLeft), -19.0},
		{"ca.state", ca.State, "firing"},
		{"ca.severity", ca.Severity, "page"},
		{"ca.runbook", ca.Runbook, "https://runbooks.example/checkout"},
		{"ca.windows", len(ca.Windows), 5},
		{"ca.windows[0]", ca.Windows[0].Window, "5m"},
		{"ca.windows[4]", ca.Windows[4].Window, "1d"},
		{"ca.window 6h", window(ca.Windows, "6h"), WindowView{Window: "6h", Seconds: 21600, Good: 80, Bad: 20, Total: 100, Burn: ca.Windows[3].Burn}},
		{"ca.window 6h burn", round(window(ca.Windows, "6h").Burn), 20.0},
		{"ca.tiers[0]", [4]any{ca.Tiers[0].Name, ca.Tiers[0].Severity, ca.Tiers[0].Factor, ca.Tiers[0].State}, [4]any{"page", "page", 14.4, "firing"}},
		{"ca.tiers[0] windows", [2]string{ca.Tiers[0].Long.Window, ca.Tiers[0].Short.Window}, [2]string{"1h", "5m"}},
		{"ca.tiers[0] burns", [2]float64{round(ca.Tiers[0].Long.Burn), round(ca.Tiers[0].Short.Burn)}, [2]float64{20, 20}},
		{"ca.tiers[1]", [3]any{ca.Tiers[1].Name, ca.Tiers[1].State, ca.Tiers[1].WarmUpLeftSeconds}, [3]any{"ticket", "warming_up", 60.0}},
		{"ca.latency windows", len(ca.Latency), 4},
		{"ca.latency[0]", [2]any{ca.Latency[0].Window, ca.Latency[0].Count}, [2]any{"5m", uint64(100)}},
		{"ca.alerts", len(ca.Alerts), 1},
		{"ca.exemplars", len(ca.Exemplars), 3},
		{"cl.objective", cl.Objective, ObjectiveView{Type: "latency", Text: "99% of requests succeed within 300ms", ThresholdSeconds: 0.3}},
		{"cl.good/bad", [2]uint64{cl.Good, cl.Bad}, [2]uint64{70, 30}},
		{"cl.budget_left", round(cl.BudgetLeft), -29.0},
		{"cl.state", cl.State, "firing"},
		{"sa.target", sa.Target, 0.995},
		{"sa.budget_left", sa.BudgetLeft, 1.0},
		{"sa.state", sa.State, "warming_up"},
		{"sa.severity", sa.Severity, ""},
		{"sa.tiers", [2]string{sa.Tiers[0].State, sa.Tiers[1].State}, [2]string{"ok", "warming_up"}},
		{"sa.alerts", len(sa.Alerts), 0},
		{"sa.exemplars", len(sa.Exemplars), 0},
		{"sa.history (list)", sa.History == nil, true},
	} {
		if !equalJSON(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	// Latency of checkout: 70 events of 20ms, 10 of 400ms, 20 errors of
	// 20ms: p50 = p90 = 20ms, p95 = p99 = 400ms, within the sketch's 1.1%.
	for _, p := range []struct {
		name      string
		got, want float64
	}{{"p50", ca.Latency[0].P50, 0.020}, {"p90", ca.Latency[0].P90, 0.020}, {"p95", ca.Latency[0].P95, 0.400}, {"p99", ca.Latency[0].P99, 0.400}} {
		if math.Abs(p.got-p.want) > 0.011*p.want {
			t.Errorf("checkout latency %s = %v, want %v ±1.1%%", p.name, p.got, p.want)
		}
	}
	if al := ca.Alerts[0]; al.Tier != "page" || al.Kind != "burn" || al.Severity != "page" || al.State != "active" ||
		!al.StartsAt.Equal(t1) || round(al.BurnLong) != 20 || al.Factor != 14.4 || len(al.SilencedBy) != 0 {
		t.Errorf("checkout-availability alert: %+v", al)
	}
	for _, e := range ca.Exemplars {
		// Errors are events 0..19, whose trace IDs start with 1..20.
		if len(e.TraceID) != 32 || e.TraceID[:2] > "14" || !strings.HasSuffix(e.TraceID, strings.Repeat("0", 30)) {
			t.Errorf("exemplar %s is not one of the errors' traces", e.TraceID)
		}
	}

	// One SLO adds the period's budget history: a sample at each of the
	// two evaluations, a history step (1d/288 = 5m) apart.
	var one SLOView
	getJSON(t, base+"/api/v1/slos/checkout-availability", &one)
	if one.Name != "checkout-availability" || one.State != "firing" || one.History == nil {
		t.Fatalf("GET /api/v1/slos/checkout-availability: %+v", one)
	}
	h := *one.History
	if h.SLO != "checkout-availability" || h.StepSeconds != 300 || !equalJSON(h.Tiers, []string{"page", "ticket"}) ||
		!equalJSON(h.Windows, []string{"1h", "6h"}) || len(h.Samples) != 2 {
		t.Fatalf("history: %+v", h)
	}
	if s := h.Samples[0]; !s.At.Equal(t0) || s.BudgetLeft != 1 || !equalJSON(s.Burn, []float64{0, 0}) {
		t.Errorf("first sample %+v, want at %v budget 1 burns 0 0", s, t0)
	}
	if s := h.Samples[1]; !s.At.Equal(t1) || round(s.BudgetLeft) != -19 || round(s.Burn[0]) != 20 || round(s.Burn[1]) != 20 {
		t.Errorf("second sample %+v, want at %v budget -19 burns 20 20", s, t1)
	}
	resp, err := http.Get(base + "/api/v1/slos/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/v1/slos/nope: %s, want 404", resp.Status)
	}
}

func TestFlowsAPI(t *testing.T) {
	a, _, _ := statusApp(t)
	base := apiServer(t, a, HandlerOptions{})
	// checkout: 100 events, 20 errors (counted by checkout-availability's
	// 5m window), p99 400ms. search: 50 events, no error, all 500ms.
	for _, tc := range []struct {
		sort  string
		order []string
	}{
		{"", []string{"checkout", "search"}},
		{"traffic", []string{"checkout", "search"}},
		{"errors", []string{"checkout", "search"}},
		{"latency", []string{"search", "checkout"}},
	} {
		var list FlowList
		getJSON(t, base+"/api/v1/flows?sort="+tc.sort, &list)
		var order []string
		for _, f := range list.Flows {
			order = append(order, f.Flow)
		}
		if list.Window != "5m" || list.Seconds != 300 || !equalJSON(order, tc.order) {
			t.Errorf("sort %q: window %s, order %v; want 5m, %v", tc.sort, list.Window, order, tc.order)
		}
	}
	var list FlowList
	getJSON(t, base+"/api/v1/flows", &list)
	c, s := list.Flows[0], list.Flows[1]
	if c.Events != 100 || c.Errors == nil || *c.Errors != 20 || c.ErrorRatio == nil || *c.ErrorRatio != 0.2 ||
		c.EventsTotal != 100 || c.ErrorsTotal != 20 || !equalJSON(c.SLOs, []string{"checkout-availability", "checkout-latency"}) {
		t.Errorf("checkout: %+v", c)
	}
	if math.Abs(c.P50-0.020) > 0.011*0.020 || math.Abs(c.P99-0.400) > 0.011*0.400 {
		t.Errorf("checkout p50 %v p99 %v, want 20ms 400ms", c.P50, c.P99)
	}
	if s.Events != 50 || s.Errors == nil || *s.Errors != 0 || *s.ErrorRatio != 0 || math.Abs(s.P95-0.5) > 0.011*0.5 {
		t.Errorf("search: %+v", s)
	}
	getJSON(t, base+"/api/v1/flows?window=1h", &list)
	if list.Window != "1h" || list.Flows[0].Events != 100 {
		t.Errorf("window=1h: %+v", list)
	}
	for _, q := range []string{"sort=slowest", "window=7m", "window=soon"} {
		resp, err := http.Get(base + "/api/v1/flows?" + q)
		if err != nil {
			t.Fatal(err)
		}
		var msg string
		_ = json.NewDecoder(resp.Body).Decode(&msg)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || msg == "" {
			t.Errorf("?%s: %s %q, want 400 with a reason", q, resp.Status, msg)
		}
	}
}

func TestAlertsAndStatusAPI(t *testing.T) {
	a, _, t1 := statusApp(t)
	base := apiServer(t, a, HandlerOptions{Version: "1.2.3"})
	// Silence checkout-latency's page: it stays listed, suppressed.
	if _, err := a.alerts.silences.Set(silenceFor("checkout-latency", t1), time.Now()); err != nil {
		t.Fatal(err)
	}
	var alerts AlertList
	getJSON(t, base+"/api/v1/alerts", &alerts)
	if len(alerts.Alerts) != 2 {
		t.Fatalf("alerts: %+v", alerts)
	}
	got := map[string]AlertView{}
	for _, al := range alerts.Alerts {
		got[al.SLO+"/"+al.Tier] = al
	}
	if al := got["checkout-availability/page"]; al.State != "active" || al.Summary == "" || len(al.TraceIDs) != 3 {
		t.Errorf("checkout-availability/page: %+v", al)
	}
	if al := got["checkout-latency/page"]; al.State != "suppressed" || len(al.SilencedBy) != 1 || round(al.BurnShort) != 30 {
		t.Errorf("checkout-latency/page: %+v", al)
	}

	var st DaemonStatus
	getJSON(t, base+"/api/v1/status", &st)
	want := StatusCounts{Flows: 2, SLOs: 3, SLOsFiring: 2, AlertsFiring: 1, AlertsSuppressed: 1, Silences: 1, Events: 150}
	if st.Version != "1.2.3" || !st.Ready || st.Storage != StorageOff || st.SpecError != nil || st.EvaluatedAt == nil ||
		!st.EvaluatedAt.Equal(t1) || st.EvaluationIntervalSeconds != 3600 || st.UptimeSeconds <= 0 || st.Counts != want {
		t.Errorf("status: %+v, want counts %+v", st, want)
	}

	// A broken spec file is reported; the running specs go on.
	if err := os.WriteFile(a.cfg.Files[0], []byte("kind: SLO\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if a.ReloadSpecs() == nil {
		t.Fatal("a broken spec file reloaded")
	}
	getJSON(t, base+"/api/v1/status", &st)
	if st.SpecError == nil || st.SpecError.Error == "" || st.Counts.SLOs != 3 {
		t.Errorf("status after a rejected reload: %+v", st)
	}
}

// TestStatusAPIBeforeStart: the handler answers before the App started,
// with nothing evaluated.
func TestStatusAPIBeforeStart(t *testing.T) {
	a, err := New(statusConfig(t, statusSpecs), Settings{})
	if err != nil {
		t.Fatal(err)
	}
	base := apiServer(t, a, HandlerOptions{})
	var list SLOList
	getJSON(t, base+"/api/v1/slos", &list)
	var alerts AlertList
	getJSON(t, base+"/api/v1/alerts", &alerts)
	var st DaemonStatus
	getJSON(t, base+"/api/v1/status", &st)
	if list.EvaluatedAt != nil || len(list.SLOs) != 0 || len(alerts.Alerts) != 0 || st.Ready || st.Counts.SLOs != 3 {
		t.Errorf("before Start: %+v %+v %+v", list, alerts, st)
	}
}

func TestBudgetHistoryRing(t *testing.T) {
	a, _, t1 := statusApp(t)
	h := a.budgets()
	// A sample per 5m step, however often evaluated; at most
	// budgetSamples kept, the oldest dropped.
	for i := 1; i <= 2*budgetSamples; i++ {
		now := t1.Add(time.Duration(i) * 150 * time.Second) // two evaluations per step
		a.ReadStatuses(func(_ time.Time, st []slo.Status) { h.record(now, st) })
	}
	s := h.series("checkout-availability")
	if len(s.Samples) != budgetSamples {
		t.Fatalf("%d samples, want %d", len(s.Samples), budgetSamples)
	}
	for i := 1; i < len(s.Samples); i++ {
		if d := s.Samples[i].At.Sub(s.Samples[i-1].At); d != 5*time.Minute {
			t.Fatalf("samples %d and %d are %v apart, want 5m", i-1, i, d)
		}
	}
	// The newest is the last evaluation's, or the one half a step before
	// it, whichever began the step.
	end := t1.Add(2 * budgetSamples * 150 * time.Second)
	if last := s.Samples[len(s.Samples)-1].At; last.Before(end.Add(-150*time.Second)) || last.After(end) {
		t.Errorf("newest sample at %v, want within 2m30s before %v", last, end)
	}
	// Snapshot and Restore carry it over as it was.
	snap := h.Snapshot()
	var b budgetHistory
	b.Restore(roundTrip(t, snap))
	if !equalJSON(b.Snapshot(), snap) || len(snap) != 3 || snap[0].SLO != "checkout-availability" {
		t.Errorf("restored history differs: %d series", len(snap))
	}
}

func roundTrip(t *testing.T, v []BudgetSeries) []BudgetSeries {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out []BudgetSeries
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func silenceFor(sloName string, now time.Time) silence.Silence {
	return silence.Silence{Matchers: []silence.Matcher{{Name: "slo", Value: sloName}},
		StartsAt: now.Add(-time.Minute), EndsAt: now.Add(time.Hour), CreatedBy: "test", Comment: "deploy"}
}

// round rounds away float noise: burn rates are ratios of counts.
func round(f float64) float64 { return math.Round(f*1e9) / 1e9 }

// equalJSON compares two values as their JSON.
func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
