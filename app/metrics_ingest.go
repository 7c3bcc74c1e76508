package app

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// metricIngest is the metric SLI runtime of the App: one for the App's
// life, so cumulative streams keep their baselines across spec reloads;
// the Indicators follow the specs (core) in use.
type metricIngest struct {
	// mu guards everything below; batches are ingested one at a time.
	mu sync.Mutex
	rt *metricsli.Runtime
	// core is the spec set rt's Indicators are from.
	core *core
	// logged are the problems logged, by SLO, so each is logged once
	// when it begins rather than once per point.
	logged map[string]string
	// refused counts points refused while storage was not durable.
	refused atomic.Uint64
	// inflight counts batches between the runtime and the WAL; closed is
	// set at a clean stop, after which batches are refused (metricState).
	inflight int
	closed   bool
	// restored is the state a clean stop left, for the runtime the first
	// batch builds.
	restored *metricsli.State
}

// countBufs hold a batch's counts between the runtime and the engine.
var countBufs = sync.Pool{New: func() any { return new([]slo.Counts) }}

// metricGroups are the grouped flows of the metric SLOs that group, as the
// group registry keeps them: `sum by (http_route)` splits the SLO's flow
// metric:<slo> by the label http_route, as a Flow's group_by splits spans'
// flows, with the same cap. `sum without` does not name its groups' labels
// and sums every group into the SLO.
func metricGroups(set *specs.Set) []flows.Spec {
	var out []flows.Spec
	for _, name := range slices.Sorted(maps.Keys(set.Indicators)) {
		if g := set.Indicators[name].Grouping; !g.Without && len(g.Labels) > 0 {
			out = append(out, flows.Spec{Name: metricsli.FlowName(name), GroupBy: g.Labels})
		}
	}
	return out
}

// metricGroup names the flow of a metric SLO's group, registering a new
// group (the next batch's engine has its SLO copy).
func (a *App) metricGroup(flow string, vals []flows.Value) string {
	r := a.reload.groups
	fg := r.of(flow)
	if fg == nil {
		return flow
	}
	return r.name(fg, vals)
}

// ObserveMetrics counts the events that a batch of OTLP metric data points
// says happened, for the SLOs that metric indicators measure (see
// docs/indicators.md): a producer (the slo connector's metrics path) turns
// pdata into points. Points no indicator names are counted as unused in
// /metrics and dropped. With storage on, the counts are written to the WAL
// before it returns, as Observe's are; under storage.acknowledge: durable
// it returns ErrNotDurable, counting nothing, while storage cannot be
// written. A point an SLO cannot read (a threshold between histogram
// bounds, say) is logged once per SLO and problem, and counted by reason.
func (a *App) ObserveMetrics(pts []metricsli.Point) error {
	if len(pts) == 0 {
		return nil
	}
	now := a.clock.Now()
	a.syncGroups()
	a.swapMu.RLock()
	defer a.swapMu.RUnlock()
	c := a.core.Load()
	p := a.persist
	m := &a.metricIngest
	if p != nil && a.cfg.Storage.Acknowledge == AckDurable && !p.durable.Load() {
		m.refused.Add(uint64(len(pts)))
		return ErrNotDurable
	}
	buf := countBufs.Get().(*[]slo.Counts)
	defer func() {
		clear(*buf) // drop the flow names
		*buf = (*buf)[:0]
		countBufs.Put(buf)
	}()
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrStopping
	}
	if m.core != c {
		if err := a.useIndicators(c); err != nil {
			m.mu.Unlock()
			return err
		}
	}
	*buf = m.rt.Ingest(now, pts, (*buf)[:0])
	a.logProblems()
	m.inflight++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inflight--
		m.mu.Unlock()
	}()
	if len(*buf) == 0 {
		return nil
	}
	if g := a.reload.groups; g.want.Load() > g.have.Load() {
		// The batch met new groups: their SLOs come with the next
		// engine, which must count them.
		a.swapMu.RUnlock()
		a.syncGroups()
		a.swapMu.RLock()
		c = a.core.Load()
	}
	c.engine.ObserveCounts(now, *buf)
	if p != nil {
		p.appendDelta(c.engine)
	}
	return nil
}

// useIndicators points the runtime at the Indicators of c, building it at
// the first batch. m.mu must be held.
func (a *App) useIndicators(c *core) error {
	m := &a.metricIngest
	if m.rt == nil {
		began := a.started
		if began.IsZero() {
			began = a.clock.Now()
		}
		rt, err := metricsli.NewRuntime(c.specs.Indicators, metricsli.Options{Began: began, Group: a.metricGroup})
		if err != nil {
			return err
		}
		if m.restored != nil {
			rt.Restore(*m.restored)
			m.restored = nil
		}
		m.rt, m.logged = rt, map[string]string{}
	} else if err := m.rt.SetIndicators(c.specs.Indicators); err != nil {
		return err
	}
	m.core = c
	return nil
}

// logProblems logs each SLO's problem once when it begins, and once when
// it is over. m.mu must be held.
func (a *App) logProblems() {
	m := &a.metricIngest
	problems := m.rt.Problems()
	if len(problems) == 0 && len(m.logged) == 0 {
		return
	}
	for _, pr := range problems {
		if m.logged[pr.SLO] == pr.Message {
			continue
		}
		m.logged[pr.SLO] = pr.Message
		a.logger.Warn("metric SLO counts nothing from its data points", zap.String("slo", pr.SLO),
			zap.String("reason", pr.Reason), zap.String("problem", pr.Message))
	}
	for name := range m.logged {
		if !slices.ContainsFunc(problems, func(pr metricsli.Problem) bool { return pr.SLO == name }) {
			delete(m.logged, name)
			a.logger.Info("metric SLO counts its data points again", zap.String("slo", name))
		}
	}
}

// Help texts of the metric SLI families, beside the others'.
func init() {
	help["burnwatch_metric_points_total"] = "OTLP metric data points by outcome: counted (read by an SLO's indicator), unused (no indicator names them or their attributes), baseline (a cumulative stream's first point), rejected (by reason below), refused (storage not durable)."
	help["burnwatch_metric_points_rejected_total"] = "Metric data points an indicator could not use, by reason: malformed, unsupported_type, between_bounds, no_buckets, unit_not_time, out_of_order, stream_overflow, buckets_changed."
	help["burnwatch_metric_streams"] = "Cumulative metric streams whose last point is kept (capped; a new stream past the cap is rejected as stream_overflow)."
	help["burnwatch_metric_slo_problem"] = "1 while a metric SLO counts nothing from its data points, by reason; the log says why."
}

// writeMetricPoints writes the metric SLI runtime's counters.
func (a *App) writeMetricPoints(e *exposition) {
	m := &a.metricIngest
	m.mu.Lock()
	rt := m.rt
	m.mu.Unlock()
	var st metricsli.Stats
	var problems []metricsli.Problem
	if rt != nil {
		st, problems = rt.Stats(), rt.Problems()
	}
	var rejected uint64
	for _, n := range st.Rejected {
		rejected += n
	}
	e.family("burnwatch_metric_points_total", "counter")
	for _, o := range [...]struct {
		outcome string
		n       uint64
	}{{"counted", st.Counted}, {"unused", st.Unused}, {"baseline", st.Baseline}, {"rejected", rejected}, {"refused", m.refused.Load()}} {
		e.sample("burnwatch_metric_points_total", float64(o.n), "outcome", o.outcome)
	}
	e.family("burnwatch_metric_points_rejected_total", "counter")
	for _, r := range metricsli.Reasons {
		e.sample("burnwatch_metric_points_rejected_total", float64(st.Rejected[r]), "reason", r)
	}
	e.single("burnwatch_metric_streams", "gauge", float64(st.Streams))
	e.family("burnwatch_metric_slo_problem", "gauge")
	for _, pr := range problems {
		e.bounded("burnwatch_metric_slo_problem", 1, "slo", pr.SLO, "reason", pr.Reason)
	}
}
