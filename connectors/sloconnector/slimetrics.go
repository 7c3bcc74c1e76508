package sloconnector

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/slo"
)

const scopeName = "github.com/burnwatch/burnwatch/connectors/sloconnector"

// sliMetrics renders statuses as OTLP gauges, so any metrics exporter (OTLP,
// Prometheus remote write) can chart what the engine alerts on.
func sliMetrics(statuses []slo.Status, now time.Time) pmetric.Metrics {
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "burnwatch")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName(scopeName)
	ts := pcommon.NewTimestampFromTime(now)

	gauge := func(name, unit, desc string) pmetric.NumberDataPointSlice {
		m := sm.Metrics().AppendEmpty()
		m.SetName(name)
		m.SetUnit(unit)
		m.SetDescription(desc)
		return m.SetEmptyGauge().DataPoints()
	}
	target := gauge("burnwatch.slo.target", "1", "The SLO's target good fraction.")
	budget := gauge("burnwatch.slo.error_budget.remaining", "1", "Share of the period's error budget left; negative when overspent.")
	burn := gauge("burnwatch.slo.burn_rate", "1", "Error budget burn rate over a window: bad share over (1 - target).")
	events := gauge("burnwatch.slo.window.events", "{event}", "Events in a window, by outcome.")
	firing := gauge("burnwatch.slo.alert.condition", "1", "1 while a tier's burn condition holds.")

	for i := range statuses {
		st := &statuses[i]
		point := func(s pmetric.NumberDataPointSlice) pmetric.NumberDataPoint {
			dp := s.AppendEmpty()
			dp.SetTimestamp(ts)
			dp.Attributes().PutStr("slo", st.SLO.Name)
			dp.Attributes().PutStr("flow", st.SLO.Flow)
			return dp
		}
		point(target).SetDoubleValue(st.SLO.Target)
		point(budget).SetDoubleValue(st.BudgetLeft)
		seen := map[time.Duration]bool{}
		window := func(w slo.WindowStats) {
			if seen[w.Window] {
				return
			}
			seen[w.Window] = true
			win := slo.FormatDuration(w.Window)
			dp := point(burn)
			dp.Attributes().PutStr("window", win)
			dp.SetDoubleValue(w.Burn)
			for _, o := range [...]struct {
				outcome string
				n       uint64
			}{{"good", w.Good()}, {"bad", w.Bad}} {
				dp := point(events)
				dp.Attributes().PutStr("window", win)
				dp.Attributes().PutStr("outcome", o.outcome)
				dp.SetIntValue(int64(o.n))
			}
		}
		window(st.Period)
		for _, t := range st.Tiers {
			window(t.Long)
			window(t.Short)
			dp := point(firing)
			dp.Attributes().PutStr("tier", t.Tier.Name)
			dp.Attributes().PutStr("severity", string(t.Tier.Severity))
			v := 0.0
			if t.Firing {
				v = 1
			}
			dp.SetDoubleValue(v)
		}
	}
	return md
}
