package flowprocessor

import (
	"context"
	"strings"
	"sync"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/specs"
)

// Self-metric names. Every span adds to received; an entry span adds to
// entry and then to the classified counter of its flow or to unmatched; a
// non-entry span adds to classified only when an entry_spans_only: false flow
// takes it.
const (
	metricReceived   = "burnwatch_spans_received_total"
	metricEntry      = "burnwatch_spans_entry_total"
	metricClassified = "burnwatch_spans_classified_total"
	metricUnmatched  = "burnwatch_spans_unmatched_total"
)

type flowProcessor struct {
	cls   *flows.Classifier
	keys  []string
	names []string // flow names by index, for the span attribute

	received   *metrics.Counter
	entry      *metrics.Counter
	unmatched  *metrics.Counter
	classified []*metrics.Counter // by flow index

	// batches recycles per-call scratch state so processing does not
	// allocate per span (nor, in steady state, per batch).
	batches sync.Pool
}

// batch is the scratch state of one processTraces call. Counts are summed
// locally and added to the shared counters once per call, so concurrent
// pipelines do not contend on an atomic per span.
type batch struct {
	in                         flows.Input
	received, entry, unmatched int
	classified                 []int
}

func newFlowProcessor(set *specs.Set) (*flowProcessor, error) {
	cls, err := set.Classifier()
	if err != nil {
		return nil, err
	}
	p := &flowProcessor{
		cls:        cls,
		keys:       cls.Keys(),
		names:      make([]string, cls.Len()),
		received:   metrics.GetOrCreateCounter(metricReceived),
		entry:      metrics.GetOrCreateCounter(metricEntry),
		unmatched:  metrics.GetOrCreateCounter(metricUnmatched),
		classified: make([]*metrics.Counter, cls.Len()),
	}
	for i := range p.names {
		p.names[i] = cls.Name(i)
		// Names and counters are made once here: the per-span path formats
		// nothing. GetOrCreate, since a collector may build the processor
		// once per pipeline and all share the default set.
		p.classified[i] = metrics.GetOrCreateCounter(metricClassified + `{flow="` + escapeLabel(p.names[i]) + `"}`)
	}
	n := len(p.keys)
	p.batches.New = func() any {
		return &batch{
			in:         flows.Input{Span: make([]flows.Value, n), Resource: make([]flows.Value, n)},
			classified: make([]int, cls.Len()),
		}
	}
	return p, nil
}

// escapeLabel escapes a Prometheus label value. Spec names are plain already
// (package specs checks them); this keeps the exposition valid regardless.
func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

func (p *flowProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	b := p.batches.Get().(*batch)
	p.process(td, b)
	p.flush(b)
	p.batches.Put(b)
	return td, nil
}

// process classifies and annotates every span of td, counting into b.
func (p *flowProcessor) process(td ptrace.Traces, b *batch) {
	in := &b.in
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		p.fill(in.Resource, rs.Resource().Attributes())
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
	in := &b.in
	attrs := span.Attributes()
	p.fill(in.Span, attrs)
	in.Name = span.Name()
	// pdata numbers span kinds as OTLP does, and so does package flows.
	in.Kind = flows.SpanKind(span.Kind())
	in.Root = span.ParentSpanID().IsEmpty()
	in.StatusError = span.Status().Code() == ptrace.StatusCodeError

	r := p.cls.Classify(in)
	b.received++
	if r.Entry {
		b.entry++
	}
	if !r.Matched() {
		if r.Entry {
			b.unmatched++
		}
		return
	}
	b.classified[r.Flow]++
	// Grow the attribute slice once, to the exact size, instead of letting
	// append double it.
	attrs.EnsureCapacity(attrs.Len() + 2)
	attrs.PutStr(flows.FlowAttribute, p.names[r.Flow])
	attrs.PutBool(flows.ErrorAttribute, r.Error)
}

// fill copies the values of the classifier's keys out of m, without
// allocating: strings are shared, not copied.
func (p *flowProcessor) fill(dst []flows.Value, m pcommon.Map) {
	for i, key := range p.keys {
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

// flush adds b's counts to the self-metrics and zeroes b for reuse. The
// pdata strings b.in refers to are cleared too, so a pooled batch does not
// keep a finished request's data alive.
func (p *flowProcessor) flush(b *batch) {
	p.received.Add(b.received)
	p.entry.Add(b.entry)
	p.unmatched.Add(b.unmatched)
	for i, n := range b.classified {
		if n > 0 {
			p.classified[i].Add(n)
			b.classified[i] = 0
		}
	}
	b.received, b.entry, b.unmatched = 0, 0, 0
	clear(b.in.Span)
	clear(b.in.Resource)
	b.in.Name = ""
}
