package metricsli

import (
	"errors"
	"strings"
	"testing"
)

func TestCompilePromQL(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    PromQL
		want string // Indicator.String()
	}{
		{"sloth availability", PromQL{
			Bad:   `sum(rate(http_requests_total{job="shop",code=~"(5..|429)"}[{{.window}}]))`,
			Total: `sum(rate(http_requests_total{job="shop"}[{{.window}}]))`,
		}, "bad: sum http_requests_total{job=\"shop\", code=~\"(5..|429)\"}\ntotal: sum http_requests_total{job=\"shop\"}\n"},
		{"sloth spacing and increase", PromQL{
			Good:  `sum(increase(http_requests_total{code!~"5.."}[{{ .window }}]))`,
			Total: `sum(increase(http_requests_total[{{ .window }}]))`,
		}, "good: sum http_requests_total{code!~\"5..\"}\ntotal: sum http_requests_total\n"},
		{"all four matchers", PromQL{
			Bad:   `sum(rate(rpc_total{a="1",b!="2",c=~"3.*",d!~"4"}[{{.window}}]))`,
			Total: `sum(rate(rpc_total[{{.window}}]))`,
		}, "bad: sum rpc_total{a=\"1\", b!=\"2\", c=~\"3.*\", d!~\"4\"}\ntotal: sum rpc_total\n"},
		{"name as matcher", PromQL{
			Bad:   `sum(rate({__name__="rpc_total",code="x"}[{{.window}}]))`,
			Total: `sum(rate(rpc_total[{{.window}}]))`,
		}, "bad: sum rpc_total{code=\"x\"}\ntotal: sum rpc_total\n"},
		{"sum by", PromQL{
			Bad:   `sum by (http_route) (rate(http_requests_total{code=~"5.."}[{{.window}}]))`,
			Total: `sum(rate(http_requests_total[{{.window}}])) by (http_route)`,
		}, "bad: sum http_requests_total{code=~\"5..\"}\ntotal: sum http_requests_total\ngrouping: by (http_route)\n"},
		{"sum without", PromQL{
			Bad:   `sum without (instance, pod) (rate(x_total{e="1"}[{{.window}}]))`,
			Total: `sum without (pod, instance) (rate(x_total[{{.window}}]))`,
		}, "bad: sum x_total{e=\"1\"}\ntotal: sum x_total\ngrouping: without (instance, pod)\n"},
		{"bucket and count", PromQL{
			Good:  `sum(rate(http_server_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))`,
			Total: `sum(rate(http_server_request_duration_seconds_count[{{.window}}]))`,
		}, "good: histogram bucket http_server_request_duration_seconds_bucket le 0.3\ntotal: histogram count http_server_request_duration_seconds_count\n"},
		{"bucket +Inf", PromQL{
			Good: `sum(rate(d_seconds_bucket{le="+Inf"}[{{.window}}]))`,
			Bad:  `sum(rate(e_total[{{.window}}]))`,
		}, "good: histogram bucket d_seconds_bucket le +Inf\nbad: sum e_total\n"},
		{"ratio", PromQL{
			Ratio: `sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) / sum(rate(http_requests_total[{{.window}}]))`,
		}, "bad: sum http_requests_total{code=~\"5..\"}\ntotal: sum http_requests_total\n"},
		{"ratio in parentheses, multi-line", PromQL{
			Ratio: "(\n  sum by (route) (rate(a_total{code=\"500\"}[{{.window}}]))\n  /\n  sum by (route) (rate(a_total[{{.window}}]))\n)\n",
		}, "bad: sum a_total{code=\"500\"}\ntotal: sum a_total\ngrouping: by (route)\n"},
		{"sloth latency difference", PromQL{
			Bad:   "(\n  sum(rate(api_seconds_count{verb!=\"WATCH\"}[{{.window}}]))\n  -\n  sum(rate(api_seconds_bucket{le=\"0.4\",verb!=\"WATCH\"}[{{.window}}]))\n)\n",
			Total: `sum(rate(api_seconds_count{verb!="WATCH"}[{{.window}}]))`,
		}, "good: histogram bucket api_seconds_bucket{verb!=\"WATCH\"} le 0.4\ntotal: histogram count api_seconds_count{verb!=\"WATCH\"}\n"},
		{"counters without rate", PromQL{Counters: true,
			Good:  `sum(server_requests_total{code=~"2..|3.."})`,
			Total: `server_requests_total`,
		}, "good: sum server_requests_total{code=~\"2..|3..\"}\ntotal: sum server_requests_total\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := CompilePromQL(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if err := in.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := in.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestCompilePromQLRefuses(t *testing.T) {
	const total = `sum(rate(x_total[{{.window}}]))`
	for _, tc := range []struct {
		name string
		q    PromQL
		want string
	}{
		{"histogram_quantile", PromQL{Bad: `histogram_quantile(0.99, sum by (le) (rate(d_bucket[{{.window}}])))`, Total: total},
			"1:1: function histogram_quantile is not supported"},
		{"offset", PromQL{Bad: `sum(rate(x_total{a="1"}[{{.window}}] offset 5m))`, Total: total},
			"1:10: offset is not supported"},
		{"at modifier", PromQL{Bad: `sum(rate(x_total[{{.window}}] @ 1700000000))`, Total: total},
			"1:10: the @ modifier is not supported"},
		{"subquery", PromQL{Bad: `sum(rate(x_total[{{.window}}:1m]))`, Total: total},
			"1:10: a subquery is not supported"},
		{"sloth subquery", PromQL{Bad: `sum_over_time((count(x_ratio < 0.5))[{{.window}}:])`, Total: total},
			"1:1: function sum_over_time is not supported"},
		{"binary op", PromQL{Bad: `sum(rate(x_total[{{.window}}])) * 2`, Total: total},
			"1:33: binary operator * is not supported"},
		{"division outside ratio", PromQL{Bad: `sum(rate(x_total[{{.window}}])) / sum(rate(y_total[{{.window}}]))`, Total: total},
			"1:33: binary operator / is not supported"},
		{"avg", PromQL{Bad: `avg(rate(x_total[{{.window}}]))`, Total: total},
			"1:1: aggregation avg is not supported"},
		{"irate", PromQL{Bad: `sum(irate(x_total[{{.window}}]))`, Total: total},
			"1:5: irate (it reads only the last two samples; use rate) is not supported"},
		{"literal window", PromQL{Bad: `sum(rate(x_total[5m]))`, Total: `sum(rate(x_total[5m]))`},
			"1:17: a literal window: write [{{.window}}]"},
		{"mixed windows", PromQL{Ratio: `sum(rate(x_total{a="b"}[{{.window}}])) / sum(rate(x_total[1h]))`},
			"1:58: mixed windows: a literal window here and {{.window}} elsewhere"},
		{"rate without sum", PromQL{Bad: `rate(x_total[{{.window}}])`, Total: total},
			"1:1: rate without sum: write sum(rate(x_total[1m]))"},
		{"selector without rate", PromQL{Bad: `sum(x_total)`, Total: total},
			"1:5: a selector without rate or increase: write rate(x_total[{{.window}}])"},
		{"no suffix", PromQL{Bad: `sum(rate(requests[{{.window}}]))`, Total: total},
			"1:10: requests names no counter"},
		{"_sum", PromQL{Bad: `sum(rate(d_seconds_sum[{{.window}}]))`, Total: total},
			"1:10: d_seconds_sum is a histogram's sum of observed values"},
		{"bucket without le", PromQL{Good: `sum(rate(d_bucket[{{.window}}]))`, Total: `sum(rate(d_count[{{.window}}]))`},
			"1:10: d_bucket needs le=\"<upper bound>\""},
		{"le regex", PromQL{Good: `sum(rate(d_bucket{le=~"0.3|0.5"}[{{.window}}]))`, Total: `sum(rate(d_count[{{.window}}]))`},
			"1:10: le=~ is not supported"},
		{"le on count", PromQL{Good: `sum(rate(d_count{le="1"}[{{.window}}]))`, Total: total},
			"1:10: le selects a bucket"},
		{"bad le", PromQL{Good: `sum(rate(d_bucket{le="fast"}[{{.window}}]))`, Total: `sum(rate(d_count[{{.window}}]))`},
			"1:10: le=\"fast\" is not a bucket bound"},
		{"name regex", PromQL{Bad: `sum(rate({__name__=~"x_.*"}[{{.window}}]))`, Total: total},
			"1:10: =~ on the metric name is not supported"},
		{"nested aggregation", PromQL{Bad: `sum(sum by (a) (rate(x_total[{{.window}}])))`, Total: total},
			"1:5: a nested aggregation (sum inside sum) is not supported"},
		{"vector matching", PromQL{Ratio: `sum by (a) (rate(x_total[{{.window}}])) / on (a) sum by (a) (rate(y_total[{{.window}}]))`},
			"1:41: vector matching (on, ignoring, group_left, group_right) is not supported"},
		{"groups differ in ratio", PromQL{Ratio: `sum by (a) (rate(x_total[{{.window}}])) / sum(rate(y_total[{{.window}}]))`},
			"1:41: the two sides group differently, by (a) and by nothing"},
		{"groups differ", PromQL{Bad: `sum by (a) (rate(x_total[{{.window}}]))`, Total: total},
			"1:1: groups by nothing but bad groups by (a)"},
		{"rate and increase", PromQL{Bad: `sum(increase(x_total[{{.window}}]))`, Total: total},
			"1:1: uses rate but bad uses increase"},
		{"parse error", PromQL{Bad: "sum(rate(x_total[{{.window}}])\n", Total: total},
			"2:1: does not parse: unclosed left parenthesis"},
		{"parse error after placeholder", PromQL{Bad: `sum(rate(x_total[{{ .window }}])) +`, Total: total},
			"1:36: does not parse"},
		{"bad regex", PromQL{Bad: `sum(rate(x_total{a=~"("}[{{.window}}]))`, Total: total},
			"does not parse"},
		{"difference not from total", PromQL{Bad: `sum(rate(a_count[{{.window}}])) - sum(rate(a_bucket{le="1"}[{{.window}}]))`, Total: total},
			"a difference a - b is read as total - good"},
		{"one query", PromQL{Bad: total}, "give exactly two of good, bad and total"},
		{"three queries", PromQL{Good: total, Bad: total, Total: total}, "give exactly two"},
		{"ratio and more", PromQL{Ratio: total, Total: total}, "give ratio alone"},
		{"ratio not a ratio", PromQL{Ratio: total}, "is not a ratio: want the bad ratio a / b"},
		{"number", PromQL{Bad: `1`, Total: total}, "1:1: a number is not supported"},
		{"unary minus", PromQL{Bad: `-sum(rate(x_total[{{.window}}]))`, Total: total}, "1:1: unary - is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompilePromQL(tc.q)
			if err == nil {
				t.Fatalf("compiled; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestExprErrorPositions(t *testing.T) {
	_, err := CompilePromQL(PromQL{
		Bad:   "sum(\n  rate(x_total{a=\"b\"}[{{ .window }}] offset 1h)\n)",
		Total: `histogram_quantile(0.9, x)`,
	})
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		for _, ee := range flat(e) {
			var x *ExprError
			if !errors.As(ee, &x) {
				t.Fatalf("%v is not an *ExprError", ee)
			}
			got = append(got, x.Query+" "+x.Error()[:strings.Index(x.Error(), ": ")])
		}
	}
	want := []string{"bad 2:8", "total 1:1"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("positions %v, want %v", got, want)
	}
}

func flat(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flat(e)...)
		}
		return out
	}
	return []error{err}
}

func TestSourceMatchesMetric(t *testing.T) {
	in, err := CompilePromQL(PromQL{
		Good:  `sum(rate(http_server_request_duration_seconds_bucket{le="0.3"}[{{.window}}]))`,
		Total: `sum(rate(http_server_request_duration_seconds_count[{{.window}}]))`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !in.Good.MatchesMetric("http.server.request.duration", "s", ExponentialHistogram) {
		t.Error("bucket source does not match the OTLP histogram")
	}
	if in.Total.MatchesMetric("http.server.request.duration", "ms", Histogram) {
		t.Error("a histogram in ms matches a _seconds selector")
	}
	sum := Source{Kind: Sum, PromName: "http_server_requests_total"}
	if !sum.MatchesMetric("http.server.requests", "{request}", MonotonicSum) || sum.MatchesMetric("http.server.requests", "", NonMonotonicSum) {
		t.Error("sum source matches wrongly")
	}
	c := Source{Kind: Counter, Metric: "a.b"}
	if !c.MatchesMetric("a.b", "", Histogram) || !c.MatchesMetric("a.b", "", MonotonicSum) || c.MatchesMetric("a.b", "", Gauge) {
		t.Error("counter source matches wrongly")
	}
}

func TestLabelMatcher(t *testing.T) {
	m, err := NewLabelMatcher("code", MatchRegex, "5..")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Matches("503") || m.Matches("5030") || m.Matches("") {
		t.Error("regex is not anchored")
	}
	ne, _ := NewLabelMatcher("code", MatchNotEqual, "200")
	if !ne.Matches("") {
		t.Error("!= does not hold for an absent label")
	}
	if _, err := NewLabelMatcher("a", MatchRegex, "("); err == nil {
		t.Error("bad regex compiled")
	}
}

func TestFlowName(t *testing.T) {
	if f := FlowName("checkout"); f != "metric:checkout" || !IsMetricFlow(f) || IsMetricFlow("checkout") {
		t.Errorf("FlowName = %q", f)
	}
}
