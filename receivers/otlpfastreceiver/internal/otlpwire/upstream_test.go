package otlpwire

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// upstreamResult is what the upstream path makes of a request.
type upstreamResult struct {
	events []slo.Event
	flow   []int32
	counts Counts
}

// upstream is the upstream path as a model: pdata decodes the request as
// the otlp receiver does (ptraceotlp.ExportRequest), each span is
// classified as processors/flowprocessor classifies it and becomes an event
// as connectors/sloconnector makes one. It applies the fast path's
// deliberate difference (a span that ends before it starts is rejected, not
// a 0 ms success) and reads a repeated annotation as its first occurrence,
// which is what the flow processor means (it removes only the first of a
// client's repeated burnwatch.flow: see the receiver's TestSpoofedRepeats).
// The receiver's equivalence tests drive the real components instead.
func upstream(cls *flows.Classifier, trust bool, data []byte, isJSON bool) (upstreamResult, error) {
	req := ptraceotlp.NewExportRequest()
	var err error
	if isJSON {
		err = req.UnmarshalJSON(data)
	} else {
		err = req.UnmarshalProto(data)
	}
	if err != nil {
		return upstreamResult{}, err
	}
	var r upstreamResult
	keys := cls.Keys()
	in := flows.Input{Span: make([]flows.Value, len(keys)), Resource: make([]flows.Value, len(keys))}
	rss := req.Traces().ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		fill(in.Resource, keys, rs.Resource().Attributes())
		for j := 0; j < rs.ScopeSpans().Len(); j++ {
			spans := rs.ScopeSpans().At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				classify(cls, trust, &in, keys, spans.At(k), &r)
			}
		}
	}
	return r, nil
}

func classify(cls *flows.Classifier, trust bool, in *flows.Input, keys []string, span ptrace.Span, r *upstreamResult) {
	if span.EndTimestamp() < span.StartTimestamp() {
		r.counts.EndBeforeStart++
		return
	}
	attrs := span.Attributes()
	r.counts.Received++
	ev := slo.Event{End: int64(span.EndTimestamp()), TraceID: span.TraceID(), SpanID: span.SpanID()}
	if end, start := span.EndTimestamp(), span.StartTimestamp(); end > start {
		ev.Duration = time.Duration(end - start)
	}
	errorOf := func() bool {
		v, ok := attrs.Get(flows.ErrorAttribute)
		return ok && v.Bool()
	}
	if trust {
		if v, ok := attrs.Get(flows.FlowAttribute); ok && v.Type() == pcommon.ValueTypeStr && v.Str() != "" {
			ev.Flow, ev.Error = v.Str(), errorOf()
			r.events = append(r.events, ev)
			r.flow = append(r.flow, -1)
			return
		}
	}
	fill(in.Span, keys, attrs)
	in.Name = span.Name()
	in.Kind = flows.SpanKind(span.Kind())
	in.Root = span.ParentSpanID().IsEmpty()
	in.StatusError = span.Status().Code() == ptrace.StatusCodeError
	res := cls.Classify(in)
	if res.Entry {
		r.counts.Entry++
	}
	if !res.Matched() {
		if res.Entry {
			r.counts.Unmatched++
		}
		_, f := attrs.Get(flows.FlowAttribute)
		_, e := attrs.Get(flows.ErrorAttribute)
		if f || e {
			r.counts.Removed++
		}
		return
	}
	ev.Flow, ev.Ref, ev.Error = cls.Name(res.Flow), uint32(res.Flow)+1, res.Error
	r.events = append(r.events, ev)
	r.flow = append(r.flow, int32(res.Flow))
}

// fill is the flow processor's: the value of each key, or absent.
func fill(dst []flows.Value, keys []string, m pcommon.Map) {
	for i, key := range keys {
		v, ok := m.Get(key)
		if !ok {
			dst[i] = flows.Value{}
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			dst[i] = flows.StrValue(v.Str())
		case pcommon.ValueTypeInt:
			dst[i] = flows.IntValue(v.Int())
		case pcommon.ValueTypeDouble:
			dst[i] = flows.DoubleValue(v.Double())
		case pcommon.ValueTypeBool:
			dst[i] = flows.BoolValue(v.Bool())
		default:
			dst[i] = flows.Value{Kind: flows.ValueOther}
		}
	}
}

// jsonDepth is how deeply data's arrays and objects nest, strings aside.
func jsonDepth(data []byte) int {
	depth, most, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}
