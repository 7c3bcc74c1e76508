package flows

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Input is one span as the classifier sees it. Span and Resource hold the
// values of the attributes named by Classifier.Keys, at the same indexes
// (Kind ValueAbsent where a span or resource lacks one); shorter slices read
// as absent. An adapter reuses one Input across spans so Classify does not
// allocate; an Input must not be shared between goroutines.
type Input struct {
	Span     []Value
	Resource []Value
	// Name is the span name, for the span.name pseudo key.
	Name string
	Kind SpanKind
	// Root says the span has no parent.
	Root bool
	// StatusError says the span's status code is Error.
	StatusError bool

	// scratch holds the decimal form of a number for a regex test, reused
	// across calls.
	scratch []byte
}

// Result is the classification of one span.
type Result struct {
	// Flow is the index of the matching flow in the specs given to
	// NewClassifier, or -1 when no flow matched.
	Flow int
	// Entry says the span is an entry span (server, consumer or root).
	Entry bool
	// Error says the span is an error by its flow's ErrorSpec; it is false
	// when no flow matched.
	Error bool
}

// Matched reports whether a flow matched.
func (r Result) Matched() bool { return r.Flow >= 0 }

// Classifier assigns spans to flows. It is immutable after NewClassifier and
// safe for concurrent use.
type Classifier struct {
	specs []Spec
	flows []compiledFlow
	// names and groups are the flows' names and GroupBy keys (a key index,
	// or a pseudo key), apart from flows: classifying a span reads a
	// flow's name and compiledFlow, and with thousands of flows each is
	// a cache miss, fewer the denser they are.
	names  []string
	groups [][]groupByKey
	keys   []string
	index  map[string]int
	idx    index
	// grouped says some flow has GroupBy keys.
	grouped bool
}

// compiledFlow is what classifying a span reads of a flow: one cache line
// (TestFlowLayout).
type compiledFlow struct {
	match       []compiledRule
	errors      []compiledRule
	entryOnly   bool
	statusError bool
	_           [14]byte
}

// literal is an equals or in operand, parsed once so that comparing it with
// an int, double or bool attribute needs no formatting or parsing per span.
type literal struct {
	s       string
	i       int64
	f       float64
	isInt   bool
	isFloat bool
	b       bool
	isBool  bool
}

type compiledRule struct {
	op     Operator
	pseudo pseudoKey
	key    int // index into Keys; unused for pseudo keys
	lit    literal
	lits   []literal
	re     matcher
	num    number
	exists bool
}

// number is a numeric operand or attribute value. Integers stay int64 so
// that large ids compare exactly; anything else is a float64.
type number struct {
	i     int64
	f     float64
	isInt bool
}

// NewClassifier compiles specs; the first spec whose rules hold wins, so put
// narrow flows before broad ones. It reports every problem it finds.
func NewClassifier(specs []Spec) (*Classifier, error) {
	c := &Classifier{
		specs:  make([]Spec, len(specs)),
		flows:  make([]compiledFlow, len(specs)),
		names:  make([]string, len(specs)),
		groups: make([][]groupByKey, len(specs)),
		index:  make(map[string]int, len(specs)),
	}
	keyIndex := map[string]int{}
	// Flows by the hundred thousand repeat their regexes: compile each once.
	regexes := map[string]matcher{}
	var errs []error
	keyOf := func(attr string) int {
		k, ok := keyIndex[attr]
		if !ok {
			k = len(c.keys)
			keyIndex[attr] = k
			c.keys = append(c.keys, attr)
		}
		return k
	}
	compileAll := func(name, what string, rules []Rule) []compiledRule {
		out := make([]compiledRule, 0, len(rules))
		for j, r := range rules {
			cr, err := compileRule(r, regexes)
			if err != nil {
				errs = append(errs, fmt.Errorf("flow %q: %s[%d]: %w", name, what, j, err))
				continue
			}
			if cr.pseudo == pseudoNone {
				cr.key = keyOf(r.Attribute)
			}
			out = append(out, cr)
		}
		return out
	}
	// Flows that count errors alike share one compiled copy of the rules:
	// with thousands of flows, most on the default error rules, the copy
	// stays in cache, where each flow's own would be a miss per span.
	errorRules := map[string][]compiledRule{}
	compileErrors := func(name string, rules []Rule) []compiledRule {
		key := fmt.Sprintf("%#v", rules)
		if cr, ok := errorRules[key]; ok {
			return cr
		}
		n := len(errs)
		cr := compileAll(name, "errors", rules)
		if len(errs) == n {
			errorRules[key] = cr
		}
		return cr
	}
	for i, s := range specs {
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("flow %d: name is empty", i))
		default:
			if j, dup := c.index[s.Name]; dup {
				errs = append(errs, fmt.Errorf("flow %q: defined twice (flows %d and %d)", s.Name, j, i))
			} else {
				c.index[s.Name] = i
			}
		}
		if s.Tier == "" {
			s.Tier = DefaultTier
		} else if !ValidTier(s.Tier) {
			errs = append(errs, fmt.Errorf("flow %q: tier %q is not one of critical, high, medium, low", s.Name, s.Tier))
		}
		c.specs[i], c.names[i] = s, s.Name
		c.flows[i] = compiledFlow{
			entryOnly:   s.EntryOnly,
			match:       compileAll(s.Name, "match", s.Match),
			statusError: s.Errors.StatusError,
			errors:      compileErrors(s.Name, s.Errors.Rules),
		}
		for _, g := range s.GroupBy {
			gk := groupByKey{pseudo: pseudoOf(g)}
			if gk.pseudo == pseudoNone {
				gk.key = keyOf(g)
			}
			c.groups[i] = append(c.groups[i], gk)
			c.grouped = true
		}
		if s.MaxGroups < 0 {
			errs = append(errs, fmt.Errorf("flow %q: max_groups %d is negative", s.Name, s.MaxGroups))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	c.idx = buildIndex(c.flows)
	return c, nil
}

// compileRule compiles r; regexes, if not nil, caches compiled regexes by
// expression.
func compileRule(r Rule, regexes map[string]matcher) (compiledRule, error) {
	if err := validateRuleShape(r); err != nil {
		return compiledRule{}, err
	}
	cr := compiledRule{op: r.Op, pseudo: pseudoOf(r.Attribute), exists: r.Exists}
	switch r.Op {
	case OpEquals, OpNotEquals:
		cr.lit = parseLiteral(r.Value)
	case OpIn:
		cr.lits = make([]literal, len(r.Values))
		for i, v := range r.Values {
			cr.lits[i] = parseLiteral(v)
		}
	case OpRegex, OpNotRegex:
		m, ok := regexes[r.Value]
		if !ok {
			var err error
			if m, err = newMatcher(r.Value); err != nil {
				return compiledRule{}, err
			}
			if regexes != nil {
				regexes[r.Value] = m
			}
		}
		cr.re = m
	case OpGt, OpGte, OpLt, OpLte:
		cr.num = numberOfFloat(r.Number)
	}
	return cr, nil
}

func parseLiteral(s string) literal {
	l := literal{s: s}
	if ok, integral := numberSyntax(s); ok {
		n := parseNumber(s, integral)
		l.f, l.isFloat = n.f, true
		l.i, l.isInt = n.i, n.isInt
		if n.isInt {
			l.f = float64(n.i)
		}
	}
	switch s {
	case "true":
		l.b, l.isBool = true, true
	case "false":
		l.isBool = true
	}
	return l
}

func numberOfFloat(f float64) number {
	// 2^63 is exactly representable; anything at or beyond it is not an int64.
	if f == math.Trunc(f) && f >= -(1<<63) && f < (1<<63) {
		return number{i: int64(f), f: f, isInt: true}
	}
	return number{f: f}
}

// Keys returns the distinct attribute keys (pseudo keys excluded) that any
// rule reads, in first-use order: an adapter looks these up, once per
// resource and once per span, and fills Input.Span and Input.Resource at the
// same indexes. The caller must not modify the slice.
func (c *Classifier) Keys() []string { return c.keys }

// Len returns the number of flows.
func (c *Classifier) Len() int { return len(c.specs) }

// Name returns the name of flow i.
func (c *Classifier) Name(i int) string { return c.names[i] }

// Spec returns flow i as given, with an empty Tier filled with DefaultTier.
// Its slices and map are shared: do not modify them.
func (c *Classifier) Spec(i int) Spec { return c.specs[i] }

// Index returns the index of the flow named name.
func (c *Classifier) Index(name string) (int, bool) {
	i, ok := c.index[name]
	return i, ok
}

// Classify returns the first flow whose rules hold for the span, skipping
// entry-only flows for spans that are not entry spans. It looks flows up in
// an index rather than trying each (see index.go), so its cost hardly grows
// with the number of flows. It does not allocate.
func (c *Classifier) Classify(in *Input) Result {
	entry := IsEntry(in.Kind, in.Root)
	root := c.idx.entryRoot
	if !entry {
		root = c.idx.otherRoot
	}
	if root == 0 {
		return Result{Flow: -1, Entry: entry} // no flow takes such spans
	}
	none := int32(len(c.flows))
	f := c.search(root, in, entry, none)
	if f == none {
		return Result{Flow: -1, Entry: entry}
	}
	return Result{Flow: int(f), Entry: entry, Error: c.flows[f].isError(in)}
}

func allHold(rules []compiledRule, in *Input) bool {
	for i := range rules {
		if !rules[i].holds(in) {
			return false
		}
	}
	return true
}

func (f *compiledFlow) isError(in *Input) bool {
	if f.statusError && in.StatusError {
		return true
	}
	for i := range f.errors {
		if f.errors[i].holds(in) {
			return true
		}
	}
	return false
}

// lookup returns the value the rule tests.
func (r *compiledRule) lookup(in *Input) Value { return lookup(r.pseudo, r.key, in) }

func (r *compiledRule) holds(in *Input) bool {
	v := r.lookup(in)
	switch r.op {
	case OpEquals:
		return r.lit.equal(&v)
	case OpNotEquals:
		return !r.lit.equal(&v)
	case OpIn:
		for i := range r.lits {
			if r.lits[i].equal(&v) {
				return true
			}
		}
		return false
	case OpRegex:
		return r.regexMatch(&v, in)
	case OpNotRegex:
		return !r.regexMatch(&v, in)
	case OpExists:
		return (v.Kind != ValueAbsent) == r.exists
	case OpGt, OpGte, OpLt, OpLte:
		n, ok := numberOf(&v)
		if !ok {
			return false
		}
		c, ok := compareNumbers(n, r.num)
		if !ok {
			return false
		}
		switch r.op {
		case OpGt:
			return c > 0
		case OpGte:
			return c >= 0
		case OpLt:
			return c < 0
		default:
			return c <= 0
		}
	}
	return false
}

func (l *literal) equal(v *Value) bool {
	switch v.Kind {
	case ValueStr:
		return v.Str == l.s
	case ValueInt:
		if l.isInt {
			return v.Int == l.i
		}
		return l.isFloat && float64(v.Int) == l.f
	case ValueDouble:
		return l.isFloat && v.Double == l.f
	case ValueBool:
		return l.isBool && v.Bool == l.b
	}
	return false
}

func (r *compiledRule) regexMatch(v *Value, in *Input) bool {
	switch v.Kind {
	case ValueStr:
		return r.re.MatchString(v.Str)
	case ValueInt:
		in.scratch = strconv.AppendInt(in.scratch[:0], v.Int, 10)
		return r.re.Match(in.scratch)
	case ValueDouble:
		in.scratch = appendDouble(in.scratch[:0], v.Double)
		return r.re.Match(in.scratch)
	case ValueBool:
		return r.re.MatchString(strconv.FormatBool(v.Bool))
	}
	return false
}

// appendDouble writes f as people write numbers (and as pdata's AsString
// does): plain decimals for ordinary magnitudes, exponents only for tiny or
// huge ones.
func appendDouble(b []byte, f float64) []byte {
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func numberOf(v *Value) (number, bool) {
	switch v.Kind {
	case ValueInt:
		return number{i: v.Int, f: float64(v.Int), isInt: true}, true
	case ValueDouble:
		return number{f: v.Double}, true
	case ValueStr:
		ok, integral := numberSyntax(v.Str)
		if !ok {
			return number{}, false
		}
		return parseNumber(v.Str, integral), true
	}
	return number{}, false
}

// compareNumbers returns -1, 0 or 1 as a is less than, equal to or greater
// than b; ok is false when either is NaN.
func compareNumbers(a, b number) (int, bool) {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	}
	switch {
	case a.f < b.f:
		return -1, true
	case a.f > b.f:
		return 1, true
	case a.f == b.f:
		return 0, true
	}
	return 0, false
}

// numberSyntax reports whether s is a plain decimal number ([+-]digits[.digits]
// [e[+-]digits]) and whether it is an integer. Checking first keeps the
// strconv parsers off their error paths, which allocate: a span attribute
// that is not a number must cost nothing.
func numberSyntax(s string) (ok, integral bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	integral = true
	if i < len(s) && s[i] == '.' {
		integral = false
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		integral = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return false, false
		}
	}
	return i == len(s), integral
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseNumber parses s, which numberSyntax accepted. Integers of up to 18
// digits cannot overflow int64, so ParseInt never fails on them; longer ones
// and decimals go through ParseFloat, which fails (and allocates) only on
// overflow past ±1.8e308, where its ±Inf result still compares correctly.
func parseNumber(s string, integral bool) number {
	digits := len(s)
	if s[0] == '+' || s[0] == '-' {
		digits--
	}
	if integral && digits <= 18 {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return number{i: i, f: float64(i), isInt: true}
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return number{f: f}
}
