package flows

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Span attributes the flow processor sets on the spans it classifies. They
// are the contract with the SLO connector, which reads them: keep the names.
const (
	// FlowAttribute holds the flow name (string).
	FlowAttribute = "burnwatch.flow"
	// ErrorAttribute says whether the span counts as an error (bool).
	ErrorAttribute = "burnwatch.error"
)

// Criticality tiers of a flow, most critical first.
const (
	TierCritical = "critical"
	TierHigh     = "high"
	TierMedium   = "medium"
	TierLow      = "low"
	// DefaultTier is the tier of a flow that names none.
	DefaultTier = TierMedium
)

// ValidTier reports whether t is one of the criticality tiers.
func ValidTier(t string) bool {
	switch t {
	case TierCritical, TierHigh, TierMedium, TierLow:
		return true
	}
	return false
}

// Pseudo attribute keys: rules on them test the span itself rather than an
// attribute. They shadow span or resource attributes of the same name.
const (
	// KeySpanName is the span's name.
	KeySpanName = "span.name"
	// KeySpanKind is the span's kind as a lowercase word: server, client,
	// producer, consumer, internal (or unspecified).
	KeySpanKind = "span.kind"
)

// Spec is one flow as a team wrote it.
type Spec struct {
	// Name identifies the flow; it becomes the burnwatch.flow attribute and
	// the flow label of metrics.
	Name   string
	Labels map[string]string
	// Tier is the flow's criticality: critical, high, medium or low. Empty
	// means DefaultTier.
	Tier string
	// Match rules must all hold for a span to belong to the flow.
	Match []Rule
	// EntryOnly restricts the flow to entry spans (kind server or consumer,
	// or a root span) so that a request is counted once per trace, not once
	// per hop. Files default it to true; the Go zero value accepts any span.
	EntryOnly bool
	// Errors decides which spans of the flow are errors.
	Errors ErrorSpec
	// GroupBy splits the flow into one flow per combination of values of
	// these keys (an attribute of the span, else of its resource, or a
	// pseudo key), as Pyrra's grouping splits an SLO per label value: see
	// GroupName. Empty: the flow is one flow.
	GroupBy []string
	// MaxGroups caps a grouped flow's groups (DefaultMaxGroups when 0):
	// spans of further values, and spans that lack every GroupBy key,
	// stay in the flow itself.
	MaxGroups int
}

// DefaultMaxGroups is a grouped flow's cap on groups when its spec gives
// none.
const DefaultMaxGroups = 100

// ErrorSpec decides which spans of a flow are errors: a span is an error if
// StatusError is set and its status is Error, or if any rule holds.
type ErrorSpec struct {
	StatusError bool
	Rules       []Rule
}

// DefaultErrors is what a flow counts as an error when its file says
// nothing: status Error, or an HTTP response status code of 500 or more.
func DefaultErrors() ErrorSpec {
	return ErrorSpec{
		StatusError: true,
		Rules:       []Rule{{Attribute: "http.response.status_code", Op: OpGte, Number: 500}},
	}
}

// Operator is how a Rule tests its attribute.
type Operator uint8

// Operators. Their String is the key used in spec files.
const (
	OpInvalid Operator = iota
	// OpEquals holds when the value equals Rule.Value. Numbers and booleans
	// compare by value, so "200" equals an int attribute 200.
	OpEquals
	// OpNotEquals holds when OpEquals does not, including when the attribute
	// is absent (like a Prometheus != matcher).
	OpNotEquals
	// OpRegex holds when the whole value (its decimal form for numbers)
	// matches the RE2 expression Rule.Value: it is anchored at both ends.
	OpRegex
	// OpNotRegex holds when OpRegex does not, including when the attribute
	// is absent.
	OpNotRegex
	// OpIn holds when the value equals one of Rule.Values.
	OpIn
	// OpExists holds when the attribute's presence is Rule.Exists.
	OpExists
	// OpGt, OpGte, OpLt and OpLte compare a numeric value (an int or double
	// attribute, or a string that parses as a decimal number) with
	// Rule.Number. Anything else does not match.
	OpGt
	OpGte
	OpLt
	OpLte
)

var opNames = [...]string{
	OpInvalid:   "invalid",
	OpEquals:    "equals",
	OpNotEquals: "not_equals",
	OpRegex:     "regex",
	OpNotRegex:  "not_regex",
	OpIn:        "in",
	OpExists:    "exists",
	OpGt:        "gt",
	OpGte:       "gte",
	OpLt:        "lt",
	OpLte:       "lte",
}

// String returns the operator's key in spec files, e.g. "not_regex".
func (o Operator) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "operator(" + strconv.Itoa(int(o)) + ")"
}

// Operators lists the valid operators in their documented order.
func Operators() []Operator {
	return []Operator{OpEquals, OpNotEquals, OpRegex, OpNotRegex, OpIn, OpExists, OpGt, OpGte, OpLt, OpLte}
}

// ParseOperator returns the operator whose String is s.
func ParseOperator(s string) (Operator, bool) {
	for _, o := range Operators() {
		if opNames[o] == s {
			return o, true
		}
	}
	return OpInvalid, false
}

func (o Operator) numeric() bool { return o >= OpGt && o <= OpLte }

// Rule tests one attribute with one operator. Only the operand field that
// belongs to Op is read.
type Rule struct {
	// Attribute is the attribute key, or a pseudo key (KeySpanName,
	// KeySpanKind).
	Attribute string
	Op        Operator
	// Value is the operand of OpEquals, OpNotEquals, OpRegex, OpNotRegex.
	Value string
	// Values is the operand of OpIn.
	Values []string
	// Number is the operand of OpGt, OpGte, OpLt, OpLte.
	Number float64
	// Exists is the operand of OpExists: true means present, false absent.
	Exists bool
}

// String renders the rule for messages, e.g. `http.route regex "/a.*"`.
func (r Rule) String() string {
	switch r.Op {
	case OpIn:
		return fmt.Sprintf("%s in %q", r.Attribute, r.Values)
	case OpExists:
		return fmt.Sprintf("%s exists %t", r.Attribute, r.Exists)
	case OpGt, OpGte, OpLt, OpLte:
		return fmt.Sprintf("%s %s %v", r.Attribute, r.Op, r.Number)
	}
	return fmt.Sprintf("%s %s %q", r.Attribute, r.Op, r.Value)
}

// Validate checks one rule: a known operator, a regular expression that
// compiles, a span kind that exists. Its messages name no path: the caller
// knows where the rule came from.
func (r Rule) Validate() error {
	_, err := compileRule(r, nil)
	return err
}

// anchor makes an expression match whole values only, as Prometheus label
// matchers do; (?s) lets "." match newlines in multi-line values.
func anchor(expr string) string { return "^(?s:" + expr + ")$" }

func checkSpanKinds(vals ...string) error {
	var errs []error
	for _, v := range vals {
		if _, ok := ParseSpanKind(v); !ok {
			errs = append(errs, fmt.Errorf("%q is not a span kind (allowed: server, client, producer, consumer, internal, unspecified)", v))
		}
	}
	return errors.Join(errs...)
}

// pseudoKey tells a rule to read the span itself instead of an attribute.
type pseudoKey uint8

const (
	pseudoNone pseudoKey = iota
	pseudoName
	pseudoKind
)

func pseudoOf(key string) pseudoKey {
	switch key {
	case KeySpanName:
		return pseudoName
	case KeySpanKind:
		return pseudoKind
	}
	return pseudoNone
}

func validateRuleShape(r Rule) error {
	if strings.TrimSpace(r.Attribute) == "" {
		return errors.New("attribute is empty")
	}
	p := pseudoOf(r.Attribute)
	switch r.Op {
	case OpEquals, OpNotEquals:
		if p == pseudoKind {
			return checkSpanKinds(r.Value)
		}
	case OpIn:
		if len(r.Values) == 0 {
			return errors.New("in needs at least one value")
		}
		if p == pseudoKind {
			return checkSpanKinds(r.Values...)
		}
	case OpRegex, OpNotRegex, OpExists:
	case OpGt, OpGte, OpLt, OpLte:
		if p != pseudoNone {
			return fmt.Errorf("%s compares numbers and %s is never a number", r.Op, r.Attribute)
		}
		if math.IsNaN(r.Number) {
			return fmt.Errorf("%s needs a number, not NaN", r.Op)
		}
	default:
		return fmt.Errorf("unknown operator %s", r.Op)
	}
	return nil
}
