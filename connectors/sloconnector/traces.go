package sloconnector

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// tracesConnector turns spans the flow processor classified into events
// for the burnwatch extension's App, and sends the App's SLI metrics down
// the metrics pipeline. The collector makes one per pipeline pair; they all
// feed the one App.
type tracesConnector struct {
	cfg    *Config
	logger *zap.Logger
	next   consumer.Metrics

	// Set by Start.
	app            *app.App
	badAnnotations *metrics.Counter
	exportErrs     *metrics.Counter
	// agent exports the App's aggregates in agent mode (agent.go).
	agent    *agentExport
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
}

var eventBufs = sync.Pool{New: func() any { b := make([]slo.Event, 0, 256); return &b }}

func (c *tracesConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start finds the App and starts the SLI export.
func (c *tracesConnector) Start(_ context.Context, host component.Host) error {
	a, err := burnwatchextension.FindApp(host, c.cfg.Extension)
	if err != nil {
		return err
	}
	c.app = a
	c.badAnnotations = a.Counter("burnwatch_spans_bad_annotation_total")
	c.exportErrs = a.Counter("burnwatch_sli_export_errors_total")
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.export(ctx)
	if cfg, ok := a.IsAgent(); ok {
		c.agent = startAgentExport(a, cfg, c.next, c.logger)
	}
	return nil
}

// Shutdown stops the SLI export and, on an agent, sends what was counted
// since the last cut; it is safe to call twice and without Start.
func (c *tracesConnector) Shutdown(ctx context.Context) error {
	c.stopOnce.Do(func() {
		if c.cancel != nil {
			c.cancel()
			<-c.done
		}
		if c.agent != nil {
			c.agent.stop(ctx)
		}
	})
	return nil
}

// export sends the newest evaluation's SLI metrics every MetricsInterval.
func (c *tracesConnector) export(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.cfg.MetricsInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			var md pmetric.Metrics
			some := false
			c.app.ReadStatuses(func(at time.Time, statuses []slo.Status) {
				if some = len(statuses) > 0; some {
					md = sliMetrics(statuses, at)
				}
			})
			if !some {
				continue
			}
			if err := c.next.ConsumeMetrics(ctx, md); err != nil && !errors.Is(err, context.Canceled) {
				c.exportErrs.Inc()
			}
		}
	}
}

// ConsumeTraces turns spans the flow processor classified into events;
// unclassified spans were already counted by the processor. An error from
// the App (storage cannot keep the batch) goes back to the sender, who
// retries.
func (c *tracesConnector) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	bp := eventBufs.Get().(*[]slo.Event)
	evs := (*bp)[:0]
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				span := spans.At(k)
				attrs := span.Attributes()
				fv, ok := attrs.Get(flows.FlowAttribute)
				if !ok {
					continue
				}
				if fv.Type() != pcommon.ValueTypeStr || fv.Str() == "" {
					// Not set by a flow processor: count it, do not invent a
					// flow named "".
					c.badAnnotations.Inc()
					continue
				}
				ev := slo.Event{
					Flow:    fv.Str(),
					End:     int64(span.EndTimestamp()),
					TraceID: span.TraceID(),
					SpanID:  span.SpanID(),
				}
				if end, start := span.EndTimestamp(), span.StartTimestamp(); end > start {
					ev.Duration = time.Duration(end - start)
				}
				if errv, ok := attrs.Get(flows.ErrorAttribute); ok {
					ev.Error = errv.Bool()
				}
				evs = append(evs, ev)
			}
		}
	}
	var err error
	if len(evs) > 0 {
		err = c.app.Observe(evs)
	}
	clear(evs) // drop references to the request's strings
	*bp = evs[:0]
	eventBufs.Put(bp)
	return err
}
