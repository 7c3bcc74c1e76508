package sloconnector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// host owns one engine, its evaluation loop and the alerting behind it.
type host struct {
	cfg    *Config
	logger *zap.Logger
	next   consumer.Metrics
	engine *slo.Engine
	alerts *alertPath
	// persist is nil when storage is off.
	persist *persistence
	// now is the clock; tests replace it.
	now func() time.Time

	self       *metrics.Set
	evalTime   *metrics.Histogram
	exportErrs *metrics.Counter
	// badAnnotations counts spans whose burnwatch.flow is not a non-empty
	// string.
	badAnnotations *metrics.Counter

	startOnce, stopOnce sync.Once
	startErr            error
	cancel              context.CancelFunc
	done                chan struct{}
	lastExport          time.Time
	lastCheckpoint      time.Time

	// evals are storage for two evaluations: evaluate writes into the one
	// /metrics does not show (evals[1-shown]) and then shows it. lastMu
	// guards last, the statuses shown, and shown; a scrape holds it for
	// reading while it renders last, so evaluate never overwrites statuses
	// a scrape is reading.
	evals  [2]slo.Evaluation
	lastMu sync.RWMutex
	last   []slo.Status
	shown  int
}

func newHost(cfg *Config, set connector.Settings, next consumer.Metrics) (*host, error) {
	specSet, err := specs.Load(cfg.Files...)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	engine, err := slo.NewEngine(specSet.SLOs, slo.Options{AllowedLateness: cfg.AllowedLateness, MaxFlows: cfg.MaxFlows, Deltas: cfg.Storage.Directory != ""})
	if err != nil {
		return nil, err
	}
	h := &host{cfg: cfg, logger: set.Logger, next: next, engine: engine, now: time.Now, self: metrics.NewSet()}
	h.evalTime = h.self.NewHistogram("burnwatch_evaluation_duration_seconds")
	h.exportErrs = h.self.NewCounter("burnwatch_sli_export_errors_total")
	h.badAnnotations = h.self.NewCounter("burnwatch_spans_bad_annotation_total")
	h.self.RegisterMetricsWriter(h.writeEngineMetrics)
	if h.alerts, err = newAlertPath(cfg.Alerting, h.self, set.Logger); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *host) start(_ context.Context, _ component.Host) error {
	h.startOnce.Do(func() {
		metrics.RegisterSet(h.self)
		if h.cfg.Storage.Directory != "" {
			h.openStorage()
		}
		h.lastCheckpoint = h.now()
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel = cancel
		h.done = make(chan struct{})
		h.logger.Info("slo engine started", zap.Int("slos", len(h.engine.Specs())), zap.Duration("evaluation_interval", h.cfg.EvaluationInterval))
		go h.run(ctx)
	})
	return h.startErr
}

// openStorage restores state from disk. A directory that cannot be used is
// reported and counted, and the daemon goes on from memory: losing history
// is better than not alerting.
func (h *host) openStorage() {
	p, err := openPersistence(h.cfg.Storage, h.self, h.logger)
	if err != nil {
		h.self.GetOrCreateCounter("burnwatch_storage_errors_total").Inc()
		h.logger.Error("storage unavailable; state and alert history are kept in memory only", zap.Error(err))
		return
	}
	began := time.Now()
	if err := p.restore(h.engine, h.alerts); err != nil {
		h.logger.Error("restoring state", zap.Error(err))
	}
	h.logger.Info("state restored", zap.Duration("took", time.Since(began)))
	h.persist = p
	h.alerts.persist = p
}

func (h *host) shutdown(ctx context.Context) error {
	var err error
	h.stopOnce.Do(func() {
		if h.cancel != nil {
			h.cancel()
			<-h.done
		}
		err = h.alerts.close(ctx)
		if h.persist != nil {
			// After the dispatcher: what it could not deliver is in the
			// checkpoint and is sent after the restart.
			h.persist.checkpoint(h.engine, h.alerts, h.now())
			err = errors.Join(err, h.persist.close())
		}
		metrics.UnregisterSet(h.self, true)
	})
	return err
}

func (h *host) run(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(h.cfg.EvaluationInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			h.evaluate(ctx)
		}
	}
}

// evaluate runs one evaluation: burn rates, alert transitions, and now and
// then the SLI metrics.
func (h *host) evaluate(ctx context.Context) {
	began := time.Now()
	now := h.now()
	// Only this goroutine changes shown, so it reads it unlocked.
	next := 1 - h.shown
	statuses := h.engine.EvaluateInto(&h.evals[next], now)
	h.alerts.update(now, statuses)
	h.lastMu.Lock()
	h.last, h.shown = statuses, next
	h.lastMu.Unlock()
	h.evalTime.UpdateDuration(began)
	if h.persist != nil && now.Sub(h.lastCheckpoint) >= h.cfg.Storage.CheckpointInterval {
		h.lastCheckpoint = now
		h.persist.checkpoint(h.engine, h.alerts, now)
	}
	if now.Sub(h.lastExport) >= h.cfg.MetricsInterval {
		h.lastExport = now
		if err := h.next.ConsumeMetrics(ctx, sliMetrics(statuses, now)); err != nil && !errors.Is(err, context.Canceled) {
			h.exportErrs.Inc()
		}
	}
}

// observe counts a batch and, with storage on, writes it to the WAL before
// the batch is acknowledged.
func (h *host) observe(evs []slo.Event) {
	h.engine.Observe(h.now(), evs)
	if h.persist != nil {
		h.persist.appendDelta(h.engine)
	}
}

// writeEngineMetrics exposes the engine's counters on /metrics. Flows are
// written here, not registered one by one, so a flow costs nothing per span.
func (h *host) writeEngineMetrics(w io.Writer) {
	st := h.engine.Stats()
	metrics.WriteCounterUint64(w, "burnwatch_events_total", st.Events)
	metrics.WriteCounterUint64(w, "burnwatch_events_late_total", st.Late)
	metrics.WriteCounterUint64(w, "burnwatch_events_too_late_total", st.TooLate)
	metrics.WriteCounterUint64(w, "burnwatch_events_future_total", st.Future)
	metrics.WriteCounterUint64(w, "burnwatch_events_flow_overflow_total", st.Overflow)
	metrics.WriteGaugeUint64(w, "burnwatch_flows", st.Flows)
	now := h.now()
	for _, f := range h.engine.Flows() {
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_events_total{flow=%q}", f.Flow), f.Events)
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_errors_total{flow=%q}", f.Flow), f.Errors)
		for _, p := range h.engine.FlowPercentiles(f.Flow, now) {
			writePercentiles(w, f.Flow, p)
		}
	}
	metrics.WriteGaugeUint64(w, "burnwatch_alerts_firing", uint64(h.alerts.firing()))
	// Rendered into memory first: a slow client must not hold up the
	// evaluation that waits to show its next statuses.
	var buf bytes.Buffer
	h.lastMu.RLock()
	writeSLIs(&buf, h.last)
	h.lastMu.RUnlock()
	w.Write(buf.Bytes())
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
