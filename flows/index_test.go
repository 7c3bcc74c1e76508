package flows

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// classifyLinear is the classifier before the index: every flow in file
// order, the first whose rules hold wins. The index must answer exactly as
// it does.
func classifyLinear(c *Classifier, in *Input) Result {
	entry := IsEntry(in.Kind, in.Root)
	for i := range c.flows {
		f := &c.flows[i]
		if f.entryOnly && !entry {
			continue
		}
		if !allHold(f.match, in) {
			continue
		}
		return Result{Flow: i, Entry: entry, Error: f.isError(in)}
	}
	return Result{Flow: -1, Entry: entry}
}

// chooser is where the generators get their choices: math/rand/v2 for the
// seeded test, the fuzzer's bytes for the fuzz target.
type chooser interface{ IntN(n int) int }

// bytesChooser reads choices from fuzz input; past its end every choice is 0.
type bytesChooser struct{ b []byte }

func (c *bytesChooser) IntN(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0])
	c.b = c.b[1:]
	return v % n
}

func pick[T any](r chooser, xs []T) T { return xs[r.IntN(len(xs))] }

// genKeys are the attributes generated rules test: real keys and the
// pseudo keys.
var genKeys = []string{"service.name", "http.route", "code", "a", KeySpanName, KeySpanKind}

// genValues are operands and span values: numbers in their many spellings,
// booleans, routes, empty and invalid UTF-8, so that equals must compare
// "200" with 200 and 200.0, and regexes see U+FFFD.
var genValues = []string{
	"shop", "cart", "/checkout", "/checkout/pay", "/cart", "GET", "get", "POST",
	"200", "200.0", "+200", "0200", "2e2", "200.5", "500", "503", "1e3", "1000", "-0", "0", "0.0", "-1.5e2",
	"9007199254740993", "12345678901234567890", "1e400", "true", "false", "True", "",
	"é", "\xff", "\ufffd", "a\nb", "NaN", "+Inf", "server", "consumer", "client",
}

// genRegexes are regex operands, most of which the index files by their
// literals: literals, prefixes, alternations, optional parts, classes, and
// some it cannot (suffixes, case folding, classes of digits).
var genRegexes = []string{
	"shop", "/checkout.*", "/checkout/.*", "/c.*", "(GET|POST)", "GET|POST", "(GET )?/checkout.*",
	"[sc]hop", "[sc]art.*", "5..", "2.*", "20[0-4]", "200", "true", "t.*", "-.*", "1e.*", ".*pay", ".*a.*", "(?i)get",
	"x+y.*", "(ab)+", `\d+`, "", ".*", "\ufffd.*", "é.*", "a{2,3}.*", "^shop$", `/checkout\b.*`, "(?s:/c.*)",
	"(?-s:/checkout.*)", "a\nb", "(/checkout|/cart)/.*", "(/checkout|/cart).*", "serv.*", "[^x]*", "NaN|\\+Inf",
}

var genNumbers = []float64{0, 200, 200.5, 500, -1, 1e3, 1 << 53, -150, math.Inf(1), 1e21}

var genKinds = []string{"server", "client", "producer", "consumer", "internal", "unspecified"}

// genRule returns a random rule; values come from the pools and, for fuzz
// input, from extra.
func genRule(r chooser, extra []string) Rule {
	key := pick(r, genKeys)
	values := genValues
	if len(extra) > 0 && r.IntN(3) == 0 {
		values = extra
	}
	value := func() string {
		if key == KeySpanKind {
			return pick(r, genKinds)
		}
		return pick(r, values)
	}
	switch r.IntN(12) {
	case 0, 1, 2:
		return Rule{Attribute: key, Op: OpEquals, Value: value()}
	case 3:
		return Rule{Attribute: key, Op: OpNotEquals, Value: value()}
	case 4:
		vs := make([]string, 1+r.IntN(4))
		for i := range vs {
			vs[i] = value()
		}
		return Rule{Attribute: key, Op: OpIn, Values: vs}
	case 5, 6, 7:
		expr := pick(r, genRegexes)
		if r.IntN(4) == 0 {
			expr = regexp.QuoteMeta(pick(r, values))
			if r.IntN(2) == 0 {
				expr += ".*"
			}
		}
		if len(extra) > 0 && r.IntN(3) == 0 {
			expr = pick(r, extra)
		}
		return Rule{Attribute: key, Op: OpRegex, Value: expr}
	case 8:
		return Rule{Attribute: key, Op: OpNotRegex, Value: pick(r, genRegexes)}
	case 9:
		return Rule{Attribute: key, Op: OpExists, Exists: r.IntN(2) == 0}
	default:
		if key == KeySpanName || key == KeySpanKind {
			key = "code"
		}
		ops := []Operator{OpGt, OpGte, OpLt, OpLte}
		return Rule{Attribute: key, Op: pick(r, ops), Number: pick(r, genNumbers)}
	}
}

// genSpecs returns up to max flows: random ones, and families shaped like
// real ones (service × route) where a broad flow comes before or after the
// narrow ones it overlaps. Rules that do not compile are dropped.
func genSpecs(r chooser, max int, extra []string) []Spec {
	n := 1 + r.IntN(max)
	var specs []Spec
	add := func(s Spec) {
		s.Name = fmt.Sprintf("f%d", len(specs))
		s.EntryOnly = r.IntN(3) != 0
		switch r.IntN(4) {
		case 0:
			s.Errors = DefaultErrors()
		case 1:
			s.Errors = ErrorSpec{StatusError: r.IntN(2) == 0, Rules: []Rule{genRule(r, extra)}}
		}
		var match []Rule
		for _, m := range s.Match {
			if m.Validate() == nil {
				match = append(match, m)
			}
		}
		s.Match = match
		if s.Errors.Rules != nil && s.Errors.Rules[0].Validate() != nil {
			s.Errors.Rules = nil
		}
		specs = append(specs, s)
	}
	for len(specs) < n {
		switch r.IntN(4) {
		case 0:
			// A family: svc × route, with a broad flow on either side.
			svc := pick(r, []string{"shop", "cart", "200", "true"})
			broad := Spec{Match: []Rule{eq("service.name", svc)}}
			if r.IntN(2) == 0 {
				add(broad)
			}
			for range 1 + r.IntN(5) {
				route := Rule{Attribute: "http.route", Op: OpEquals, Value: pick(r, valuePool(r, extra))}
				if r.IntN(2) == 0 {
					route = Rule{Attribute: "http.route", Op: OpRegex, Value: pick(r, genRegexes)}
				}
				add(Spec{Match: []Rule{eq("service.name", svc), route}})
			}
			if r.IntN(2) == 0 {
				add(broad)
			}
		default:
			rules := make([]Rule, r.IntN(4))
			for i := range rules {
				rules[i] = genRule(r, extra)
			}
			add(Spec{Match: rules})
		}
	}
	return specs
}

func valuePool(r chooser, extra []string) []string {
	if len(extra) > 0 && r.IntN(2) == 0 {
		return extra
	}
	return genValues
}

// genValue returns a value for key: one drawn from the rules' own operands
// (as a string, or as the int, double or bool it spells), or noise.
func genValue(r chooser, operands []string) Value {
	var s string
	switch r.IntN(4) {
	case 0:
		s = pick(r, genValues)
	case 1:
		s = pick(r, genValues) + pick(r, []string{"/x", "0", ".5", "\xff", ""})
	default:
		if len(operands) == 0 {
			return Value{}
		}
		s = pick(r, operands)
	}
	switch r.IntN(10) {
	case 0:
		return Value{}
	case 1:
		return Value{Kind: ValueOther}
	case 2, 3:
		if ok, integral := numberSyntax(s); ok {
			n := parseNumber(s, integral)
			if n.isInt {
				return IntValue(n.i)
			}
			return DoubleValue(n.f)
		}
		return IntValue(int64(r.IntN(1200) - 100))
	case 4:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return DoubleValue(f)
		}
		return DoubleValue(pick(r, []float64{200, 0.5, math.NaN(), math.Inf(-1), math.Copysign(0, -1), 1e22, 1e-7}))
	case 5:
		return BoolValue(s == "true" || r.IntN(2) == 0)
	}
	return StrValue(s)
}

// operandsOf returns, per attribute, the strings the specs' rules compare
// with: literals, regex literals with a random tail, numbers.
func operandsOf(r chooser, specs []Spec) map[string][]string {
	out := map[string][]string{}
	for _, s := range specs {
		for _, rule := range append(append([]Rule(nil), s.Match...), s.Errors.Rules...) {
			k := rule.Attribute
			switch rule.Op {
			case OpEquals, OpNotEquals:
				out[k] = append(out[k], rule.Value)
			case OpIn:
				out[k] = append(out[k], rule.Values...)
			case OpRegex, OpNotRegex:
				m, err := newMatcher(rule.Value)
				if err != nil {
					continue
				}
				out[k] = append(out[k], m.exact...)
				for _, p := range m.prefix {
					out[k] = append(out[k], p, p+pick(r, []string{"/pay", "x", "0", "\n"}))
				}
			default:
				out[k] = append(out[k], strconv.FormatFloat(rule.Number, 'g', -1, 64))
			}
		}
	}
	return out
}

// genInput returns a span for c.
func genInput(r chooser, c *Classifier, operands map[string][]string) *Input {
	in := &Input{
		Span:        make([]Value, len(c.Keys())),
		Resource:    make([]Value, len(c.Keys())),
		Kind:        SpanKind(r.IntN(7)),
		Root:        r.IntN(4) == 0,
		StatusError: r.IntN(3) == 0,
	}
	if r.IntN(2) == 0 {
		in.Name = pick(r, append(operands[KeySpanName], "GET /x"))
	} else {
		in.Name = genValue(r, operands[KeySpanName]).Str
	}
	for i, k := range c.Keys() {
		switch r.IntN(4) {
		case 0:
			in.Span[i] = genValue(r, operands[k])
		case 1:
			in.Resource[i] = genValue(r, operands[k])
		case 2:
			in.Span[i] = genValue(r, operands[k])
			in.Resource[i] = genValue(r, operands[k])
		}
	}
	if r.IntN(8) == 0 {
		// Short inputs read as absent.
		in.Span = in.Span[:r.IntN(len(in.Span)+1)]
		in.Resource = in.Resource[:r.IntN(len(in.Resource)+1)]
	}
	return in
}

// checkEquivalence classifies spans drawn from r with the index and
// linearly, and fails on the first difference. It returns how many spans
// matched a flow, so callers can tell the test had teeth.
func checkEquivalence(t *testing.T, r chooser, specs []Spec, spans int) (matched int) {
	t.Helper()
	c, err := NewClassifier(specs)
	if err != nil {
		t.Fatalf("NewClassifier: %v", err)
	}
	ops := operandsOf(r, specs)
	for range spans {
		in := genInput(r, c, ops)
		want := classifyLinear(c, in)
		if got := c.Classify(in); got != want {
			t.Fatalf("Classify = %+v, linear = %+v\nspan %s\nflows:\n%s", got, want, describeInput(c, in), describeSpecs(specs))
		}
		if want.Matched() {
			matched++
		}
	}
	return matched
}

func describeInput(c *Classifier, in *Input) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name %q kind %s root %v status error %v", in.Name, in.Kind, in.Root, in.StatusError)
	for i, k := range c.Keys() {
		if i < len(in.Span) && in.Span[i].Kind != ValueAbsent {
			fmt.Fprintf(&b, "\n  span %s = %+v", k, in.Span[i])
		}
		if i < len(in.Resource) && in.Resource[i].Kind != ValueAbsent {
			fmt.Fprintf(&b, "\n  resource %s = %+v", k, in.Resource[i])
		}
	}
	return b.String()
}

func describeSpecs(specs []Spec) string {
	var b strings.Builder
	for i, s := range specs {
		fmt.Fprintf(&b, "  %d entry-only %v:", i, s.EntryOnly)
		for _, r := range s.Match {
			fmt.Fprintf(&b, " [%s]", r)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestClassifyMatchesLinear checks the index against the linear classifier
// on thousands of generated flow sets and spans.
func TestClassifyMatchesLinear(t *testing.T) {
	sets, spans := 3000, 60
	if testing.Short() {
		sets = 300
	}
	total, matched := 0, 0
	for seed := range uint64(sets) {
		r := rand.New(rand.NewPCG(seed, 7))
		specs := genSpecs(r, 1+int(seed%40), nil)
		matched += checkEquivalence(t, r, specs, spans)
		total += spans
	}
	// Spans drawn from the rules' own values must often match, or the
	// comparison says little.
	if matched < total/5 {
		t.Errorf("only %d of %d spans matched a flow", matched, total)
	}
	t.Logf("%d of %d spans matched a flow", matched, total)
}

// TestClassifyMatchesLinearAtScale checks the index on the benchmark's large
// flow sets, where nodes nest deepest.
func TestClassifyMatchesLinearAtScale(t *testing.T) {
	for _, n := range []int{10, 1_000, 10_000} {
		c := mustClassifier(t, scaleSpecs(n)...)
		for i, in := range scaleInputs(c, n) {
			if got, want := c.Classify(in), classifyLinear(c, in); got != want {
				t.Fatalf("%d flows, input %d: Classify = %+v, linear = %+v", n, i, got, want)
			}
		}
	}
}

// FuzzClassifierEquivalence checks the index against the linear classifier
// on flow sets and spans chosen by the fuzzer's bytes, with one regex and
// one value of its own.
func FuzzClassifierEquivalence(f *testing.F) {
	f.Add([]byte("\x05\x01\x02\x03\x04\x05\x06\x07"), "/checkout.*", "/checkout/pay")
	f.Add([]byte("\x20\x00\x07\x05\x01\x09\x00\x03\x02"), "(GET|POST) /.*", "GET /x")
	f.Add([]byte("\x03\x06\x02\x05\x05\x05\x00\x01"), "2[0-9]+", "200")
	f.Fuzz(func(t *testing.T, choices []byte, expr, value string) {
		var extra []string
		for _, s := range []string{expr, value} {
			if (Rule{Attribute: "a", Op: OpRegex, Value: s}).Validate() == nil {
				extra = append(extra, s)
			}
		}
		r := &bytesChooser{b: choices}
		specs := genSpecs(r, 20, extra)
		// Once the bytes run out every choice is 0: keep the span count
		// bounded by the input.
		checkEquivalence(t, r, specs, 1+len(choices)/4)
	})
}

// TestLiteralsCoverMatches checks that whatever a regex matches is one of
// its exact literals or starts with one of its prefixes, on strings built
// from the literals themselves.
func TestLiteralsCoverMatches(t *testing.T) {
	exprs := append(append([]string(nil), genRegexes...),
		"(a|b)(c|d)", "(a|b)c*", "ab?c", "(ab|a)(c|)", "x(?:y|z)+", "a{3}", "[a-c][d-f]", `\x{D800}a`,
		"(?i)abc", "a|b.*|", "(a.*|b)c", "[\u00e9\ufffd]x", "abc$", "^abc", `\babc\b`)
	inputs := []string{"", "a", "b", "ab", "abc", "abd", "acd", "bd", "c", "x", "xy", "xyz", "xzzy", "aaa", "aaaa",
		"ad", "be", "cf", "\xffa", "\ufffda", "\xff.x", "\xffx", "éx", "GET", "POST", "GET /checkout", "/checkout",
		"/checkout/pay", "/cart/x", "shop", "chop", "500", "5xx", "200", "2", "true", "t", "-1", "1e3"}
	for _, e := range exprs {
		m, err := newMatcher(e)
		if err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		if !m.indexable {
			continue
		}
		re := regexp.MustCompile(anchor(e))
		cands := append(append([]string(nil), inputs...), m.exact...)
		for _, p := range m.prefix {
			cands = append(cands, p, p+"x", p+"\n")
		}
		for _, in := range cands {
			if !re.MatchString(in) && !m.MatchString(in) {
				continue
			}
			covered := false
			for _, x := range m.exact {
				covered = covered || in == x
			}
			for _, p := range m.prefix {
				covered = covered || strings.HasPrefix(in, p)
			}
			if !covered {
				t.Errorf("%q matches %q, which is not in exact %q nor has a prefix in %q", e, in, m.exact, m.prefix)
			}
		}
	}
}

// TestLiterals pins what the index learns from common regexes.
func TestLiterals(t *testing.T) {
	tests := []struct {
		expr          string
		exact, prefix []string // nil both: not indexable
	}{
		{"GET", []string{"GET"}, nil},
		{"/checkout.*", nil, []string{"/checkout"}},
		{"GET|POST", []string{"GET", "POST"}, nil},
		{"(GET )?/health.*", nil, []string{"/health", "GET /health"}},
		{"/api/v[0-9]+/admin/.*", nil, []string{"/api/v"}},
		{"[sc]hop", []string{"chop", "shop"}, nil},
		{"[0-9]+", nil, nil},
		{"5..", nil, []string{"5"}},
		{"x+y", nil, []string{"x"}},
		{"^GET$", []string{"GET"}, nil},
		{"é\ufffd.*", nil, []string{"é"}},
		{".*pay", nil, nil},
		{"(?i)get", nil, nil},
		{"", []string{""}, nil},
		{"a|.*", nil, nil},
		{"\ufffd.*", nil, nil},
	}
	for _, tt := range tests {
		m, err := newMatcher(tt.expr)
		if err != nil {
			t.Fatalf("%q: %v", tt.expr, err)
		}
		if m.indexable != (tt.exact != nil || tt.prefix != nil) ||
			strings.Join(m.exact, "|") != strings.Join(tt.exact, "|") ||
			strings.Join(m.prefix, "|") != strings.Join(tt.prefix, "|") {
			t.Errorf("%q: indexable %v exact %q prefix %q, want exact %q prefix %q",
				tt.expr, m.indexable, m.exact, m.prefix, tt.exact, tt.prefix)
		}
	}
}

// TestPrefixSetFind checks that the chain of parents from find yields every
// literal a text starts with, and nothing else.
func TestPrefixSetFind(t *testing.T) {
	lits := []string{"/a", "/a/b", "/a/b/c", "/a/bc", "/b", "", "/a/b/c/d", "x", "/", "/a/c"}
	var ps []prefixChild
	for i, l := range lits {
		ps = append(ps, prefixChild{l, int32(i + 1)})
	}
	set := newPrefixSet(ps)
	texts := []string{"", "/", "/a", "/a/", "/a/b", "/a/b/", "/a/b/c", "/a/b/cd", "/a/bc", "/a/bd", "/a/c/x", "/b/x", "/c", "x", "y", "/a/b/c/d/e"}
	for _, text := range texts {
		var got []string
		i, common := set.find(text)
		for ; i >= 0; i = int(set.parent[i]) {
			if len(set.lits[i]) <= common {
				got = append(got, set.lits[i])
			}
		}
		var want []string
		for j := len(set.lits) - 1; j >= 0; j-- {
			if strings.HasPrefix(text, set.lits[j]) {
				want = append(want, set.lits[j])
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != len(want) {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}
}

// TestClassifyNoFlows checks the cases where a root of the index is empty.
func TestClassifyNoFlows(t *testing.T) {
	empty := mustClassifier(t)
	entryOnly := mustClassifier(t, Spec{Name: "f", EntryOnly: true, Match: []Rule{eq("a", "x")}})
	in := &Input{Span: []Value{StrValue("x")}, Kind: SpanKindClient}
	for _, c := range []*Classifier{empty, entryOnly, {}} {
		if got := c.Classify(in); got != (Result{Flow: -1}) {
			t.Errorf("Classify = %+v, want no flow", got)
		}
	}
	in.Kind = SpanKindServer
	if got := entryOnly.Classify(in); got != (Result{Flow: 0, Entry: true}) {
		t.Errorf("entry span: Classify = %+v", got)
	}
}

// TestClassifyConcurrent runs one classifier from several goroutines, each
// with its own Inputs as adapters do; go test -race checks the index is
// only read.
func TestClassifyConcurrent(t *testing.T) {
	c := mustClassifier(t, scaleSpecs(1000)...)
	want := make([]Result, 0, 256)
	for _, in := range scaleInputs(c, 1000) {
		want = append(want, classifyLinear(c, in))
	}
	var wg sync.WaitGroup
	for range 4 {
		ins := scaleInputs(c, 1000)
		wg.Go(func() {
			for i, in := range ins {
				if got := c.Classify(in); got != want[i] {
					t.Errorf("input %d: Classify = %+v, want %+v", i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}

// A flow of one service and one route is found by its route's look-up
// itself (shortcutLeaves), and still only when both rules hold.
func TestShortcutLeaves(t *testing.T) {
	var specs []Spec
	for s := range 3 {
		for r := range 50 {
			specs = append(specs, Spec{Name: fmt.Sprintf("s%d-r%d", s, r), EntryOnly: true,
				Match: []Rule{eq("service.name", fmt.Sprintf("svc-%d", s)), eq("http.route", fmt.Sprintf("/r%d", r))}})
		}
	}
	// One with a rule the look-ups do not prove: its leaf stays a node.
	specs[7].Match = append(specs[7].Match, Rule{Attribute: "http.request.method", Op: OpNotEquals, Value: "PUT"})
	c := mustClassifier(t, specs...)
	shortcuts := 0
	for _, n := range c.idx.nodes {
		for _, k := range n.keys {
			for _, sl := range k.strs.slots {
				if sl.hash != 0 && sl.id < 0 {
					shortcuts++
				}
			}
		}
	}
	if shortcuts != len(specs)-1 {
		t.Errorf("%d look-ups give their flow, want %d", shortcuts, len(specs)-1)
	}
	for _, tc := range []struct {
		svc, route, method string
		want               int
	}{
		{"svc-1", "/r3", "GET", 53}, {"svc-0", "/r7", "GET", 7}, {"svc-0", "/r7", "PUT", -1}, {"svc-2", "/r50", "GET", -1}, {"svc-3", "/r1", "GET", -1},
	} {
		in := span{kind: SpanKindServer, root: true,
			attrs:    map[string]Value{"http.route": StrValue(tc.route), "http.request.method": StrValue(tc.method)},
			resource: map[string]Value{"service.name": StrValue(tc.svc)}}.input(c)
		if got := c.Classify(in).Flow; got != tc.want {
			t.Errorf("%s %s %s: flow %d, want %d", tc.svc, tc.route, tc.method, got, tc.want)
		}
	}
}
