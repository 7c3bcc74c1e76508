package metricsli

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// WindowPlaceholder stands for the window in a PromQL query, as in Sloth:
// rate(x_total[{{.window}}]). Burnwatch's windows are its tiers' own, so a
// query names none itself. Sloth's spacing, {{ .window }}, is read too.
const WindowPlaceholder = "{{.window}}"

var placeholderRE = regexp.MustCompile(`\{\{\s*\.window\s*\}\}`)

// windowStandIn replaces each placeholder before parsing; where it stands
// is remembered, so a literal "[1m]" is still told apart.
const windowStandIn = "1m"

// PromQL is an indicator written in PromQL: two of Good, Bad and Total, or
// Ratio alone, the bad ratio a / b (Bad a, Total b).
type PromQL struct {
	Good, Bad, Total, Ratio string
	// Counters lets a query sum counters without rate or increase, as
	// OpenSLO's ratioMetric with counter: true does: sum(x_total{...})
	// counts the increases of x_total.
	Counters bool
}

// Supported names the PromQL subset, for messages.
const Supported = "sum or sum by/without of rate or increase over [" + WindowPlaceholder + "] of a selector of a _total, _count or _bucket{le=...} series, or a ratio a / b of two such"

// ExprError is a problem of one PromQL expression of an Indicator.
type ExprError struct {
	// Query is the expression's name: good, bad, total or ratio.
	Query string
	// Line and Column are where in the expression, 1-based (Column counts
	// characters); both 0 when the problem is the expression as a whole.
	Line, Column int
	Err          error
}

func (e *ExprError) Error() string {
	if e.Line == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Err)
}

func (e *ExprError) Unwrap() error { return e.Err }

// CompilePromQL maps the documented subset of PromQL (Supported) onto an
// Indicator. Every construct outside it is an *ExprError naming the
// construct and where it is; errors are joined.
func CompilePromQL(q PromQL) (*Indicator, error) {
	in := &Indicator{PromQL: map[string]string{}}
	var errs []error
	given := 0
	for _, e := range []struct{ name, src string }{{"good", q.Good}, {"bad", q.Bad}, {"total", q.Total}} {
		if e.src != "" {
			given++
		}
	}
	switch {
	case q.Ratio != "" && given > 0:
		return nil, errors.New("give ratio alone, or two of good, bad and total")
	case q.Ratio == "" && given != 2:
		return nil, errors.New("give exactly two of good, bad and total, or ratio alone")
	}
	var parts []*query
	add := func(name, src string, allow allowed) *query {
		if src == "" {
			return nil
		}
		in.PromQL[name] = src
		c := &compiler{name: name, counters: q.Counters}
		qq, err := c.compile(src, allow)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		parts = append(parts, qq)
		return qq
	}
	var good, bad, total *query
	if q.Ratio != "" {
		r := add("ratio", q.Ratio, allowRatio)
		if r != nil && r.num == nil {
			errs = append(errs, &ExprError{Query: "ratio", Err: errors.New("is not a ratio: want the bad ratio a / b of two sums (or give bad and total)")})
		} else if r != nil {
			bad, total = r.num, r.den
			parts = []*query{bad, total}
		}
	} else {
		good = add("good", q.Good, 0)
		bad = add("bad", q.Bad, allowDifference)
		total = add("total", q.Total, 0)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if bad != nil && bad.num != nil {
		// Sloth writes latency errors as total - good.
		if total == nil || !sameQuery(bad.num, total) {
			return nil, &ExprError{Query: "bad", Err: errors.New("a difference a - b is read as total - good: its first operand must be the total query (good = b)")}
		}
		good, bad = bad.den, nil
	}
	in.Good, in.Bad, in.Total = sourceOf(good), sourceOf(bad), sourceOf(total)
	in.Grouping = parts[0].grouping
	for _, p := range parts[1:] {
		if !p.grouping.equal(in.Grouping) {
			return nil, &ExprError{Query: p.name, Line: p.line, Column: p.col,
				Err: fmt.Errorf("groups %s but %s groups %s (every query must group alike)", orNone(p.grouping), parts[0].name, orNone(in.Grouping))}
		}
		if p.fn != parts[0].fn {
			return nil, &ExprError{Query: p.name, Line: p.line, Column: p.col,
				Err: fmt.Errorf("uses %s but %s uses %s (a ratio of the two would be scaled by the window)", p.fn, parts[0].name, parts[0].fn)}
		}
	}
	return in, nil
}

func orNone(g Grouping) string {
	if g.Grouped() {
		return g.String()
	}
	return "by nothing"
}

func sourceOf(q *query) *Source {
	if q == nil {
		return nil
	}
	return &q.src
}

func sameQuery(a, b *query) bool {
	if a.src.Kind != b.src.Kind || a.src.PromName != b.src.PromName || a.src.LE != b.src.LE || !a.grouping.equal(b.grouping) {
		return false
	}
	key := func(ms []LabelMatcher) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.String()
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a.src.Labels), key(b.src.Labels))
}

// allowed says which binary expression an expression may be.
type allowed uint8

const (
	allowRatio      allowed = 1 << iota // a / b
	allowDifference                     // a - b (Sloth's total - good)
)

// query is one compiled counting expression, or a ratio or difference of
// two (num, den).
type query struct {
	name      string
	src       Source
	grouping  Grouping
	fn        string // rate, increase, or "" for a counter without either
	line, col int
	num, den  *query
}

// compiler compiles one expression.
type compiler struct {
	name     string
	counters bool
	src      string // as written
	parsed   string // placeholders replaced
	// standIns are the byte ranges of the placeholders in parsed, with the
	// original ones, to map positions back and tell windows apart.
	standIns []standIn
	errs     []error
	// literal holds positions of literal windows; placeholders counts the
	// windows written with the placeholder.
	literal      []int
	placeholders int
}

type standIn struct{ start, end, origStart, origEnd int }

func (c *compiler) compile(src string, allow allowed) (*query, error) {
	c.src = src
	c.substitute()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(c.parsed)
	if err != nil {
		var pe parser.ParseErrors
		if errors.As(err, &pe) && len(pe) > 0 {
			return nil, c.errorAt(int(pe[0].PositionRange.Start), "does not parse: %s", pe[0].Err)
		}
		return nil, &ExprError{Query: c.name, Err: fmt.Errorf("does not parse: %w", err)}
	}
	q := c.top(expr, allow)
	for _, pos := range c.literal {
		if c.placeholders > 0 {
			c.errs = append(c.errs, c.errorAt(pos, "mixed windows: a literal window here and %s elsewhere (write %s everywhere)", WindowPlaceholder, WindowPlaceholder))
		} else {
			c.errs = append(c.errs, c.errorAt(pos, "a literal window: write [%s] (Burnwatch evaluates every tier's own windows)", WindowPlaceholder))
		}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return q, nil
}

// substitute replaces the placeholders with a duration the parser reads.
func (c *compiler) substitute() {
	var b strings.Builder
	last := 0
	for _, m := range placeholderRE.FindAllStringIndex(c.src, -1) {
		b.WriteString(c.src[last:m[0]])
		start := b.Len()
		b.WriteString(windowStandIn)
		c.standIns = append(c.standIns, standIn{start, b.Len(), m[0], m[1]})
		last = m[1]
	}
	b.WriteString(c.src[last:])
	c.parsed = b.String()
}

// original maps a byte offset in the parsed text to one in the source.
func (c *compiler) original(pos int) int {
	shift := 0
	for _, s := range c.standIns {
		switch {
		case pos >= s.end:
			shift += (s.origEnd - s.origStart) - (s.end - s.start)
		case pos >= s.start:
			return s.origStart
		}
	}
	return pos + shift
}

// lineCol gives the 1-based line and column (in characters) of a byte
// offset in the parsed text, as the source has it.
func (c *compiler) lineCol(pos int) (int, int) {
	off := min(max(c.original(pos), 0), len(c.src))
	before := c.src[:off]
	line := 1 + strings.Count(before, "\n")
	col := 1 + utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:])
	return line, col
}

func (c *compiler) errorAt(pos int, format string, args ...any) *ExprError {
	line, col := c.lineCol(pos)
	return &ExprError{Query: c.name, Line: line, Column: col, Err: fmt.Errorf(format, args...)}
}

func (c *compiler) fail(n parser.Node, format string, args ...any) {
	c.errs = append(c.errs, c.errorAt(int(n.PositionRange().Start), format, args...))
}

// refuse reports a construct outside the subset.
func (c *compiler) refuse(n parser.Node, construct string) {
	c.fail(n, "%s is not supported (supported: %s)", construct, Supported)
}

// top compiles the whole expression: a counting expression, or where
// allowed a ratio or difference of two.
func (c *compiler) top(e parser.Expr, allow allowed) *query {
	e = unparen(e)
	b, ok := e.(*parser.BinaryExpr)
	if !ok {
		return c.counting(e)
	}
	op := c.operatorPos(b)
	switch {
	case b.Op == parser.DIV && allow&allowRatio != 0:
	case b.Op == parser.SUB && allow&allowDifference != 0:
	default:
		c.errs = append(c.errs, c.errorAt(op, "binary operator %s is not supported (supported: %s)", b.Op, Supported))
		return nil
	}
	if m := b.VectorMatching; m != nil && (m.On || len(m.MatchingLabels) > 0 || m.Card != parser.CardOneToOne) {
		c.errs = append(c.errs, c.errorAt(op, "vector matching (on, ignoring, group_left, group_right) is not supported: both sides must group alike"))
		return nil
	}
	num, den := c.counting(unparen(b.LHS)), c.counting(unparen(b.RHS))
	if num == nil || den == nil {
		return nil
	}
	num.name, den.name = c.name, c.name
	q := *num
	q.num, q.den = num, den
	if !num.grouping.equal(den.grouping) {
		c.errs = append(c.errs, c.errorAt(op, "the two sides group differently, %s and %s (group both alike)", orNone(num.grouping), orNone(den.grouping)))
		return nil
	}
	return &q
}

// operatorPos finds a binary operator in the text after its left operand.
func (c *compiler) operatorPos(b *parser.BinaryExpr) int {
	pos := int(b.LHS.PositionRange().End)
	for pos < len(c.parsed) && strings.ContainsRune(" \t\r\n)", rune(c.parsed[pos])) {
		pos++
	}
	return pos
}

func unparen(e parser.Expr) parser.Expr {
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			return e
		}
		e = p.Expr
	}
}

// counting compiles sum [by|without (...)] (rate|increase(selector[w])).
func (c *compiler) counting(e parser.Expr) *query {
	start := int(e.PositionRange().Start)
	line, col := c.lineCol(start)
	q := &query{name: c.name, line: line, col: col}
	switch n := e.(type) {
	case *parser.AggregateExpr:
		if n.Op != parser.SUM {
			c.refuse(n, "aggregation "+n.Op.String())
			return nil
		}
		q.grouping = Grouping{Labels: slices.Sorted(slices.Values(n.Grouping)), Without: n.Without}
		if !c.rate(unparen(n.Expr), q) {
			return nil
		}
		return q
	case *parser.VectorSelector:
		if c.counters {
			// A counter without sum: all its series, summed.
			if !c.selector(n, q) {
				return nil
			}
			return q
		}
		c.fail(n, "a selector without rate or increase: write sum(rate(%s[%s]))", n.String(), WindowPlaceholder)
	case *parser.Call:
		if n.Func.Name == "rate" || n.Func.Name == "increase" {
			c.fail(n, "%s without sum: write sum(%s) for all series, or sum by (...) (%s) for one alert per group", n.Func.Name, n.String(), n.String())
			return nil
		}
		c.refuse(n, "function "+n.Func.Name)
	default:
		c.refuseNode(e)
	}
	return nil
}

// rate compiles what a sum sums.
func (c *compiler) rate(e parser.Expr, q *query) bool {
	switch n := e.(type) {
	case *parser.Call:
		switch n.Func.Name {
		case "rate", "increase":
		case "irate":
			c.refuse(n, "irate (it reads only the last two samples; use rate)")
			return false
		default:
			c.refuse(n, "function "+n.Func.Name)
			return false
		}
		q.fn = n.Func.Name
		arg := unparen(n.Args[0])
		m, ok := arg.(*parser.MatrixSelector)
		if !ok {
			c.refuseNode(arg)
			return false
		}
		c.window(m)
		vs, ok := m.VectorSelector.(*parser.VectorSelector)
		if !ok {
			c.refuseNode(m.VectorSelector)
			return false
		}
		return c.selector(vs, q)
	case *parser.VectorSelector:
		if c.counters {
			return c.selector(n, q)
		}
		c.fail(n, "a selector without rate or increase: write rate(%s[%s])", n.String(), WindowPlaceholder)
		return false
	case *parser.AggregateExpr:
		c.refuse(n, "a nested aggregation ("+n.Op.String()+" inside sum)")
		return false
	}
	c.refuseNode(e)
	return false
}

// window checks a range is the placeholder. The range is the last
// bracket of the matrix selector (an offset may follow it).
func (c *compiler) window(m *parser.MatrixSelector) {
	end := min(int(m.EndPos), len(c.parsed))
	open := strings.LastIndexByte(c.parsed[:end], '[')
	for _, s := range c.standIns {
		if s.start == open+1 {
			c.placeholders++
			return
		}
	}
	c.literal = append(c.literal, open)
}

// refuseNode names a construct by its AST node.
func (c *compiler) refuseNode(e parser.Node) {
	switch n := e.(type) {
	case *parser.SubqueryExpr:
		c.refuse(n, "a subquery")
	case *parser.NumberLiteral:
		c.refuse(n, "a number")
	case *parser.StringLiteral:
		c.refuse(n, "a string")
	case *parser.UnaryExpr:
		c.refuse(n, "unary "+n.Op.String())
	case *parser.BinaryExpr:
		c.errs = append(c.errs, c.errorAt(c.operatorPos(n), "binary operator %s is not supported (supported: %s)", n.Op, Supported))
	case *parser.AggregateExpr:
		c.refuse(n, "aggregation "+n.Op.String())
	case *parser.Call:
		c.refuse(n, "function "+n.Func.Name)
	case *parser.MatrixSelector:
		c.refuse(n, "a range selector here")
	default:
		c.refuse(e, fmt.Sprintf("%T", e))
	}
}

// selector compiles a vector selector into q.src.
func (c *compiler) selector(vs *parser.VectorSelector, q *query) bool {
	ok := true
	if vs.OriginalOffset != 0 || vs.OriginalOffsetExpr != nil {
		c.refuse(vs, "offset")
		ok = false
	}
	if vs.Timestamp != nil || vs.StartOrEnd != 0 {
		c.refuse(vs, "the @ modifier")
		ok = false
	}
	var le *labels.Matcher
	name := ""
	for _, m := range vs.LabelMatchers {
		switch m.Name {
		case labels.MetricName:
			if m.Type != labels.MatchEqual {
				c.fail(vs, "%s on the metric name is not supported: name one metric", m.Type)
				return false
			}
			name = m.Value
		case "le":
			le = m
		default:
			lm, err := NewLabelMatcher(m.Name, matchOp(m.Type), m.Value)
			if err != nil {
				c.fail(vs, "label %s: %v", m.Name, err)
				ok = false
				continue
			}
			q.src.Labels = append(q.src.Labels, lm)
		}
	}
	if name == "" {
		c.fail(vs, "a selector without a metric name: name one metric")
		return false
	}
	q.src.PromName = name
	switch {
	case strings.HasSuffix(name, "_total"):
		q.src.Kind = Sum
	case strings.HasSuffix(name, "_count"):
		q.src.Kind = HistogramCount
	case strings.HasSuffix(name, "_bucket"):
		q.src.Kind = HistogramBucket
	case strings.HasSuffix(name, "_sum"):
		c.fail(vs, "%s is a histogram's sum of observed values, not a count of events (use _count, or _bucket with le)", name)
		return false
	default:
		c.fail(vs, "%s names no counter: an OTLP monotonic sum's name ends in _total, a histogram's series in _count and _bucket", name)
		return false
	}
	switch {
	case q.src.Kind == HistogramBucket && le == nil:
		c.fail(vs, "%s needs le=\"<upper bound>\": the bucket of observations at most that bound", name)
		return false
	case q.src.Kind != HistogramBucket && le != nil:
		c.fail(vs, "le selects a bucket and applies only to a _bucket series, not %s", name)
		return false
	case le != nil && le.Type != labels.MatchEqual:
		c.fail(vs, "le%s is not supported: select one bucket with le=\"<upper bound>\"", le.Type)
		return false
	case le != nil:
		v, err := strconv.ParseFloat(le.Value, 64)
		if err != nil || v != v {
			c.fail(vs, "le=%q is not a bucket bound (want a number such as 0.3, or +Inf)", le.Value)
			return false
		}
		q.src.LE = v
	}
	return ok
}

func matchOp(t labels.MatchType) MatchOp {
	switch t {
	case labels.MatchNotEqual:
		return MatchNotEqual
	case labels.MatchRegexp:
		return MatchRegex
	case labels.MatchNotRegexp:
		return MatchNotRegex
	}
	return MatchEqual
}
