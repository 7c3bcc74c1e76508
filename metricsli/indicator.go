package metricsli

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/flows"
)

// flowPrefix starts the synthetic flow name of an SLO measured by an
// Indicator. Flow names are checked against a pattern without ':', so no
// Flow document can take one.
const flowPrefix = "metric:"

// FlowName is the synthetic flow an SLO named slo is keyed by in the SLO
// engine when a metric Indicator measures it: "metric:" + slo. It never
// reaches the span classifier.
func FlowName(slo string) string { return flowPrefix + slo }

// IsMetricFlow reports whether flow is a synthetic name made by FlowName.
func IsMetricFlow(flow string) bool { return strings.HasPrefix(flow, flowPrefix) }

// Kind says what a Source counts.
type Kind uint8

const (
	// Counter counts the events of the named metric, whatever its type: the
	// increases of a monotonic sum (delta or cumulative, with resets), or
	// the count of a histogram (explicit-bucket or exponential). Spec files'
	// metric indicators use it; the type arrives with the data.
	Counter Kind = iota + 1
	// Sum counts the increases of a monotonic sum (PromQL: a name ending in
	// _total).
	Sum
	// HistogramCount counts a histogram's observations (PromQL: _count).
	HistogramCount
	// HistogramBucket counts a histogram's observations at most LE, its
	// cumulative explicit bucket of that upper bound (PromQL: _bucket with
	// le). LE must be one of the histogram's bounds; +Inf is the count.
	HistogramBucket
	// HistogramThreshold counts a histogram's observations at most
	// Threshold, read from explicit or exponential buckets. A threshold
	// between two explicit bounds is an error naming them unless
	// Interpolate is set; see docs/indicators.md.
	HistogramThreshold
)

func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Sum:
		return "sum"
	case HistogramCount:
		return "histogram count"
	case HistogramBucket:
		return "histogram bucket"
	case HistogramThreshold:
		return "histogram threshold"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Source is one stream of event counts: the data points of one metric that
// pass its matchers, summed.
//
// A Source names its metric in one of two ways. From a spec file's metric
// or latency indicator, Metric is the OTLP metric name and Match holds
// attribute rules. From PromQL, PromName is the Prometheus name the
// selector wrote and Labels its label matchers: the runtime translates each
// incoming metric's name with PrometheusName (MatchesMetric does) and its
// attribute keys with LabelName before it compares.
type Source struct {
	Kind Kind

	// Metric is the OTLP metric name, e.g. http.server.request.duration.
	Metric string
	// Match are rules in the flow rule syntax, all of which must hold. A
	// rule reads the data point's attributes first and falls back to the
	// resource's, as flow rules read span and resource attributes.
	Match []flows.Rule

	// PromName is the metric name of the PromQL selector, as written:
	// http_server_request_duration_seconds_bucket.
	PromName string
	// Labels are the selector's other label matchers (not __name__ or le).
	// A label is a data point attribute key translated by LabelName, a
	// resource attribute translated the same way as the fallback, or job
	// and instance, made from service.namespace, service.name and
	// service.instance.id (ResourceLabels).
	Labels []LabelMatcher

	// LE is the upper bound of a HistogramBucket, in the metric's unit.
	LE float64
	// Threshold is the bound of a HistogramThreshold.
	Threshold time.Duration
	// Interpolate lets a HistogramThreshold between explicit bounds be
	// estimated by linear interpolation inside its bucket.
	Interpolate bool
}

// promSuffix is the suffix the Prometheus name of a Source's metric kind
// ends in, beyond its base name.
func (s *Source) promSuffix() string {
	switch s.Kind {
	case HistogramCount:
		return "_count"
	case HistogramBucket:
		return "_bucket"
	}
	return ""
}

// PromBase is the Prometheus name of the metric a PromQL Source reads,
// without the _count or _bucket of a histogram series: what
// PrometheusName gives for the OTLP metric. Empty for a Source named by
// Metric.
func (s *Source) PromBase() string { return strings.TrimSuffix(s.PromName, s.promSuffix()) }

// MatchesMetric reports whether an incoming OTLP metric of this name, unit
// and type is the one the Source reads. Attribute matchers are not
// checked: they apply per data point.
func (s *Source) MatchesMetric(name, unit string, t MetricType) bool {
	if s.Metric != "" && s.Kind == HistogramCount {
		// A latency indicator's total: the histogram's count.
		return t.histogram() && name == s.Metric
	}
	switch s.Kind {
	case Counter:
		return (t == MonotonicSum || t.histogram()) && name == s.Metric
	case HistogramThreshold:
		return t.histogram() && name == s.Metric
	case Sum:
		return t == MonotonicSum && PrometheusName(name, unit, t) == s.PromName
	case HistogramCount, HistogramBucket:
		return t.histogram() && PrometheusName(name, unit, t) == s.PromBase()
	}
	return false
}

// String renders the Source for messages and golden files.
func (s *Source) String() string {
	var b strings.Builder
	b.WriteString(s.Kind.String())
	if s.Metric != "" {
		b.WriteString(" " + s.Metric)
		for _, r := range s.Match {
			b.WriteString(" [" + r.String() + "]")
		}
	} else {
		b.WriteString(" " + s.PromName)
		if len(s.Labels) > 0 {
			parts := make([]string, len(s.Labels))
			for i, m := range s.Labels {
				parts[i] = m.String()
			}
			b.WriteString("{" + strings.Join(parts, ", ") + "}")
		}
	}
	switch s.Kind {
	case HistogramBucket:
		fmt.Fprintf(&b, " le %g", s.LE)
	case HistogramThreshold:
		fmt.Fprintf(&b, " <= %v", s.Threshold)
		if s.Interpolate {
			b.WriteString(" interpolated")
		}
	}
	return b.String()
}

// MatchOp is a PromQL label matcher's operator.
type MatchOp uint8

const (
	MatchEqual    MatchOp = iota + 1 // =
	MatchNotEqual                    // !=
	MatchRegex                       // =~
	MatchNotRegex                    // !~
)

func (o MatchOp) String() string {
	switch o {
	case MatchEqual:
		return "="
	case MatchNotEqual:
		return "!="
	case MatchRegex:
		return "=~"
	case MatchNotRegex:
		return "!~"
	}
	return "?"
}

// LabelMatcher is one PromQL label matcher, with Prometheus semantics: an
// absent label reads as the empty string, and a regular expression matches
// the whole value.
type LabelMatcher struct {
	Label string
	Op    MatchOp
	Value string

	re *regexp.Regexp
}

// NewLabelMatcher compiles a matcher; a regular expression that does not
// compile is an error.
func NewLabelMatcher(label string, op MatchOp, value string) (LabelMatcher, error) {
	m := LabelMatcher{Label: label, Op: op, Value: value}
	if op == MatchRegex || op == MatchNotRegex {
		re, err := regexp.Compile("^(?s:" + value + ")$")
		if err != nil {
			return LabelMatcher{}, err
		}
		m.re = re
	}
	return m, nil
}

// Matches reports whether a label's value passes; an absent label is "".
func (m *LabelMatcher) Matches(value string) bool {
	switch m.Op {
	case MatchEqual:
		return value == m.Value
	case MatchNotEqual:
		return value != m.Value
	case MatchRegex:
		return m.re.MatchString(value)
	case MatchNotRegex:
		return !m.re.MatchString(value)
	}
	return false
}

func (m LabelMatcher) String() string { return fmt.Sprintf("%s%s%q", m.Label, m.Op, m.Value) }

// Grouping is the `by` or `without` clause of a PromQL sum. Grouping
// yields one alert instance per value of the grouped labels; the runtime
// caps how many it tracks and counts the overflow.
type Grouping struct {
	// Labels are the label names listed, sorted.
	Labels []string
	// Without says the labels are dropped (sum without) rather than kept
	// (sum by).
	Without bool
}

// Grouped reports whether the sum keeps any label apart: `sum by ()` and
// a plain `sum` do not; `sum without (...)` always does.
func (g Grouping) Grouped() bool { return len(g.Labels) > 0 || g.Without }

func (g Grouping) String() string {
	switch {
	case g.Without:
		return "without (" + strings.Join(g.Labels, ", ") + ")"
	case len(g.Labels) > 0:
		return "by (" + strings.Join(g.Labels, ", ") + ")"
	}
	return ""
}

func (g Grouping) equal(o Grouping) bool {
	return g.Without == o.Without && slices.Equal(g.Labels, o.Labels)
}

// Indicator is a metric SLI: exactly two of Good, Bad and Total. Good and
// Total give bad = total - good; Bad and Total give good = total - bad;
// Good and Bad give total = good + bad.
type Indicator struct {
	Good, Bad, Total *Source
	// Grouping applies to every Source: PromQL sums by or without labels.
	Grouping Grouping
	// PromQL holds the expressions an Indicator was compiled from, if any,
	// keyed good, bad, total or ratio.
	PromQL map[string]string
}

// Validate checks that exactly two Sources are set.
func (in *Indicator) Validate() error {
	n := 0
	for _, s := range []*Source{in.Good, in.Bad, in.Total} {
		if s != nil {
			n++
		}
	}
	if n != 2 {
		return fmt.Errorf("an indicator needs exactly two of good, bad and total, not %d", n)
	}
	return nil
}

// String renders the Indicator, one Source per line, for golden files.
func (in *Indicator) String() string {
	var b strings.Builder
	for _, p := range []struct {
		name string
		s    *Source
	}{{"good", in.Good}, {"bad", in.Bad}, {"total", in.Total}} {
		if p.s != nil {
			fmt.Fprintf(&b, "%s: %s\n", p.name, p.s)
		}
	}
	if in.Grouping.Grouped() {
		fmt.Fprintf(&b, "grouping: %s\n", in.Grouping)
	}
	return b.String()
}
