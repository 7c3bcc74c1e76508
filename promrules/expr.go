package promrules

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// counts gives the PromQL of an SLO's bad events, all its events, and the
// events the minimum-traffic guard counts, over window w. Each is a sum of
// increases, so bad / total is a ratio of sums.
type counts func(w time.Duration) (bad, total, events string, err error)

// daemonCounts reads the daemon's per-SLO counters; for an SLO of a
// grouped flow, those of each group's copy apart.
func daemonCounts(name string, grouped bool) counts {
	match, by := "slo="+strconv.Quote(name), ""
	if grouped {
		match, by = "slo=~"+strconv.Quote(copiesRE(name)), " by (slo) "
	}
	return func(w time.Duration) (string, string, string, error) {
		win := slo.FormatDuration(w)
		bad := fmt.Sprintf(`sum%s(increase(%s{%s,outcome="bad"}[%s]))`, by, EventsMetric, match, win)
		total := fmt.Sprintf(`sum%s(increase(%s{%s}[%s]))`, by, EventsMetric, match, win)
		return bad, total, total, nil
	}
}

// promqlCounts reads the team's own series through the queries the
// indicator was written in, with the window placeholder replaced by w and
// rate turned into increase (the ratio of two rates over one window is the
// ratio of their increases; the minimum-traffic guard needs counts).
// Bad is what the indicator says: bad, total - good, or the ratio's
// numerator; total likewise: total, good + bad, or its denominator.
func promqlCounts(in *metricsli.Indicator) counts {
	return func(w time.Duration) (string, string, string, error) {
		q := func(role string) (string, error) {
			e, err := windowed(in.PromQL[role], w)
			if err != nil {
				return "", fmt.Errorf("%s query: %w", role, err)
			}
			return e.String(), nil
		}
		if src := in.PromQL["ratio"]; src != "" {
			e, err := windowed(src, w)
			if err != nil {
				return "", "", "", fmt.Errorf("ratio query: %w", err)
			}
			b, ok := e.(*parser.BinaryExpr)
			if !ok || b.Op != parser.DIV {
				return "", "", "", errors.New("ratio query: not a ratio a / b")
			}
			bad, total := unparen(b.LHS).String(), unparen(b.RHS).String()
			return whole(in, bad), whole(in, total), whole(in, total), nil
		}
		var ex [3]string
		for i, role := range []string{"good", "bad", "total"} {
			if in.PromQL[role] == "" {
				continue
			}
			var err error
			if ex[i], err = q(role); err != nil {
				return "", "", "", err
			}
		}
		good, bad, total := ex[0], ex[1], ex[2]
		switch {
		case bad == "":
			bad = total + " - " + good
		case total == "":
			total = good + " + " + bad
		}
		return whole(in, bad), whole(in, total), whole(in, total), nil
	}
}

// whole sums the groups of a sum without, which the daemon counts as one
// SLO, into one series.
func whole(in *metricsli.Indicator, e string) string {
	if in.Grouping.Without {
		return "sum(" + e + ")"
	}
	return e
}

// windowed parses query with its window placeholders replaced by w, turns
// rate into increase, and counters summed without either (OpenSLO's
// counter: true) into their increase over w.
func windowed(query string, w time.Duration) (parser.Expr, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(metricsli.WithWindow(query, slo.FormatDuration(w)))
	if err != nil {
		return nil, err
	}
	return unparen(increases(e, w)), nil
}

// increases rewrites e as described at windowed. It covers what
// metricsli.CompilePromQL accepts: aggregations, parentheses, a ratio or
// difference, rate and increase of a selector, and bare selectors.
func increases(e parser.Expr, w time.Duration) parser.Expr {
	increase := parser.Functions["increase"]
	switch n := e.(type) {
	case *parser.ParenExpr:
		n.Expr = increases(n.Expr, w)
	case *parser.AggregateExpr:
		n.Expr = increases(n.Expr, w)
	case *parser.BinaryExpr:
		n.LHS, n.RHS = increases(n.LHS, w), increases(n.RHS, w)
	case *parser.Call:
		if n.Func.Name == "rate" {
			n.Func = increase
		}
	case *parser.VectorSelector:
		return &parser.Call{Func: increase, Args: parser.Expressions{&parser.MatrixSelector{VectorSelector: n, Range: w}}}
	}
	return e
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

// format checks that a generated expression parses and returns it as
// written: generated text is laid out for people, one operand a line, which
// Prometheus's own formatter does not keep.
func format(expr string) (string, error) {
	if _, err := parser.NewParser(parser.Options{}).ParseExpr(expr); err != nil {
		return "", fmt.Errorf("generated expression does not parse: %w\n%s", err, expr)
	}
	return expr, nil
}

// ratioOf is bad / total, a line each, an operand that is itself a
// binary expression in parentheses.
func ratioOf(bad, total string) (string, error) {
	operand := func(s string) (string, error) {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(s)
		if err != nil {
			return "", fmt.Errorf("generated expression does not parse: %w\n%s", err, s)
		}
		if _, ok := unparen(e).(*parser.BinaryExpr); ok {
			return "(" + unparen(e).String() + ")", nil
		}
		return e.String(), nil
	}
	b, err := operand(bad)
	if err != nil {
		return "", err
	}
	t, err := operand(total)
	if err != nil {
		return "", err
	}
	return format(b + "\n/\n" + t)
}
