package app

import (
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/burnwatch/burnwatch/slo"
)

// counters are the App's own hot counters.
type counters struct {
	evalTime *metrics.Histogram
	// unknownFlow counts producers' events of flows the specs do not
	// define; refused those refused while storage was not durable.
	unknownFlow atomic.Uint64
	refused     atomic.Uint64
}

// registerMetrics builds the App's own metrics set. Everything per flow
// and per SLO is written from the current state at each scrape, not
// registered one by one, so a flow costs nothing per span and one removed
// from the specs leaves /metrics.
func (a *App) registerMetrics() {
	a.counters.evalTime = a.self.NewHistogram("burnwatch_evaluation_duration_seconds")
	a.self.RegisterMetricsWriter(a.writeMetrics)
}

// Counter returns the counter of the App's metrics named name, creating it:
// adapters count what they see in the App's own set.
func (a *App) Counter(name string) *metrics.Counter { return a.self.GetOrCreateCounter(name) }

// WriteMetrics writes the App's metrics in the Prometheus text format.
func (a *App) WriteMetrics(w io.Writer) { a.self.WritePrometheus(w) }

func (a *App) writeMetrics(w io.Writer) {
	a.flows.writeMetrics(w)
	metrics.WriteCounterUint64(w, "burnwatch_events_unknown_flow_total", a.counters.unknownFlow.Load())
	metrics.WriteCounterUint64(w, "burnwatch_events_refused_total", a.counters.refused.Load())
	st := a.engine.Stats()
	metrics.WriteCounterUint64(w, "burnwatch_events_total", st.Events)
	metrics.WriteCounterUint64(w, "burnwatch_events_late_total", st.Late)
	metrics.WriteCounterUint64(w, "burnwatch_events_too_late_total", st.TooLate)
	metrics.WriteCounterUint64(w, "burnwatch_events_future_total", st.Future)
	metrics.WriteCounterUint64(w, "burnwatch_events_flow_overflow_total", st.Overflow)
	metrics.WriteGaugeUint64(w, "burnwatch_flows", st.Flows)
	now := time.Now()
	for _, f := range a.engine.Flows() {
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_events_total{flow=%q}", f.Flow), f.Events)
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_errors_total{flow=%q}", f.Flow), f.Errors)
		for _, p := range a.engine.FlowPercentiles(f.Flow, now) {
			writePercentiles(w, f.Flow, p)
		}
	}
	if a.persist == nil {
		metrics.WriteGaugeUint64(w, "burnwatch_storage_durable", 0)
	}
	// Rendered into memory first: a slow client must not hold up the
	// evaluation that waits to show its next statuses.
	var buf bytes.Buffer
	a.ReadStatuses(func(_ time.Time, statuses []slo.Status) { writeSLIs(&buf, statuses) })
	_, _ = w.Write(buf.Bytes())
}

// writeSLIs shows the newest evaluation's windows, so Prometheus can scrape
// the same numbers the alerts were decided on.
func writeSLIs(w io.Writer, statuses []slo.Status) {
	for i := range statuses {
		st := &statuses[i]
		name := st.SLO.Name
		metrics.WriteGaugeFloat64(w, fmt.Sprintf("burnwatch_slo_error_budget_remaining{slo=%q}", name), st.BudgetLeft)
		seen := map[time.Duration]bool{}
		window := func(ws slo.WindowStats) {
			if seen[ws.Window] {
				return
			}
			seen[ws.Window] = true
			win := ws.Window.String()
			metrics.WriteGaugeUint64(w, fmt.Sprintf("burnwatch_slo_window_events{slo=%q,window=%q,outcome=\"good\"}", name, win), ws.Good())
			metrics.WriteGaugeUint64(w, fmt.Sprintf("burnwatch_slo_window_events{slo=%q,window=%q,outcome=\"bad\"}", name, win), ws.Bad)
			metrics.WriteGaugeFloat64(w, fmt.Sprintf("burnwatch_slo_burn_rate{slo=%q,window=%q}", name, win), ws.Burn)
		}
		window(st.Period)
		for _, t := range st.Tiers {
			window(t.Long)
			window(t.Short)
			firing := uint64(0)
			if t.Firing {
				firing = 1
			}
			metrics.WriteGaugeUint64(w, fmt.Sprintf("burnwatch_slo_tier_condition{slo=%q,tier=%q}", name, t.Tier.Name), firing)
		}
	}
}

// writePercentiles shows a flow's latency percentiles over one window, in
// seconds, as a summary would.
func writePercentiles(w io.Writer, flow string, p slo.Percentiles) {
	win := p.Window.String()
	metrics.WriteGaugeUint64(w, fmt.Sprintf("burnwatch_flow_latency_count{flow=%q,window=%q}", flow, win), p.Count)
	if p.Count == 0 {
		return
	}
	for _, q := range [...]struct {
		label string
		v     time.Duration
	}{{"0.5", p.P50}, {"0.9", p.P90}, {"0.95", p.P95}, {"0.99", p.P99}, {"0.999", p.P999}} {
		metrics.WriteGaugeFloat64(w, fmt.Sprintf("burnwatch_flow_latency_seconds{flow=%q,window=%q,quantile=%q}", flow, win, q.label), q.v.Seconds())
	}
}
