// Package otlpwiretest makes OTLP trace requests for the fast receiver's
// tests: random ones shaped to hit the flows of the receiver's
// testdata/specs (every attribute value type, empty and huge fields, events
// and links), and rewrites of an encoded request that pdata reads the same
// way or nearly (fields reordered, unknown fields and groups inserted,
// messages split, attributes repeated), for protobuf and JSON.
package otlpwiretest

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Options shape a generated request.
type Options struct {
	// MaxResources, MaxScopes and MaxSpans bound how many of each a request
	// (a resource, a scope) has; zero means 3, 2 and 8.
	MaxResources, MaxScopes, MaxSpans int
	// Backwards lets a span end before it starts (about one in eight).
	Backwards bool
	// Annotations gives some spans burnwatch.flow and burnwatch.error
	// attributes, as a client (or an agent) would set them.
	Annotations bool
	// Huge gives some attributes values of 64 KiB and more.
	Huge bool
}

// Keys are attribute keys the test flows read, and others.
var Keys = []string{
	"service.name", "http.route", "http.response.status_code", "rpc.method", "rpc.grpc.status_code",
	"messaging.destination.name", "error.type", "feature.enabled", "sample.rate", "http.request.method",
	"url.path", "tenant.id", "host.name", "", "x",
}

var strs = []string{
	"shop", "auth", "api", "spoof", "orders", "other", "/checkout/42", "/checkout", "/search", "/cart", "Login",
	"Refresh", "Logout", "GET", "POST", "/health/live", "/v1/x", "42", "7.5", "true", "acme", "13", "500",
	"404", "0.75", "", "checkout", "login", "no-such-flow", "GET /search/x", "ünïcödé", "a\x00b",
}

var ints = []int64{0, 1, 7, 13, 14, 42, 200, 404, 418, 499, 500, 503, -1, math.MaxInt64, math.MinInt64}

var doubles = []float64{0, 0.25, 0.5, 0.75, 1.5, 2, 7.5, 42, 404, 1e300, -1e-300, math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1)}

var names = []string{"GET /search/items", "GET /search", "GET /checkout", "POST /cart", "", "SELECT orders", "process orders"}

// Request returns the encoded protobuf and JSON of a random request.
func Request(rng *rand.Rand, o Options) (proto, json []byte) {
	req := ptraceotlp.NewExportRequestFromTraces(Traces(rng, o))
	p, err := req.MarshalProto()
	if err != nil {
		panic(err)
	}
	j, err := req.MarshalJSON()
	if err != nil {
		panic(err)
	}
	return p, j
}

// Traces returns random traces.
func Traces(rng *rand.Rand, o Options) ptrace.Traces {
	if o.MaxResources == 0 {
		o.MaxResources = 3
	}
	if o.MaxScopes == 0 {
		o.MaxScopes = 2
	}
	if o.MaxSpans == 0 {
		o.MaxSpans = 8
	}
	td := ptrace.NewTraces()
	for range rng.IntN(o.MaxResources + 1) {
		rs := td.ResourceSpans().AppendEmpty()
		if rng.IntN(4) > 0 {
			attrs(rng, rs.Resource().Attributes(), o, false)
		}
		if rng.IntN(4) == 0 {
			rs.SetSchemaUrl("https://opentelemetry.io/schemas/1.26.0")
		}
		for range rng.IntN(o.MaxScopes + 1) {
			ss := rs.ScopeSpans().AppendEmpty()
			if rng.IntN(2) == 0 {
				ss.Scope().SetName("lib")
				ss.Scope().SetVersion("1.0")
				attrs(rng, ss.Scope().Attributes(), o, false)
			}
			for range rng.IntN(o.MaxSpans + 1) {
				span(rng, ss.Spans().AppendEmpty(), o)
			}
		}
	}
	return td
}

func span(rng *rand.Rand, s ptrace.Span, o Options) {
	if rng.IntN(8) > 0 {
		s.SetTraceID(pcommon.TraceID(id16(rng)))
	}
	if rng.IntN(8) > 0 {
		s.SetSpanID(pcommon.SpanID(id8(rng)))
	}
	switch rng.IntN(3) {
	case 0: // a root
	case 1:
		s.SetParentSpanID(pcommon.SpanID(id8(rng)))
	default:
		s.SetParentSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, 0, 1})
	}
	s.SetName(names[rng.IntN(len(names))])
	s.SetKind(ptrace.SpanKind(rng.IntN(7))) // 6 is no kind OTLP defines
	start := uint64(1_700_000_000_000_000_000) + rng.Uint64N(1<<40)
	var dur uint64
	switch rng.IntN(6) {
	case 0:
	case 1:
		dur = rng.Uint64N(1000)
	default:
		dur = rng.Uint64N(10_000_000_000)
	}
	end := start + dur
	if o.Backwards && rng.IntN(8) == 0 {
		end = start - 1 - rng.Uint64N(1_000_000)
	}
	switch rng.IntN(10) {
	case 0:
		start = 0
	case 1:
		end, start = 0, 0
	}
	s.SetStartTimestamp(pcommon.Timestamp(start))
	s.SetEndTimestamp(pcommon.Timestamp(end))
	if rng.IntN(4) == 0 {
		s.TraceState().FromRaw("vendor=x")
	}
	attrs(rng, s.Attributes(), o, o.Annotations)
	switch rng.IntN(4) {
	case 0:
		s.Status().SetCode(ptrace.StatusCodeError)
		s.Status().SetMessage("boom")
	case 1:
		s.Status().SetCode(ptrace.StatusCodeOk)
	}
	for range rng.IntN(3) {
		e := s.Events().AppendEmpty()
		e.SetName("exception")
		e.SetTimestamp(pcommon.Timestamp(start + 1))
		attrs(rng, e.Attributes(), o, false)
	}
	for range rng.IntN(3) {
		l := s.Links().AppendEmpty()
		l.SetTraceID(pcommon.TraceID(id16(rng)))
		l.SetSpanID(pcommon.SpanID(id8(rng)))
		attrs(rng, l.Attributes(), o, false)
	}
	s.SetDroppedAttributesCount(uint32(rng.IntN(2)))
}

// attrs puts a few random attributes into m.
func attrs(rng *rand.Rand, m pcommon.Map, o Options, annotate bool) {
	for range rng.IntN(7) {
		value(rng, m.PutEmpty(Keys[rng.IntN(len(Keys))]), o, 0)
	}
	if annotate && rng.IntN(3) == 0 {
		v := m.PutEmpty("burnwatch.flow")
		switch rng.IntN(5) {
		case 0:
			v.SetInt(7)
		case 1:
			v.SetStr("")
		default:
			v.SetStr([]string{"checkout", "login", "invented"}[rng.IntN(3)])
		}
	}
	if annotate && rng.IntN(3) == 0 {
		v := m.PutEmpty("burnwatch.error")
		if rng.IntN(4) == 0 {
			v.SetStr("true")
		} else {
			v.SetBool(rng.IntN(2) == 0)
		}
	}
}

// value sets v to a random value of a random type.
func value(rng *rand.Rand, v pcommon.Value, o Options, depth int) {
	switch rng.IntN(12) {
	case 0, 1, 2, 3:
		s := strs[rng.IntN(len(strs))]
		if o.Huge && rng.IntN(20) == 0 {
			s = strings.Repeat(s+"x", 64<<10/(len(s)+1)+1)
		}
		v.SetStr(s)
	case 4, 5:
		v.SetInt(ints[rng.IntN(len(ints))])
	case 6:
		v.SetDouble(doubles[rng.IntN(len(doubles))])
	case 7:
		v.SetBool(rng.IntN(2) == 0)
	case 8:
		b := v.SetEmptyBytes()
		b.FromRaw([]byte(strs[rng.IntN(len(strs))]))
	case 9:
		s := v.SetEmptySlice()
		if depth < 3 {
			for range rng.IntN(3) {
				value(rng, s.AppendEmpty(), o, depth+1)
			}
		}
	case 10:
		m := v.SetEmptyMap()
		if depth < 3 {
			for range rng.IntN(3) {
				value(rng, m.PutEmpty(Keys[rng.IntN(len(Keys))]), o, depth+1)
			}
		}
	default:
		// empty
	}
}

func id16(rng *rand.Rand) (id [16]byte) {
	binary.LittleEndian.PutUint64(id[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(id[8:], rng.Uint64())
	return id
}

func id8(rng *rand.Rand) (id [8]byte) {
	binary.LittleEndian.PutUint64(id[:], rng.Uint64())
	return id
}
