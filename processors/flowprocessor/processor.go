package flowprocessor

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/flows"
)

// flowProcessor classifies spans with the flows of the burnwatch extension's
// App and annotates them for the slo connector.
type flowProcessor struct {
	cfg *Config
	// app is set by start, before the first batch.
	app *app.App
	// batches recycles per-call scratch state so processing does not
	// allocate per span (nor, in steady state, per batch).
	batches sync.Pool
}

// batch is the scratch state of one processTraces call, for one set of
// flows (a spec reload brings another). Counts are summed locally and added
// to the shared counters once per call, so concurrent pipelines do not
// contend on an atomic per span.
type batch struct {
	flows *app.Flows
	keys  []string
	in    flows.Input
	tally *app.Tally
}

func newBatch(fl *app.Flows) *batch {
	keys := fl.Classifier().Keys()
	return &batch{flows: fl, keys: keys, tally: fl.NewTally(),
		in: flows.Input{Span: make([]flows.Value, len(keys)), Resource: make([]flows.Value, len(keys))}}
}

func newFlowProcessor(cfg *Config) *flowProcessor { return &flowProcessor{cfg: cfg} }

func (p *flowProcessor) start(_ context.Context, host component.Host) error {
	a, err := burnwatchextension.FindApp(host, p.cfg.Extension)
	if err != nil {
		return err
	}
	p.app = a
	return nil
}

func (p *flowProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	fl := p.app.Flows()
	b, _ := p.batches.Get().(*batch)
	if b == nil || b.flows != fl {
		b = newBatch(fl)
	}
	p.process(td, b)
	fl.Add(b.tally)
	// The pdata strings b.in refers to are cleared, so a pooled batch does
	// not keep a finished request's data alive.
	clear(b.in.Span)
	clear(b.in.Resource)
	b.in.Name = ""
	p.batches.Put(b)
	return td, nil
}

// process classifies and annotates every span of td, counting into b.
func (p *flowProcessor) process(td ptrace.Traces, b *batch) {
	in := &b.in
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		fill(b.keys, in.Resource, rs.Resource().Attributes())
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				p.processSpan(spans.At(k), b)
			}
		}
	}
}

func (p *flowProcessor) processSpan(span ptrace.Span, b *batch) {
	in, t := &b.in, b.tally
	attrs := span.Attributes()
	t.Received++
	if p.cfg.TrustAnnotations {
		if v, ok := attrs.Get(flows.FlowAttribute); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			return // an agent classified it
		}
	}
	fill(b.keys, in.Span, attrs)
	in.Name = span.Name()
	// pdata numbers span kinds as OTLP does, and so does package flows.
	in.Kind = flows.SpanKind(span.Kind())
	in.Root = span.ParentSpanID().IsEmpty()
	in.StatusError = span.Status().Code() == ptrace.StatusCodeError
	r := b.flows.Classifier().Classify(in)
	if r.Entry {
		t.Entry++
	}
	if !r.Matched() {
		if r.Entry {
			t.Unmatched++
		}
		// Only this processor says which flow a span is in: what a client
		// set goes. (A matched span's are overwritten below.)
		flow := removeAll(attrs, flows.FlowAttribute)
		if removeAll(attrs, flows.ErrorAttribute) || flow {
			t.Removed++
		}
		return
	}
	t.Classified[r.Flow]++
	// Grow the attribute slice once, to the exact size, instead of letting
	// append double it. Put overwrites an attribute in place, so spans that
	// pass twice (or carry a client's value) cost no allocation.
	attrs.EnsureCapacity(attrs.Len() + 2)
	attrs.PutStr(flows.FlowAttribute, b.flows.EventFlow(r.Flow, in))
	attrs.PutBool(flows.ErrorAttribute, r.Error)
}

// removeAll removes every attribute named key (a client may send a key
// twice; Remove takes one) and reports whether there was any.
func removeAll(m pcommon.Map, key string) bool {
	removed := false
	for m.Remove(key) {
		removed = true
	}
	return removed
}

// fill copies the values of the classifier's keys out of m, without
// allocating: strings are shared, not copied.
func fill(keys []string, dst []flows.Value, m pcommon.Map) {
	for i, key := range keys {
		v, ok := m.Get(key)
		if !ok {
			dst[i] = flows.Value{}
			continue
		}
		dst[i] = valueOf(v)
	}
}

func valueOf(v pcommon.Value) flows.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return flows.Value{Kind: flows.ValueStr, Str: v.Str()}
	case pcommon.ValueTypeInt:
		return flows.Value{Kind: flows.ValueInt, Int: v.Int()}
	case pcommon.ValueTypeDouble:
		return flows.Value{Kind: flows.ValueDouble, Double: v.Double()}
	case pcommon.ValueTypeBool:
		return flows.Value{Kind: flows.ValueBool, Bool: v.Bool()}
	}
	// Present but not a scalar (bytes, slice, map, or an empty value):
	// exists sees it, comparisons do not.
	return flows.Value{Kind: flows.ValueOther}
}
