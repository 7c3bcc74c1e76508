package flows

// ValueKind is the type of an attribute value in an Input.
type ValueKind uint8

// Value kinds. The zero kind means the attribute is absent.
const (
	ValueAbsent ValueKind = iota
	ValueStr
	ValueInt
	ValueDouble
	ValueBool
	// ValueOther is a present value that is none of the scalars above (bytes,
	// array, map): exists and the not_ operators see it, nothing else does.
	ValueOther
)

// Value is one attribute value, copied out of pdata (or decoded from OTLP
// bytes) without allocating. Only the field that belongs to Kind is read.
type Value struct {
	Kind   ValueKind
	Str    string
	Int    int64
	Double float64
	Bool   bool
}

// StrValue returns a string Value.
func StrValue(s string) Value { return Value{Kind: ValueStr, Str: s} }

// IntValue returns an int Value.
func IntValue(i int64) Value { return Value{Kind: ValueInt, Int: i} }

// DoubleValue returns a double Value.
func DoubleValue(f float64) Value { return Value{Kind: ValueDouble, Double: f} }

// BoolValue returns a bool Value.
func BoolValue(b bool) Value { return Value{Kind: ValueBool, Bool: b} }

// SpanKind is a span's kind, numbered as in OTLP (and pdata's
// ptrace.SpanKind), so an adapter converts with a plain type conversion.
type SpanKind int32

// Span kinds.
const (
	SpanKindUnspecified SpanKind = 0
	SpanKindInternal    SpanKind = 1
	SpanKindServer      SpanKind = 2
	SpanKindClient      SpanKind = 3
	SpanKindProducer    SpanKind = 4
	SpanKindConsumer    SpanKind = 5
)

var spanKindNames = [...]string{
	SpanKindUnspecified: "unspecified",
	SpanKindInternal:    "internal",
	SpanKindServer:      "server",
	SpanKindClient:      "client",
	SpanKindProducer:    "producer",
	SpanKindConsumer:    "consumer",
}

// String returns the lowercase word rules use for the kind, e.g. "server".
// An unknown kind reads as "unspecified".
func (k SpanKind) String() string {
	if k >= 0 && int(k) < len(spanKindNames) {
		return spanKindNames[k]
	}
	return spanKindNames[SpanKindUnspecified]
}

// ParseSpanKind returns the kind whose String is s.
func ParseSpanKind(s string) (SpanKind, bool) {
	for k, name := range spanKindNames {
		if name == s {
			return SpanKind(k), true
		}
	}
	return SpanKindUnspecified, false
}

// IsEntry reports whether a span is where a request enters a service: a
// server or consumer span, or a trace's root. Counting only entry spans
// counts each request once, not once per hop.
func IsEntry(kind SpanKind, root bool) bool {
	return root || kind == SpanKindServer || kind == SpanKindConsumer
}
