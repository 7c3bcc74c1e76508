package sloconnector

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

type tracesConnector struct {
	shared   *sharedHost
	id       component.ID
	stopOnce sync.Once
}

var eventBufs = sync.Pool{New: func() any { b := make([]slo.Event, 0, 256); return &b }}

func (c *tracesConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

func (c *tracesConnector) Start(ctx context.Context, host component.Host) error {
	return c.shared.start(ctx, host)
}

func (c *tracesConnector) Shutdown(ctx context.Context) error {
	var err error
	c.stopOnce.Do(func() {
		if release(c.id, c.shared) {
			err = c.shared.shutdown(ctx)
		}
	})
	return err
}

// ConsumeTraces turns spans the flow processor classified into engine
// events; unclassified spans were already counted by the processor.
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
					c.shared.badAnnotations.Inc()
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
	if len(evs) > 0 {
		c.shared.observe(evs)
	}
	clear(evs) // drop references to the request's strings
	*bp = evs[:0]
	eventBufs.Put(bp)
	return nil
}
