package sloconnector

import (
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
	// now is the clock; tests replace it.
	now func() time.Time

	self       *metrics.Set
	evalTime   *metrics.Histogram
	exportErrs *metrics.Counter

	startOnce, stopOnce sync.Once
	cancel              context.CancelFunc
	done                chan struct{}
	lastExport          time.Time
}

func newHost(cfg *Config, set connector.Settings, next consumer.Metrics) (*host, error) {
	specSet, err := specs.Load(cfg.Files...)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	engine, err := slo.NewEngine(specSet.SLOs, slo.Options{AllowedLateness: cfg.AllowedLateness, MaxFlows: cfg.MaxFlows})
	if err != nil {
		return nil, err
	}
	h := &host{cfg: cfg, logger: set.Logger, next: next, engine: engine, now: time.Now, self: metrics.NewSet()}
	h.evalTime = h.self.NewHistogram("burnwatch_evaluation_duration_seconds")
	h.exportErrs = h.self.NewCounter("burnwatch_sli_export_errors_total")
	h.self.RegisterMetricsWriter(h.writeEngineMetrics)
	if h.alerts, err = newAlertPath(cfg.Alerting, h.self, set.Logger); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *host) start(_ context.Context, _ component.Host) error {
	h.startOnce.Do(func() {
		metrics.RegisterSet(h.self)
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel = cancel
		h.done = make(chan struct{})
		h.logger.Info("slo engine started", zap.Int("slos", len(h.engine.Specs())), zap.Duration("evaluation_interval", h.cfg.EvaluationInterval))
		go h.run(ctx)
	})
	return nil
}

func (h *host) shutdown(ctx context.Context) error {
	var err error
	h.stopOnce.Do(func() {
		if h.cancel != nil {
			h.cancel()
			<-h.done
		}
		err = h.alerts.close(ctx)
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
	statuses := h.engine.Evaluate(now)
	h.alerts.update(now, statuses)
	h.evalTime.UpdateDuration(began)
	if now.Sub(h.lastExport) >= h.cfg.MetricsInterval {
		h.lastExport = now
		if err := h.next.ConsumeMetrics(ctx, sliMetrics(statuses, now)); err != nil && !errors.Is(err, context.Canceled) {
			h.exportErrs.Inc()
		}
	}
}

func (h *host) observe(evs []slo.Event) { h.engine.Observe(h.now(), evs) }

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
	for _, f := range h.engine.Flows() {
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_events_total{flow=%q}", f.Flow), f.Events)
		metrics.WriteCounterUint64(w, fmt.Sprintf("burnwatch_flow_errors_total{flow=%q}", f.Flow), f.Errors)
	}
	metrics.WriteGaugeUint64(w, "burnwatch_alerts_firing", uint64(h.alerts.firing()))
}
