package flows

import (
	"strings"
	"testing"
	"unsafe"
)

// span describes one test span; attribute maps are turned into an Input
// indexed by the classifier's Keys.
type span struct {
	attrs     map[string]Value
	resource  map[string]Value
	name      string
	kind      SpanKind
	root      bool
	statusErr bool
}

func (s span) input(c *Classifier) *Input {
	in := &Input{
		Span:        make([]Value, len(c.Keys())),
		Resource:    make([]Value, len(c.Keys())),
		Name:        s.name,
		Kind:        s.kind,
		Root:        s.root,
		StatusError: s.statusErr,
	}
	for i, k := range c.Keys() {
		in.Span[i] = s.attrs[k]
		in.Resource[i] = s.resource[k]
	}
	return in
}

func mustClassifier(t testing.TB, specs ...Spec) *Classifier {
	t.Helper()
	c, err := NewClassifier(specs)
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	return c
}

func eq(attr, v string) Rule { return Rule{Attribute: attr, Op: OpEquals, Value: v} }

var shop = map[string]Value{"service.name": StrValue("shop")}

func TestClassifyEntrySpans(t *testing.T) {
	c := mustClassifier(t,
		Spec{Name: "checkout", EntryOnly: true, Match: []Rule{eq("service.name", "shop")}},
		Spec{Name: "any-hop", EntryOnly: false, Match: []Rule{eq("service.name", "cart")}},
	)
	cart := map[string]Value{"service.name": StrValue("cart")}
	tests := []struct {
		name string
		span span
		want Result
	}{
		{"server child", span{resource: shop, kind: SpanKindServer}, Result{Flow: 0, Entry: true}},
		{"consumer child", span{resource: shop, kind: SpanKindConsumer}, Result{Flow: 0, Entry: true}},
		{"client root", span{resource: shop, kind: SpanKindClient, root: true}, Result{Flow: 0, Entry: true}},
		{"internal root", span{resource: shop, kind: SpanKindInternal, root: true}, Result{Flow: 0, Entry: true}},
		{"client child", span{resource: shop, kind: SpanKindClient}, Result{Flow: -1}},
		{"internal child", span{resource: shop, kind: SpanKindInternal}, Result{Flow: -1}},
		{"producer child", span{resource: shop, kind: SpanKindProducer}, Result{Flow: -1}},
		{"unspecified child", span{resource: shop}, Result{Flow: -1}},
		{"entry-only off: client child", span{resource: cart, kind: SpanKindClient}, Result{Flow: 1}},
		{"entry-only off: server", span{resource: cart, kind: SpanKindServer}, Result{Flow: 1, Entry: true}},
		{"unmatched entry", span{resource: map[string]Value{"service.name": StrValue("x")}, kind: SpanKindServer}, Result{Flow: -1, Entry: true}},
		{"unmatched non-entry", span{resource: map[string]Value{"service.name": StrValue("x")}, kind: SpanKindClient}, Result{Flow: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Classify(tt.span.input(c))
			if got != tt.want {
				t.Errorf("Classify = %+v, want %+v", got, tt.want)
			}
			if got.Matched() != (tt.want.Flow >= 0) {
				t.Errorf("Matched = %v", got.Matched())
			}
		})
	}
}

// TestClassifyRules checks each operator against one flow made of a single
// rule: matched says whether the (server) span belongs to it.
func TestClassifyRules(t *testing.T) {
	str, i64, f64 := StrValue, IntValue, DoubleValue
	a := func(v Value) map[string]Value { return map[string]Value{"a": v} }
	tests := []struct {
		name    string
		rule    Rule
		span    span
		matched bool
	}{
		// Lookup order.
		{"resource only", eq("a", "x"), span{resource: a(str("x"))}, true},
		{"span over resource", eq("a", "x"), span{attrs: a(str("y")), resource: a(str("x"))}, false},
		{"span wins", eq("a", "y"), span{attrs: a(str("y")), resource: a(str("x"))}, true},
		{"absent equals", eq("a", "x"), span{}, false},

		// equals compares numbers and booleans by value.
		{"equals int", eq("a", "200"), span{attrs: a(i64(200))}, true},
		{"equals int other", eq("a", "200"), span{attrs: a(i64(201))}, false},
		{"equals int vs decimal literal", eq("a", "200.0"), span{attrs: a(i64(200))}, true},
		{"equals double", eq("a", "200"), span{attrs: a(f64(200))}, true},
		{"equals double fraction", eq("a", "0.5"), span{attrs: a(f64(0.5))}, true},
		{"equals string is textual", eq("a", "200"), span{attrs: a(str("200.0"))}, false},
		{"equals bool", eq("a", "true"), span{attrs: a(BoolValue(true))}, true},
		{"equals bool false", eq("a", "true"), span{attrs: a(BoolValue(false))}, false},
		{"equals non-number literal vs int", eq("a", "abc"), span{attrs: a(i64(0))}, false},
		{"equals other kind", eq("a", ""), span{attrs: a(Value{Kind: ValueOther})}, false},
		{"not_equals differs", Rule{Attribute: "a", Op: OpNotEquals, Value: "x"}, span{attrs: a(str("y"))}, true},
		{"not_equals same", Rule{Attribute: "a", Op: OpNotEquals, Value: "x"}, span{attrs: a(str("x"))}, false},
		{"not_equals absent", Rule{Attribute: "a", Op: OpNotEquals, Value: "x"}, span{}, true},

		// Regexes are anchored like Prometheus matchers.
		{"regex whole", Rule{Attribute: "a", Op: OpRegex, Value: "/checkout.*"}, span{attrs: a(str("/checkout/pay"))}, true},
		{"regex not prefix", Rule{Attribute: "a", Op: OpRegex, Value: "/checkout"}, span{attrs: a(str("/checkout/pay"))}, false},
		{"regex not suffix", Rule{Attribute: "a", Op: OpRegex, Value: "checkout"}, span{attrs: a(str("/checkout"))}, false},
		{"regex alternation anchored", Rule{Attribute: "a", Op: OpRegex, Value: "a|b"}, span{attrs: a(str("ab"))}, false},
		{"regex alternation", Rule{Attribute: "a", Op: OpRegex, Value: "a|b"}, span{attrs: a(str("b"))}, true},
		{"regex dot matches newline", Rule{Attribute: "a", Op: OpRegex, Value: "x.*"}, span{attrs: a(str("x\ny"))}, true},
		{"regex on int", Rule{Attribute: "a", Op: OpRegex, Value: "5.."}, span{attrs: a(i64(503))}, true},
		{"regex on int no", Rule{Attribute: "a", Op: OpRegex, Value: "5.."}, span{attrs: a(i64(403))}, false},
		{"regex on double", Rule{Attribute: "a", Op: OpRegex, Value: `1\.5`}, span{attrs: a(f64(1.5))}, true},
		{"regex on bool", Rule{Attribute: "a", Op: OpRegex, Value: "t.*"}, span{attrs: a(BoolValue(true))}, true},
		{"regex absent", Rule{Attribute: "a", Op: OpRegex, Value: ".*"}, span{}, false},
		{"not_regex", Rule{Attribute: "a", Op: OpNotRegex, Value: "/health.*"}, span{attrs: a(str("/healthz"))}, false},
		{"not_regex other", Rule{Attribute: "a", Op: OpNotRegex, Value: "/health.*"}, span{attrs: a(str("/api/healthz"))}, true},
		{"not_regex absent", Rule{Attribute: "a", Op: OpNotRegex, Value: "/health.*"}, span{}, true},

		// in
		{"in", Rule{Attribute: "a", Op: OpIn, Values: []string{"GET", "POST"}}, span{attrs: a(str("POST"))}, true},
		{"in no", Rule{Attribute: "a", Op: OpIn, Values: []string{"GET", "POST"}}, span{attrs: a(str("get"))}, false},
		{"in int", Rule{Attribute: "a", Op: OpIn, Values: []string{"200", "204"}}, span{attrs: a(i64(204))}, true},
		{"in absent", Rule{Attribute: "a", Op: OpIn, Values: []string{""}}, span{}, false},

		// exists
		{"exists", Rule{Attribute: "a", Op: OpExists, Exists: true}, span{resource: a(str(""))}, true},
		{"exists absent", Rule{Attribute: "a", Op: OpExists, Exists: true}, span{}, false},
		{"exists other kind", Rule{Attribute: "a", Op: OpExists, Exists: true}, span{attrs: a(Value{Kind: ValueOther})}, true},
		{"not exists", Rule{Attribute: "a", Op: OpExists, Exists: false}, span{}, true},
		{"not exists present", Rule{Attribute: "a", Op: OpExists, Exists: false}, span{attrs: a(i64(1))}, false},

		// Numeric comparisons.
		{"gte int", Rule{Attribute: "a", Op: OpGte, Number: 500}, span{attrs: a(i64(500))}, true},
		{"gte int below", Rule{Attribute: "a", Op: OpGte, Number: 500}, span{attrs: a(i64(499))}, false},
		{"gt int equal", Rule{Attribute: "a", Op: OpGt, Number: 500}, span{attrs: a(i64(500))}, false},
		{"gt fractional threshold", Rule{Attribute: "a", Op: OpGt, Number: 499.5}, span{attrs: a(i64(500))}, true},
		{"gt large ints exact", Rule{Attribute: "a", Op: OpGt, Number: 1 << 53}, span{attrs: a(i64(1<<53 + 1))}, true},
		{"lt double", Rule{Attribute: "a", Op: OpLt, Number: 0.25}, span{attrs: a(f64(0.2))}, true},
		{"lte double equal", Rule{Attribute: "a", Op: OpLte, Number: 0.25}, span{attrs: a(f64(0.25))}, true},
		{"lt double NaN", Rule{Attribute: "a", Op: OpLt, Number: 1}, span{attrs: a(f64(nan()))}, false},
		{"gte string int", Rule{Attribute: "a", Op: OpGte, Number: 500}, span{attrs: a(str("503"))}, true},
		{"gte string int below", Rule{Attribute: "a", Op: OpGte, Number: 500}, span{attrs: a(str("404"))}, false},
		{"lt string exp", Rule{Attribute: "a", Op: OpLt, Number: -100}, span{attrs: a(str("-1.5e2"))}, true},
		{"gte string decimal", Rule{Attribute: "a", Op: OpGte, Number: 1}, span{attrs: a(str("1.0"))}, true},
		{"gte string huge", Rule{Attribute: "a", Op: OpGte, Number: 1}, span{attrs: a(str("123456789012345678901234567890"))}, true},
		{"gte string not number", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str("5xx"))}, false},
		{"gte string empty", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str(""))}, false},
		{"gte string spaces", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str(" 5"))}, false},
		{"gte string hex", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str("0x10"))}, false},
		{"gte string dot only", Rule{Attribute: "a", Op: OpGte, Number: -1}, span{attrs: a(str("."))}, false},
		{"gte string bare exponent", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str("1e"))}, false},
		{"gte string inf", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(str("Inf"))}, false},
		{"gte bool", Rule{Attribute: "a", Op: OpGte, Number: 0}, span{attrs: a(BoolValue(true))}, false},
		{"gte absent", Rule{Attribute: "a", Op: OpLte, Number: 0}, span{}, false},

		// Pseudo keys.
		{"span.name", eq(KeySpanName, "GET /cart"), span{name: "GET /cart"}, true},
		{"span.name shadows attribute", eq(KeySpanName, "x"), span{name: "y", attrs: map[string]Value{KeySpanName: str("x")}}, false},
		{"span.kind", eq(KeySpanKind, "server"), span{}, true},
		{"span.kind in", Rule{Attribute: KeySpanKind, Op: OpIn, Values: []string{"consumer", "producer"}}, span{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClassifier(t, Spec{Name: "f", EntryOnly: true, Match: []Rule{tt.rule}})
			tt.span.kind = SpanKindServer
			got := c.Classify(tt.span.input(c))
			if got.Matched() != tt.matched {
				t.Errorf("%s: matched = %v, want %v", tt.rule, got.Matched(), tt.matched)
			}
		})
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestClassifyFirstFlowWinsAndAllRulesHold(t *testing.T) {
	c := mustClassifier(t,
		Spec{Name: "checkout", EntryOnly: true, Match: []Rule{eq("service.name", "shop"), {Attribute: "http.route", Op: OpRegex, Value: "/checkout.*"}}},
		Spec{Name: "shop", EntryOnly: true, Match: []Rule{eq("service.name", "shop")}},
		Spec{Name: "late-checkout", EntryOnly: true, Match: []Rule{{Attribute: "http.route", Op: OpRegex, Value: "/checkout.*"}}},
	)
	route := func(r string) map[string]Value { return map[string]Value{"http.route": StrValue(r)} }
	tests := []struct {
		name string
		span span
		want int
	}{
		{"both rules", span{resource: shop, attrs: route("/checkout/pay"), kind: SpanKindServer}, 0},
		{"first rule only", span{resource: shop, attrs: route("/cart"), kind: SpanKindServer}, 1},
		{"second rule only", span{attrs: route("/checkout"), kind: SpanKindServer}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Classify(tt.span.input(c)).Flow; got != tt.want {
				t.Errorf("Flow = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	match := []Rule{eq("service.name", "shop")}
	code := func(v Value) map[string]Value { return map[string]Value{"http.response.status_code": v} }
	defaults := Spec{Name: "default", EntryOnly: true, Match: match, Errors: DefaultErrors()}
	custom := Spec{Name: "custom", EntryOnly: true, Match: match, Errors: ErrorSpec{
		StatusError: false,
		Rules: []Rule{
			{Attribute: "error.type", Op: OpExists, Exists: true},
			{Attribute: "rpc.grpc.status_code", Op: OpIn, Values: []string{"13", "14"}},
		},
	}}
	none := Spec{Name: "none", EntryOnly: true, Match: match}
	tests := []struct {
		name string
		spec Spec
		span span
		want bool
	}{
		{"default ok", defaults, span{attrs: code(IntValue(200))}, false},
		{"default 404", defaults, span{attrs: code(IntValue(404))}, false},
		{"default 500", defaults, span{attrs: code(IntValue(500))}, true},
		{"default 503 as string", defaults, span{attrs: code(StrValue("503"))}, true},
		{"default status error", defaults, span{attrs: code(IntValue(200)), statusErr: true}, true},
		{"default no code", defaults, span{}, false},
		{"custom ignores status", custom, span{statusErr: true}, false},
		{"custom error.type", custom, span{attrs: map[string]Value{"error.type": StrValue("timeout")}}, true},
		{"custom grpc", custom, span{attrs: map[string]Value{"rpc.grpc.status_code": IntValue(14)}}, true},
		{"custom grpc ok", custom, span{attrs: map[string]Value{"rpc.grpc.status_code": IntValue(0)}}, false},
		{"custom code 500 not a rule", custom, span{attrs: code(IntValue(500))}, false},
		{"no error spec", none, span{statusErr: true, attrs: code(IntValue(500))}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustClassifier(t, tt.spec)
			tt.span.resource = shop
			tt.span.kind = SpanKindServer
			got := c.Classify(tt.span.input(c))
			if !got.Matched() {
				t.Fatalf("span did not match flow")
			}
			if got.Error != tt.want {
				t.Errorf("Error = %v, want %v", got.Error, tt.want)
			}
		})
	}
	// An unmatched span is never an error, whatever its status.
	c := mustClassifier(t, defaults)
	if got := c.Classify(span{kind: SpanKindServer, statusErr: true}.input(c)); got.Error || got.Matched() {
		t.Errorf("unmatched span: %+v", got)
	}
}

func TestKeys(t *testing.T) {
	c := mustClassifier(t,
		Spec{Name: "a", Match: []Rule{eq("service.name", "x"), eq(KeySpanName, "y"), eq("http.route", "/")}, Errors: DefaultErrors()},
		Spec{Name: "b", Match: []Rule{eq("http.route", "/b"), eq(KeySpanKind, "server"), eq("service.name", "z")}},
	)
	want := []string{"service.name", "http.route", "http.response.status_code"}
	if got := c.Keys(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Keys = %q, want %q", got, want)
	}
	if c.Len() != 2 || c.Name(1) != "b" {
		t.Errorf("Len %d Name(1) %q", c.Len(), c.Name(1))
	}
	if c.Spec(0).Tier != DefaultTier {
		t.Errorf("empty tier became %q, want %q", c.Spec(0).Tier, DefaultTier)
	}
	if i, ok := c.Index("b"); !ok || i != 1 {
		t.Errorf("Index(b) = %d, %v", i, ok)
	}
	if _, ok := c.Index("c"); ok {
		t.Errorf("Index(c) found")
	}
	// Short Inputs read as absent instead of panicking.
	if got := c.Classify(&Input{Kind: SpanKindServer}); got.Matched() {
		t.Errorf("empty input matched %+v", got)
	}
}

func TestNewClassifierErrors(t *testing.T) {
	ok := []Rule{eq("a", "b")}
	tests := []struct {
		name  string
		specs []Spec
		want  []string
	}{
		{"empty name", []Spec{{Match: ok}}, []string{"flow 0: name is empty"}},
		{"duplicate", []Spec{{Name: "x", Match: ok}, {Name: "x", Match: ok}}, []string{`flow "x": defined twice (flows 0 and 1)`}},
		{"bad tier", []Spec{{Name: "x", Tier: "urgent", Match: ok}}, []string{`tier "urgent" is not one of critical, high, medium, low`}},
		{"bad regex quotes what was written", []Spec{{Name: "x", Match: []Rule{{Attribute: "a", Op: OpRegex, Value: "(ab"}}}},
			[]string{"flow \"x\": match[0]: error parsing regexp: missing closing ): `(ab`"}},
		{"empty in", []Spec{{Name: "x", Match: []Rule{{Attribute: "a", Op: OpIn}}}}, []string{"match[0]: in needs at least one value"}},
		{"no operator", []Spec{{Name: "x", Match: []Rule{{Attribute: "a"}}}}, []string{"match[0]: unknown operator invalid"}},
		{"empty attribute", []Spec{{Name: "x", Match: []Rule{{Op: OpExists}}}}, []string{"match[0]: attribute is empty"}},
		{"numeric pseudo", []Spec{{Name: "x", Match: []Rule{{Attribute: KeySpanName, Op: OpGt}}}}, []string{"gt compares numbers and span.name is never a number"}},
		{"bad kind", []Spec{{Name: "x", Match: []Rule{eq(KeySpanKind, "Server")}}}, []string{`"Server" is not a span kind`}},
		{"error rules checked", []Spec{{Name: "x", Match: ok, Errors: ErrorSpec{Rules: []Rule{{Attribute: "a", Op: OpNotRegex, Value: "["}}}}},
			[]string{`flow "x": errors[0]: error parsing regexp`}},
		{"all reported", []Spec{{Name: "x", Tier: "t"}, {Name: "x", Match: []Rule{{Attribute: "a"}}}},
			[]string{`tier "t"`, "defined twice", "unknown operator"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClassifier(tt.specs)
			if err == nil {
				t.Fatalf("NewClassifier succeeded: %v", c)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestOperatorNames(t *testing.T) {
	for _, o := range Operators() {
		got, ok := ParseOperator(o.String())
		if !ok || got != o {
			t.Errorf("ParseOperator(%q) = %v, %v", o, got, ok)
		}
	}
	if _, ok := ParseOperator("invalid"); ok {
		t.Errorf("ParseOperator(invalid) succeeded")
	}
	for k := SpanKindUnspecified; k <= SpanKindConsumer; k++ {
		if got, ok := ParseSpanKind(k.String()); !ok || got != k {
			t.Errorf("ParseSpanKind(%q) = %v, %v", k, got, ok)
		}
	}
	if SpanKind(42).String() != "unspecified" {
		t.Errorf("unknown kind = %q", SpanKind(42))
	}
}

// TestClassifyDoesNotAllocate guards the hot path, including the regex on a
// number (which formats into Input's scratch buffer) and numeric strings.
func TestClassifyDoesNotAllocate(t *testing.T) {
	c := mustClassifier(t, benchSpecs()...)
	large := mustClassifier(t, scaleSpecs(1000)...)
	// Shortcut regexes on numbers compare their text without the regex
	// engine; the longest texts of doubles too.
	numeric := mustClassifier(t,
		Spec{Name: "prefix", Match: []Rule{{Attribute: "code", Op: OpRegex, Value: "20.*"}}},
		Spec{Name: "contains", Match: []Rule{{Attribute: "code", Op: OpRegex, Value: ".*234.*"}}},
		Spec{Name: "suffix", Match: []Rule{{Attribute: "code", Op: OpRegex, Value: ".*308"}}},
	)
	var numericInputs []*Input
	for _, v := range []Value{IntValue(200), IntValue(-9223372036854775808), DoubleValue(-1.2345678901234567e-308), DoubleValue(-0.0000012345678901234567), BoolValue(true)} {
		numericInputs = append(numericInputs, span{attrs: map[string]Value{"code": v}}.input(numeric))
	}
	for _, tc := range []struct {
		c   *Classifier
		ins []*Input
	}{{c, benchInputs(c)}, {large, scaleInputs(large, 1000)[:16]}, {numeric, numericInputs}} {
		for _, in := range tc.ins {
			tc.c.Classify(in) // warm the scratch buffer
			if n := testing.AllocsPerRun(100, func() { tc.c.Classify(in) }); n != 0 {
				t.Errorf("Classify allocates %v times per call", n)
			}
		}
	}
}

// What classifying a span reads of a flow fits one cache line (a slice of
// them is cache-line aligned when it is large), so that with thousands of
// flows it costs one miss.
func TestFlowLayout(t *testing.T) {
	if n := unsafe.Sizeof(compiledFlow{}); n != 64 {
		t.Fatalf("compiledFlow is %d bytes, want 64", n)
	}
}
