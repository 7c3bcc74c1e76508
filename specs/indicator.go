package specs

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
)

// An SLO measured by metrics has spec.indicator in place of spec.flow and
// spec.objective: metric (event counts from sums or histogram counts),
// latency (a histogram read at a threshold) or promql (the Sloth-style
// subset of metricsli.CompilePromQL). Its slo.Spec gets the synthetic flow
// metricsli.FlowName(name), which no Flow document can take, and an
// availability objective; the Indicator itself goes to Set.Indicators.

// indicatorKeys are the forms of spec.indicator, exactly one of which is
// given.
var indicatorKeys = []string{"metric", "latency", "promql"}

// Keys of each form and of a metric source.
var (
	metricIndicatorKeys = []string{"good", "bad", "total"}
	metricSourceKeys    = []string{"name", "match"}
	latencyKeys         = []string{"name", "match", "threshold", "interpolate"}
	promqlKeys          = []string{"good", "bad", "total", "ratio"}
)

// metricNameRE is an OpenTelemetry instrument name.
var metricNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_.\-/]{0,254}$`)

// indicator reads spec.indicator; nil when it is broken.
func (p *parser) indicator(n *yaml.Node) *metricsli.Indicator {
	const path = "spec.indicator"
	f, ok := p.fields(n, path, indicatorKeys...)
	if !ok {
		return nil
	}
	var forms []string
	for _, k := range indicatorKeys {
		if f[k] != nil {
			forms = append(forms, k)
		}
	}
	if len(forms) != 1 {
		msg := "empty"
		if len(forms) > 1 {
			msg = "gives " + strings.Join(forms, " and ")
		}
		p.errorf(n, path, "%s (want exactly one of: %s)", msg, strings.Join(indicatorKeys, ", "))
		return nil
	}
	switch forms[0] {
	case "metric":
		return p.metricIndicator(f["metric"], join(path, "metric"))
	case "latency":
		return p.latencyIndicator(f["latency"], join(path, "latency"))
	}
	return p.promqlIndicator(f["promql"], join(path, "promql"), false)
}

// twoOf checks that exactly two of good, bad and total are given.
func (p *parser) twoOf(n *yaml.Node, path string, f map[string]*yaml.Node, extra string) bool {
	var given []string
	for _, k := range metricIndicatorKeys {
		if f[k] != nil {
			given = append(given, k)
		}
	}
	if len(given) == 2 {
		return true
	}
	want := "exactly two of good, bad and total"
	if extra != "" {
		want += ", or " + extra
	}
	switch len(given) {
	case 3:
		p.errorf(n, path, "gives good, bad and total (want %s: the third follows from the two)", want)
	case 0:
		p.errorf(n, path, "is empty (want %s)", want)
	default:
		p.errorf(n, path, "gives only %s (want %s)", given[0], want)
	}
	return false
}

func (p *parser) metricIndicator(n *yaml.Node, path string) *metricsli.Indicator {
	f, ok := p.fields(n, path, metricIndicatorKeys...)
	if !ok {
		return nil
	}
	good := p.twoOf(n, path, f, "")
	in := &metricsli.Indicator{}
	for _, k := range metricIndicatorKeys {
		v := f[k]
		if v == nil {
			continue
		}
		src, ok := p.metricSource(v, join(path, k))
		good = good && ok
		switch k {
		case "good":
			in.Good = src
		case "bad":
			in.Bad = src
		default:
			in.Total = src
		}
	}
	if !good {
		return nil
	}
	return in
}

func (p *parser) metricSource(n *yaml.Node, path string) (*metricsli.Source, bool) {
	f, ok := p.fields(n, path, metricSourceKeys...)
	if !ok {
		return nil, false
	}
	src := &metricsli.Source{Kind: metricsli.Counter}
	ok = p.metricName(n, f, path, &src.Metric)
	src.Match, ok = p.metricMatch(f, path, ok)
	return src, ok
}

// metricName reads the name key of a metric source.
func (p *parser) metricName(n *yaml.Node, f map[string]*yaml.Node, path string, name *string) bool {
	v := f["name"]
	if v == nil {
		p.errorf(n, join(path, "name"), "missing: the OTLP metric's name, e.g. http.server.request.duration")
		return false
	}
	s, ok := p.nonEmpty(v, join(path, "name"))
	if !ok {
		return false
	}
	if !metricNameRE.MatchString(s) {
		p.errorf(v, join(path, "name"), "%q is not an OpenTelemetry metric name (a letter, then up to 254 letters, digits, '_', '.', '-' and '/')", s)
		return false
	}
	*name = s
	return true
}

// metricMatch reads the match rules of a metric source: flow rules on data
// point attributes, with the resource's as fallback.
func (p *parser) metricMatch(f map[string]*yaml.Node, path string, good bool) ([]flows.Rule, bool) {
	m := f["match"]
	if m == nil {
		return nil, good
	}
	items, ok := p.list(m, join(path, "match"))
	if !ok {
		return nil, false
	}
	var rules []flows.Rule
	for i, item := range items {
		ip := index(join(path, "match"), i)
		r, ok := p.rule(item, ip)
		if !ok {
			good = false
			continue
		}
		if r.Attribute == flows.KeySpanName || r.Attribute == flows.KeySpanKind {
			p.errorf(item, join(ip, "attribute"), "%s is a span's; a metric's data points have attributes only", r.Attribute)
			good = false
			continue
		}
		rules = append(rules, r)
	}
	return rules, good
}

func (p *parser) latencyIndicator(n *yaml.Node, path string) *metricsli.Indicator {
	f, ok := p.fields(n, path, latencyKeys...)
	if !ok {
		return nil
	}
	src := metricsli.Source{Kind: metricsli.HistogramThreshold}
	good := p.metricName(n, f, path, &src.Metric)
	src.Match, good = p.metricMatch(f, path, good)
	if t := f["threshold"]; t == nil {
		p.errorf(n, join(path, "threshold"), "missing: good observations take at most this long, e.g. threshold: 300ms")
		good = false
	} else if src.Threshold, ok = p.duration(t, join(path, "threshold")); !ok {
		good = false
	}
	if i := f["interpolate"]; i != nil {
		if src.Interpolate, ok = p.boolean(i, join(path, "interpolate")); !ok {
			good = false
		}
	}
	if !good {
		return nil
	}
	total := metricsli.Source{Kind: metricsli.HistogramCount, Metric: src.Metric, Match: src.Match}
	return &metricsli.Indicator{Good: &src, Total: &total}
}

// promqlIndicator reads and compiles a promql indicator. With counters,
// a query may sum counters without rate (OpenSLO's counter: true).
func (p *parser) promqlIndicator(n *yaml.Node, path string, counters bool) *metricsli.Indicator {
	f, ok := p.fields(n, path, promqlKeys...)
	if !ok {
		return nil
	}
	if r := f["ratio"]; r != nil {
		for _, k := range metricIndicatorKeys {
			if f[k] != nil {
				p.errorf(f[k], join(path, k), "ratio is given: give ratio alone, or two of good, bad and total")
				return nil
			}
		}
	} else if !p.twoOf(n, path, f, "ratio alone") {
		return nil
	}
	q := metricsli.PromQL{Counters: counters}
	nodes := map[string]*yaml.Node{}
	good := true
	for _, k := range promqlKeys {
		v := f[k]
		if v == nil {
			continue
		}
		s, ok := p.nonEmpty(v, join(path, k))
		good = good && ok
		nodes[k] = v
		switch k {
		case "good":
			q.Good = s
		case "bad":
			q.Bad = s
		case "total":
			q.Total = s
		default:
			q.Ratio = s
		}
	}
	if !good {
		return nil
	}
	paths := map[string]string{}
	for k := range nodes {
		paths[k] = join(path, k)
	}
	return p.compilePromQL(q, n, path, nodes, paths)
}

// compilePromQL compiles q and reports each problem at the query it is in
// (nodes and paths by query name: good, bad, total, ratio), at its line
// and column in the file where they can be told.
func (p *parser) compilePromQL(q metricsli.PromQL, n *yaml.Node, path string, nodes map[string]*yaml.Node, paths map[string]string) *metricsli.Indicator {
	in, err := metricsli.CompilePromQL(q)
	if err == nil {
		return in
	}
	for _, e := range flatten(err) {
		var xe *metricsli.ExprError
		if !errors.As(e, &xe) || nodes[xe.Query] == nil {
			p.wrap(n, path, e)
			continue
		}
		v, qp := nodes[xe.Query], paths[xe.Query]
		if xe.Line == 0 {
			p.wrap(v, qp, xe.Err)
			continue
		}
		line, col := p.exprPosition(v, xe.Line, xe.Column)
		p.errs = append(p.errs, &Error{File: p.file, Line: line, Column: col, Path: qp,
			Err: exprErr{line: xe.Line, col: xe.Column, err: xe.Err}})
	}
	return nil
}

// exprErr is a problem at a line and column of an expression.
type exprErr struct {
	line, col int
	err       error
}

func (e exprErr) Error() string {
	return fmt.Sprintf("expression %d:%d: %s", e.line, e.col, e.err)
}

func (e exprErr) Unwrap() error { return e.err }

// exprPosition maps a line and column inside the scalar v to the file:
// exactly for one-line plain and quoted scalars (escapes aside) and for
// literal blocks (|); the scalar's own line, without a column, otherwise.
func (p *parser) exprPosition(v *yaml.Node, line, col int) (int, int) {
	switch {
	case v.Style == yaml.LiteralStyle:
		fileLine := v.Line + line
		if fileLine-1 < len(p.lines) {
			exprLine := strings.Split(v.Value, "\n")[line-1]
			indent := leadingSpaces(p.lines[fileLine-1]) - leadingSpaces(exprLine)
			return fileLine, indent + col
		}
		return fileLine, 0
	case strings.Contains(v.Value, "\n") || v.Style == yaml.FoldedStyle:
		return v.Line, 0
	case v.Style == yaml.DoubleQuotedStyle || v.Style == yaml.SingleQuotedStyle:
		return v.Line, v.Column + col
	}
	return v.Line, v.Column + col - 1
}

func leadingSpaces(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
