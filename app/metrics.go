package app

import (
	"io"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/burnwatch/burnwatch/slo"
)

// counters are the App's own hot counters.
type counters struct {
	evalTime *metrics.PrometheusHistogram
	// unknownFlow counts producers' events of flows the specs do not
	// define; refused those refused while storage was not durable.
	unknownFlow atomic.Uint64
	refused     atomic.Uint64
}

// evaluationBuckets bound the evaluation-time histogram, in seconds: from a
// handful of SLOs (well under a millisecond) to 10,000 (tens of ms) and a
// struggling machine.
var evaluationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// registerMetrics builds the App's own metrics set. Everything per flow
// and per SLO is written from the current state at each scrape, not
// registered one by one, so a flow costs nothing per span and one removed
// from the specs leaves /metrics.
func (a *App) registerMetrics() {
	// HELP and TYPE lines: scrapers and people read them.
	metrics.ExposeMetadata(true)
	a.counters.evalTime = a.self.NewPrometheusHistogramExt("burnwatch_evaluation_duration_seconds", evaluationBuckets)
	a.reload.applied = a.self.NewCounter(series("burnwatch_spec_reloads_total", "outcome", "applied"))
	a.reload.rejected = a.self.NewCounter(series("burnwatch_spec_reloads_total", "outcome", "rejected"))
}

// Counter returns the counter of the App's metrics named name, creating it:
// adapters count what they see in the App's own set.
func (a *App) Counter(name string) *metrics.Counter { return a.self.GetOrCreateCounter(name) }

// WriteMetrics writes the App's metrics in the Prometheus text format:
// its registered counters, then the engine's, flows', SLOs', storage's and
// alerting's families from their current state. Per-flow and per-SLO
// series follow metrics.level and stop at metrics.max_series.
func (a *App) WriteMetrics(w io.Writer) {
	withHelp(w, a.self.WritePrometheus)
	e := &exposition{w: w, budget: a.cfg.Metrics.MaxSeries}
	a.Flows().writeMetrics(e)
	a.writeEngineMetrics(e)
	a.writeMetricPoints(e)
	if a.persist != nil {
		a.persist.writeMetrics(e)
	} else {
		e.single("burnwatch_storage_durable", "gauge", 0)
	}
	if a.alerts != nil {
		a.alerts.writeMetrics(e)
	}
	e.single("burnwatch_metrics_series_dropped", "gauge", float64(e.dropped))
}

func (a *App) writeEngineMetrics(e *exposition) {
	e.single("burnwatch_events_unknown_flow_total", "counter", float64(a.counters.unknownFlow.Load()))
	e.single("burnwatch_events_refused_total", "counter", float64(a.counters.refused.Load()))
	engine := a.Engine()
	st := engine.Stats()
	e.single("burnwatch_events_total", "counter", float64(st.Events))
	e.single("burnwatch_events_late_total", "counter", float64(st.Late))
	e.single("burnwatch_events_too_late_total", "counter", float64(st.TooLate))
	e.single("burnwatch_events_future_total", "counter", float64(st.Future))
	e.single("burnwatch_events_flow_overflow_total", "counter", float64(st.Overflow))
	e.single("burnwatch_flows", "gauge", float64(st.Flows))
	flows := engine.Flows()
	e.family("burnwatch_flow_events_total", "counter")
	for _, f := range flows {
		e.bounded("burnwatch_flow_events_total", float64(f.Events), "flow", f.Flow)
	}
	e.family("burnwatch_flow_errors_total", "counter")
	for _, f := range flows {
		e.bounded("burnwatch_flow_errors_total", float64(f.Errors), "flow", f.Flow)
	}
	detailed := a.cfg.Metrics.Level == MetricsDetailed
	if detailed {
		now := a.clock.Now()
		ps := make([][]slo.Percentiles, len(flows))
		for i, f := range flows {
			ps[i] = engine.FlowPercentiles(f.Flow, now)
		}
		e.family("burnwatch_flow_latency_count", "gauge")
		for i, f := range flows {
			for _, p := range ps[i] {
				e.bounded("burnwatch_flow_latency_count", float64(p.Count), "flow", f.Flow, "window", slo.FormatDuration(p.Window))
			}
		}
		e.family("burnwatch_flow_latency_seconds", "gauge")
		for i, f := range flows {
			for _, p := range ps[i] {
				writePercentiles(e, f.Flow, p)
			}
		}
	}
	// Rendered with the newest statuses held for reading: evaluate waits
	// for this, but the page is written into memory first (the handler
	// buffers), so a slow client does not hold it up.
	a.ReadStatuses(func(_ time.Time, statuses []slo.Status) { writeSLIs(e, statuses, detailed) })
}

// writeSLIs shows the newest evaluation's windows, so Prometheus can scrape
// the same numbers the alerts were decided on: budget left, the burn rate of
// every window and each tier's condition; detailed adds the exact event
// counts of every window. Every event-based SLO's events by outcome are
// counters, which `burnwatch rules` reads in Prometheus (docs/rules.md).
func writeSLIs(e *exposition, statuses []slo.Status, detailed bool) {
	e.family("burnwatch_slo_error_budget_remaining", "gauge")
	for i := range statuses {
		e.bounded("burnwatch_slo_error_budget_remaining", statuses[i].BudgetLeft, "slo", statuses[i].SLO.Name)
	}
	e.family("burnwatch_slo_events_total", "counter")
	for i := range statuses {
		st := &statuses[i]
		if st.SLO.Objective == slo.PercentileSlices {
			continue // judged by slices, not events
		}
		e.bounded("burnwatch_slo_events_total", float64(st.CountedTotal-st.CountedBad), "slo", st.SLO.Name, "outcome", "good")
		e.bounded("burnwatch_slo_events_total", float64(st.CountedBad), "slo", st.SLO.Name, "outcome", "bad")
	}
	windows := func(st *slo.Status, fn func(slo.WindowStats)) {
		seen := map[time.Duration]bool{}
		for _, ws := range append([]slo.WindowStats{st.Period}, tierWindows(st)...) {
			if !seen[ws.Window] {
				seen[ws.Window] = true
				fn(ws)
			}
		}
	}
	e.family("burnwatch_slo_burn_rate", "gauge")
	for i := range statuses {
		st := &statuses[i]
		windows(st, func(ws slo.WindowStats) {
			e.bounded("burnwatch_slo_burn_rate", ws.Burn, "slo", st.SLO.Name, "window", slo.FormatDuration(ws.Window))
		})
	}
	e.family("burnwatch_slo_tier_condition", "gauge")
	for i := range statuses {
		for _, t := range statuses[i].Tiers {
			e.bounded("burnwatch_slo_tier_condition", boolValue(t.Firing), "slo", statuses[i].SLO.Name, "tier", t.Tier.Name)
		}
	}
	e.family("burnwatch_slo_tier_warming_up", "gauge")
	for i := range statuses {
		for _, t := range statuses[i].Tiers {
			e.bounded("burnwatch_slo_tier_warming_up", boolValue(t.WarmingUp), "slo", statuses[i].SLO.Name, "tier", t.Tier.Name)
		}
	}
	if !detailed {
		return
	}
	e.family("burnwatch_slo_window_events", "gauge")
	for i := range statuses {
		st := &statuses[i]
		windows(st, func(ws slo.WindowStats) {
			win := slo.FormatDuration(ws.Window)
			e.bounded("burnwatch_slo_window_events", float64(ws.Good()), "slo", st.SLO.Name, "window", win, "outcome", "good")
			e.bounded("burnwatch_slo_window_events", float64(ws.Bad), "slo", st.SLO.Name, "window", win, "outcome", "bad")
		})
	}
}

func tierWindows(st *slo.Status) []slo.WindowStats {
	out := make([]slo.WindowStats, 0, 2*len(st.Tiers))
	for _, t := range st.Tiers {
		out = append(out, t.Long, t.Short)
	}
	return out
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writePercentiles shows a flow's latency percentiles over one window, in
// seconds, as a summary would.
func writePercentiles(e *exposition, flow string, p slo.Percentiles) {
	if p.Count == 0 {
		return
	}
	win := slo.FormatDuration(p.Window)
	for _, q := range [...]struct {
		label string
		v     time.Duration
	}{{"0.5", p.P50}, {"0.9", p.P90}, {"0.95", p.P95}, {"0.99", p.P99}, {"0.999", p.P999}} {
		e.bounded("burnwatch_flow_latency_seconds", q.v.Seconds(), "flow", flow, "window", win, "quantile", q.label)
	}
}
