package metricsli

import (
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// t0 is when the runtimes under test began; points are in seconds after it.
var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// later is when the tests' batches arrive: after all their points.
var later = t0.Add(1000 * time.Hour)

func at(sec float64) int64 { return t0.Add(time.Duration(sec * float64(time.Second))).UnixNano() }

func str(k, v string) Attr { return Attr{Key: k, Value: flows.StrValue(v)} }
func num(k string, v int64) Attr {
	return Attr{Key: k, Value: flows.IntValue(v)}
}

func sum(name string, tp Temporality, start, time int64, v float64, attrs ...Attr) Point {
	return Point{Metric: name, Unit: "{request}", Type: MonotonicSum, Temporality: tp, Start: start, Time: time, Value: v, Attrs: attrs,
		Resource: []Attr{str("service.name", "shop")}}
}

// hist is an explicit-bucket histogram in seconds.
func hist(name string, tp Temporality, start, time int64, bounds []float64, buckets []uint64, attrs ...Attr) Point {
	var n uint64
	for _, c := range buckets {
		n += c
	}
	return Point{Metric: name, Unit: "s", Type: Histogram, Temporality: tp, Start: start, Time: time, Count: n,
		Bounds: bounds, Buckets: buckets, Attrs: attrs, Resource: []Attr{str("service.name", "shop")}}
}

func mustRuntime(t *testing.T, ins map[string]*Indicator) *Runtime {
	t.Helper()
	r, err := NewRuntime(ins, Options{Began: t0})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// totals sums counts by flow into good/bad.
func totals(cs []slo.Counts) map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, c := range cs {
		v := out[c.Flow]
		v[0] += c.Good
		v[1] += c.Bad
		out[c.Flow] = v
	}
	return out
}

var requests = &Indicator{
	Good:  &Source{Kind: Counter, Metric: "http.server.requests", Match: []flows.Rule{{Attribute: "http.response.status_code", Op: flows.OpLt, Number: 500}}},
	Total: &Source{Kind: Counter, Metric: "http.server.requests"},
}

func TestCumulativeSums(t *testing.T) {
	before := at(-60) // the service started before Burnwatch
	ok, fail := num("http.response.status_code", 200), num("http.response.status_code", 503)
	steps := []struct {
		name      string
		pts       []Point
		good, bad uint64
		rejected  string
	}{
		{"first points are baselines", []Point{
			sum("http.server.requests", Cumulative, before, at(1), 100, ok),
			sum("http.server.requests", Cumulative, before, at(1), 10, fail)}, 0, 0, ""},
		{"increases count", []Point{
			sum("http.server.requests", Cumulative, before, at(2), 130, ok),
			sum("http.server.requests", Cumulative, before, at(2), 12, fail)}, 30, 2, ""},
		{"a retried export is out of order", []Point{
			sum("http.server.requests", Cumulative, before, at(2), 130, ok)}, 0, 0, ReasonOutOfOrder},
		{"a drop is a reset: the new value counts", []Point{
			sum("http.server.requests", Cumulative, before, at(3), 5, ok),
			sum("http.server.requests", Cumulative, before, at(3), 12, fail)}, 5, 0, ""},
		{"a new start time is a reset, even without a drop", []Point{
			sum("http.server.requests", Cumulative, at(3.5), at(4), 7, ok),
			sum("http.server.requests", Cumulative, at(3.5), at(4), 20, fail)}, 7, 20, ""},
		{"a point of the previous start is out of order", []Point{
			sum("http.server.requests", Cumulative, before, at(5), 500, ok)}, 0, 0, ReasonOutOfOrder},
		{"a stream that began after Burnwatch counts in full", []Point{
			sum("http.server.requests", Cumulative, at(5), at(6), 3, ok, str("http.route", "/new"))}, 3, 0, ""},
		{"delta points count as they are", []Point{
			sum("http.server.requests", Delta, at(6), at(7), 4, ok, str("http.route", "/delta")),
			sum("http.server.requests", Delta, at(6), at(7), 1, fail, str("http.route", "/delta"))}, 4, 1, ""},
	}
	r := mustRuntime(t, map[string]*Indicator{"api": requests})
	for _, s := range steps {
		before := r.Stats().Rejected[s.rejected]
		got := totals(r.Ingest(later, s.pts, nil))[FlowName("api")]
		if got != [2]uint64{s.good, s.bad} {
			t.Errorf("%s: good/bad = %v, want %d/%d", s.name, got, s.good, s.bad)
		}
		if s.rejected != "" && r.Stats().Rejected[s.rejected] != before+1 {
			t.Errorf("%s: %s not counted: %v", s.name, s.rejected, r.Stats().Rejected)
		}
	}
	if st := r.Stats(); st.Streams != 3 || st.Baseline != 2 {
		t.Errorf("streams %d, baselines %d: want 3 and 2", st.Streams, st.Baseline)
	}
}

func TestIndicatorForms(t *testing.T) {
	src := func(code string) *Source {
		var m []flows.Rule
		if code != "" {
			m = []flows.Rule{{Attribute: "code", Op: flows.OpEquals, Value: code}}
		}
		return &Source{Kind: Counter, Metric: "rpc.calls", Match: m}
	}
	pts := []Point{
		sum("rpc.calls", Delta, at(0), at(1), 90, str("code", "ok")),
		sum("rpc.calls", Delta, at(0), at(1), 10, str("code", "err")),
	}
	for _, tc := range []struct {
		name      string
		in        *Indicator
		good, bad uint64
	}{
		{"good and total", &Indicator{Good: src("ok"), Total: src("")}, 90, 10},
		{"bad and total", &Indicator{Bad: src("err"), Total: src("")}, 90, 10},
		{"good and bad", &Indicator{Good: src("ok"), Bad: src("err")}, 90, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRuntime(t, map[string]*Indicator{"s": tc.in})
			got := totals(r.Ingest(later, pts, nil))[FlowName("s")]
			if got != [2]uint64{tc.good, tc.bad} {
				t.Fatalf("good/bad = %v, want %d/%d", got, tc.good, tc.bad)
			}
		})
	}
}

func TestFractionsCarryOver(t *testing.T) {
	// A double counter growing by 0.4 good and 0.1 bad per point: whole
	// events come out as the sums reach them, none lost, none twice.
	in := &Indicator{Good: &Source{Kind: Counter, Metric: "work", Match: []flows.Rule{{Attribute: "ok", Op: flows.OpEquals, Value: "true"}}},
		Bad: &Source{Kind: Counter, Metric: "work", Match: []flows.Rule{{Attribute: "ok", Op: flows.OpEquals, Value: "false"}}}}
	r := mustRuntime(t, map[string]*Indicator{"s": in})
	var good, bad uint64
	for i := range 100 {
		cs := r.Ingest(later, []Point{
			sum("work", Delta, at(float64(i)), at(float64(i+1)), 0.4, Attr{Key: "ok", Value: flows.BoolValue(true)}),
			sum("work", Delta, at(float64(i)), at(float64(i+1)), 0.1, Attr{Key: "ok", Value: flows.BoolValue(false)}),
		}, nil)
		g := totals(cs)[FlowName("s")]
		good, bad = good+g[0], bad+g[1]
	}
	if good != 40 || bad != 10 {
		t.Fatalf("good/bad = %d/%d, want 40/10", good, bad)
	}
}

func TestSourcesInSeparateBatches(t *testing.T) {
	// The total arrives a batch before the good: bad runs ahead, then is
	// held back until the counts agree with the sums again.
	in := &Indicator{Good: &Source{Kind: Counter, Metric: "good"}, Total: &Source{Kind: Counter, Metric: "total"}}
	r := mustRuntime(t, map[string]*Indicator{"s": in})
	var good, bad uint64
	for i := range 10 {
		cs := r.Ingest(later, []Point{sum("total", Delta, at(float64(i)), at(float64(i+1)), 100)}, nil)
		cs = r.Ingest(later, []Point{sum("good", Delta, at(float64(i)), at(float64(i+1)), 99)}, cs)
		g := totals(cs)[FlowName("s")]
		good, bad = good+g[0], bad+g[1]
	}
	// Each batch's total comes before its good: until the good arrives,
	// the total's 99 good look bad. The first batch's are handed out as
	// bad; after that bad is held at what was handed out, so it runs one
	// event per batch ahead of the truth and no further.
	if good+bad != 1000 || bad != 109 {
		t.Fatalf("after 10 batches good/bad = %d/%d, want 891/109", good, bad)
	}
	// Together again: bad is held until the sums pass what was handed
	// out, then follows them exactly.
	for i := 10; i < 200; i++ {
		cs := r.Ingest(later, []Point{sum("total", Delta, at(float64(i)), at(float64(i+1)), 100), sum("good", Delta, at(float64(i)), at(float64(i+1)), 99)}, nil)
		g := totals(cs)[FlowName("s")]
		good, bad = good+g[0], bad+g[1]
	}
	if good != 19800 || bad != 200 {
		t.Fatalf("good/bad = %d/%d, want 19800/200: the counts converge on the sums", good, bad)
	}
}

var bounds = []float64{0.05, 0.1, 0.25, 0.5, 1}

func latency(threshold time.Duration, interpolate bool) *Indicator {
	good := &Source{Kind: HistogramThreshold, Metric: "http.server.request.duration", Threshold: threshold, Interpolate: interpolate}
	return &Indicator{Good: good, Total: &Source{Kind: HistogramCount, Metric: "http.server.request.duration"}}
}

func TestHistogramThresholds(t *testing.T) {
	buckets := []uint64{10, 20, 30, 40, 50, 50} // 200 in all; 60 at most 0.25 s
	for _, tc := range []struct {
		name      string
		in        *Indicator
		good, bad uint64
		problem   string
	}{
		{"threshold on a bound", latency(250*time.Millisecond, false), 60, 140, ""},
		{"threshold on the lowest bound", latency(50*time.Millisecond, false), 10, 190, ""},
		{"between bounds is an error naming them", latency(300*time.Millisecond, false), 0, 0,
			"the latency threshold 300ms (0.3 s) of http.server.request.duration is between the bounds 0.25 and 0.5 s: use one of them, or set interpolate: true"},
		{"below the lowest bound", latency(10*time.Millisecond, false), 0, 0, "below the lowest bound 0.05 s"},
		{"above the highest bound, even interpolated", latency(2*time.Second, true), 0, 0, "above its highest bucket bound 1: use a bound (0.05, 0.1, 0.25, 0.5, 1), or add bounds"},
		// 60 + 40·(0.3-0.25)/(0.5-0.25) = 68
		{"interpolated between bounds", latency(300*time.Millisecond, true), 68, 132, ""},
		// 10·0.02/0.05 = 4, from 0 to the lowest bound
		{"interpolated below the lowest bound", latency(20*time.Millisecond, true), 4, 196, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRuntime(t, map[string]*Indicator{"lat": tc.in})
			pt := hist("http.server.request.duration", Delta, at(0), at(1), bounds, buckets)
			got := totals(r.Ingest(later, []Point{pt}, nil))[FlowName("lat")]
			if got != [2]uint64{tc.good, tc.bad} {
				t.Fatalf("good/bad = %v, want %d/%d", got, tc.good, tc.bad)
			}
			ps := r.Problems()
			if tc.problem == "" {
				if len(ps) != 0 {
					t.Fatalf("problems %v", ps)
				}
				return
			}
			if len(ps) != 1 || !strings.Contains(ps[0].Message, tc.problem) || ps[0].Reason != ReasonBetweenBounds {
				t.Fatalf("problems %+v, want one between_bounds containing %q", ps, tc.problem)
			}
			if r.Stats().Rejected[ReasonBetweenBounds] != 1 {
				t.Fatalf("rejections %v", r.Stats().Rejected)
			}
		})
	}
}

func TestHistogramProblems(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pt     Point
		reason string
		msg    string
	}{
		{"not a time unit", func() Point {
			p := hist("http.server.request.duration", Delta, at(0), at(1), bounds, []uint64{1, 1, 1, 1, 1, 1})
			p.Unit = "By"
			return p
		}(), ReasonUnit, `http.server.request.duration has unit "By", not a time unit`},
		{"no buckets", Point{Metric: "http.server.request.duration", Unit: "s", Type: Histogram, Temporality: Delta, Time: at(1), Count: 5},
			ReasonNoBuckets, "sends no buckets"},
		{"a gauge counts nothing", Point{Metric: "http.server.request.duration", Unit: "s", Type: Gauge},
			ReasonUnsupportedType, "http.server.request.duration is a gauge, which counts no events"},
		{"a counter is no histogram", sum("http.server.request.duration", Delta, at(0), at(1), 5),
			ReasonUnsupportedType, "http.server.request.duration is a monotonic sum, not a histogram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRuntime(t, map[string]*Indicator{"lat": latency(250*time.Millisecond, false)})
			if cs := r.Ingest(later, []Point{tc.pt}, nil); len(cs) != 0 {
				t.Fatalf("counted %+v", cs)
			}
			ps := r.Problems()
			if len(ps) != 1 || ps[0].Reason != tc.reason || !strings.Contains(ps[0].Message, tc.msg) {
				t.Fatalf("problems %+v, want %s: %q", ps, tc.reason, tc.msg)
			}
			// A good batch ends the problem.
			ok := hist("http.server.request.duration", Delta, at(1), at(2), bounds, []uint64{1, 1, 1, 1, 1, 1})
			if got := totals(r.Ingest(later, []Point{ok}, nil))[FlowName("lat")]; got != [2]uint64{3, 3} {
				t.Fatalf("after the problem: %v, want 3/3", got)
			}
			if ps := r.Problems(); len(ps) != 0 {
				t.Fatalf("problem still reported: %+v", ps)
			}
		})
	}
}

func TestMalformedPoints(t *testing.T) {
	r := mustRuntime(t, map[string]*Indicator{"lat": latency(250*time.Millisecond, false)})
	bad := []Point{
		func() Point {
			p := hist("http.server.request.duration", Delta, at(0), at(1), bounds, []uint64{1, 1})
			return p
		}(),
		func() Point {
			p := hist("http.server.request.duration", Delta, at(0), at(1), bounds, []uint64{1, 1, 1, 1, 1, 1})
			p.Count = 7
			return p
		}(),
		func() Point {
			p := hist("http.server.request.duration", Delta, at(0), at(1), []float64{0.5, 0.1, 1, 2, 3}, []uint64{1, 1, 1, 1, 1, 1})
			return p
		}(),
		func() Point {
			p := hist("http.server.request.duration", 0, at(0), at(1), bounds, []uint64{1, 1, 1, 1, 1, 1})
			return p
		}(),
	}
	if cs := r.Ingest(later, bad, nil); len(cs) != 0 {
		t.Fatalf("counted %+v", cs)
	}
	if n := r.Stats().Rejected[ReasonMalformed]; n != uint64(len(bad)) {
		t.Fatalf("malformed = %d, want %d", n, len(bad))
	}
	// The SLO counts nothing from the batch, and says why.
	if ps := r.Problems(); len(ps) != 1 || ps[0].Reason != ReasonMalformed || !strings.HasPrefix(ps[0].Message, "http.server.request.duration: malformed: ") {
		t.Fatalf("problems %+v", ps)
	}
}

func TestCumulativeHistograms(t *testing.T) {
	r := mustRuntime(t, map[string]*Indicator{"lat": latency(250*time.Millisecond, false)})
	start := at(0.5) // after Burnwatch began: the first point counts in full
	steps := []struct {
		buckets   []uint64
		bounds    []float64
		good, bad uint64
		reason    string
	}{
		{[]uint64{1, 1, 1, 1, 0, 0}, bounds, 3, 1, ""},
		{[]uint64{2, 1, 4, 1, 3, 0}, bounds, 4, 3, ""},
		{[]uint64{2, 1, 4, 1, 3, 0}, []float64{0.05, 0.1, 0.25, 0.5, 2}, 0, 0, ReasonBucketsChanged},
		{[]uint64{3, 1, 4, 1, 3, 1}, []float64{0.05, 0.1, 0.25, 0.5, 2}, 1, 1, ""},
		{[]uint64{0, 1, 0, 0, 0, 0}, []float64{0.05, 0.1, 0.25, 0.5, 2}, 1, 0, ""}, // a bucket dropped: reset
	}
	for i, s := range steps {
		pt := hist("http.server.request.duration", Cumulative, start, at(float64(i+1)), s.bounds, s.buckets)
		got := totals(r.Ingest(later, []Point{pt}, nil))[FlowName("lat")]
		if got != [2]uint64{s.good, s.bad} {
			t.Errorf("step %d: good/bad = %v, want %d/%d", i, got, s.good, s.bad)
		}
		if s.reason != "" && r.Stats().Rejected[s.reason] != 1 {
			t.Errorf("step %d: %s not counted: %v", i, s.reason, r.Stats().Rejected)
		}
	}
}

func TestStreamCapAndStaleness(t *testing.T) {
	r, err := NewRuntime(map[string]*Indicator{"api": requests}, Options{Began: t0, MaxStreams: 2, StaleAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	route := func(s string) Attr { return str("http.route", s) }
	ok := num("http.response.status_code", 200)
	r.Ingest(later, []Point{
		sum("http.server.requests", Cumulative, at(-10), at(1), 1, ok, route("/a")),
		sum("http.server.requests", Cumulative, at(-10), at(1), 1, ok, route("/b")),
		sum("http.server.requests", Cumulative, at(-10), at(1), 1, ok, route("/c")),
	}, nil)
	if st := r.Stats(); st.Streams != 2 || st.Rejected[ReasonStreamOverflow] != 1 {
		t.Fatalf("streams %d, overflow %d: want 2 and 1", st.Streams, st.Rejected[ReasonStreamOverflow])
	}
	// /a keeps sending; /b goes quiet and is forgotten, which makes room
	// for /c.
	for i := 2; i < 200; i++ {
		r.Ingest(later, []Point{sum("http.server.requests", Cumulative, at(-10), at(float64(i)), float64(i), ok, route("/a"))}, nil)
	}
	cs := r.Ingest(later, []Point{sum("http.server.requests", Cumulative, at(-10), at(200), 50, ok, route("/c"))}, nil)
	if st := r.Stats(); st.Streams != 2 || len(cs) != 0 {
		t.Fatalf("streams %d, counted %+v: want 2 streams, /c a baseline", st.Streams, cs)
	}
	got := totals(r.Ingest(later, []Point{sum("http.server.requests", Cumulative, at(-10), at(201), 55, ok, route("/c"))}, nil))
	if got[FlowName("api")] != [2]uint64{5, 0} {
		t.Fatalf("/c after its baseline: %v, want 5 good", got)
	}
}

func TestStreamsAreKeyedByEverything(t *testing.T) {
	// Attributes in another order are the same stream; another scope or
	// resource is another.
	r := mustRuntime(t, map[string]*Indicator{"api": requests})
	a, b := num("http.response.status_code", 200), str("http.route", "/x")
	p1 := sum("http.server.requests", Cumulative, at(-1), at(1), 10, a, b)
	p2 := sum("http.server.requests", Cumulative, at(-1), at(2), 15, b, a)
	p3 := sum("http.server.requests", Cumulative, at(-1), at(2), 100, a, b)
	p3.Scope = "other"
	p4 := sum("http.server.requests", Cumulative, at(-1), at(2), 200, a, b)
	p4.Resource = []Attr{str("service.name", "other")}
	got := totals(r.Ingest(later, []Point{p1, p2, p3, p4}, nil))[FlowName("api")]
	if got != [2]uint64{5, 0} {
		t.Fatalf("good/bad = %v, want 5/0", got)
	}
	if n := r.Stats().Streams; n != 3 {
		t.Fatalf("streams = %d, want 3", n)
	}
}

func expo(tp Temporality, start, time int64, scale, offset int32, positive []uint64, zero uint64) Point {
	n := zero
	for _, c := range positive {
		n += c
	}
	return Point{Metric: "rpc.duration", Unit: "ms", Type: ExponentialHistogram, Temporality: tp, Start: start, Time: time,
		Count: n, Scale: scale, Offset: offset, Positive: positive, ZeroCount: zero}
}

func TestExponentialHistograms(t *testing.T) {
	in := func(th time.Duration, interpolate bool) *Indicator {
		return &Indicator{Good: &Source{Kind: HistogramThreshold, Metric: "rpc.duration", Threshold: th, Interpolate: interpolate},
			Total: &Source{Kind: HistogramCount, Metric: "rpc.duration"}}
	}
	// Scale 0: buckets (1,2], (2,4], (4,8], (8,16] ms from offset 0.
	pos := []uint64{10, 20, 30, 40}
	for _, tc := range []struct {
		name      string
		th        time.Duration
		interp    bool
		good, bad uint64
	}{
		{"on a bucket boundary", 4 * time.Millisecond, false, 35, 70},
		{"nearest boundary below", 5 * time.Millisecond, false, 35, 70}, // log2(5)=2.32: boundary 4
		{"nearest boundary above", 7 * time.Millisecond, false, 65, 40}, // log2(7)=2.81: boundary 8
		{"interpolated", 6 * time.Millisecond, true, 50, 55},            // 35 + 30·(6-4)/(8-4)
		{"below every bucket", 500 * time.Microsecond, false, 5, 100},   // the zero bucket only
		{"above every bucket", time.Second, false, 105, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustRuntime(t, map[string]*Indicator{"rpc": in(tc.th, tc.interp)})
			got := totals(r.Ingest(later, []Point{expo(Delta, at(0), at(1), 0, 0, pos, 5)}, nil))[FlowName("rpc")]
			if got != [2]uint64{tc.good, tc.bad} {
				t.Fatalf("good/bad = %v, want %d/%d", got, tc.good, tc.bad)
			}
		})
	}

	t.Run("cumulative across a rescale", func(t *testing.T) {
		r := mustRuntime(t, map[string]*Indicator{"rpc": in(4*time.Millisecond, false)})
		start := at(0.5)
		// Scale 1, offset 2: buckets (2,2.83], (2.83,4], (4,5.66], (5.66,8].
		first := expo(Cumulative, start, at(1), 1, 2, []uint64{1, 2, 3, 4}, 0)
		// SDKs rescale as values spread: scale 0 from offset 1 is
		// (2,4], (4,8], (8,16]. Since the first point: 2 more at most
		// 4 ms, 5 more in (4,8], 7 in (8,16].
		second := expo(Cumulative, start, at(2), 0, 1, []uint64{3 + 2, 7 + 5, 7}, 0)
		got := totals(r.Ingest(later, []Point{first}, nil))[FlowName("rpc")]
		if got != [2]uint64{3, 7} {
			t.Fatalf("first: %v, want 3/7", got)
		}
		got = totals(r.Ingest(later, []Point{second}, nil))[FlowName("rpc")]
		if got != [2]uint64{2, 12} {
			t.Fatalf("after the rescale: %v, want 2/12", got)
		}
	})
}

func TestSumByGroups(t *testing.T) {
	in := mustCompile(t, PromQL{
		Bad:   `sum by (http_route) (rate(http_server_requests_total{http_response_status_code=~"5.."}[{{.window}}]))`,
		Total: `sum by (http_route) (rate(http_server_requests_total[{{.window}}]))`,
	})
	pts := []Point{
		sum("http.server.requests", Delta, at(0), at(1), 90, str("http.route", "/a"), num("http.response.status_code", 200)),
		sum("http.server.requests", Delta, at(0), at(1), 10, str("http.route", "/a"), num("http.response.status_code", 500)),
		sum("http.server.requests", Delta, at(0), at(1), 50, str("http.route", "/b"), num("http.response.status_code", 200)),
		sum("http.server.requests", Delta, at(0), at(1), 7, str("http.route", "/c"), num("http.response.status_code", 503)),
		sum("http.server.requests", Delta, at(0), at(1), 3, num("http.response.status_code", 503)), // no route
	}
	t.Run("one flow per group, up to a cap", func(t *testing.T) {
		groups := map[string]string{}
		group := func(flow string, vals []flows.Value) string {
			if vals[0].Kind == flows.ValueAbsent {
				return flow
			}
			name := flow + `{http_route="` + vals[0].Str + `"}`
			if _, ok := groups[name]; !ok && len(groups) == 2 {
				return flow // full: counted in the SLO itself
			}
			groups[name] = name
			return name
		}
		r, err := NewRuntime(map[string]*Indicator{"api": in}, Options{Began: t0, Group: group})
		if err != nil {
			t.Fatal(err)
		}
		got := totals(r.Ingest(later, pts, nil))
		want := map[string][2]uint64{
			`metric:api{http_route="/a"}`: {90, 10},
			`metric:api{http_route="/b"}`: {50, 0},
			"metric:api":                  {0, 10}, // /c past the cap, and the point without a route
		}
		if len(got) != len(want) {
			t.Fatalf("counts %v, want %v", got, want)
		}
		for f, w := range want {
			if got[f] != w {
				t.Errorf("%s: %v, want %v", f, got[f], w)
			}
		}
	})
	t.Run("without a Group func, one sum", func(t *testing.T) {
		r := mustRuntime(t, map[string]*Indicator{"api": in})
		if got := totals(r.Ingest(later, pts, nil)); len(got) != 1 || got["metric:api"] != [2]uint64{140, 20} {
			t.Fatalf("counts %v, want metric:api 140/20", got)
		}
	})
}

func TestSetIndicatorsKeepsStreamsAndSums(t *testing.T) {
	// A double counter: each batch adds 0.5 event. A reload between two
	// batches that leaves the Indicator alone keeps the half event and
	// the stream's baseline, so the two halves make one event.
	in := &Indicator{Good: &Source{Kind: Counter, Metric: "work"}, Bad: &Source{Kind: Counter, Metric: "fail"}}
	r := mustRuntime(t, map[string]*Indicator{"s": in})
	r.Ingest(later, []Point{sum("work", Cumulative, at(-1), at(1), 10)}, nil) // baseline
	if cs := r.Ingest(later, []Point{sum("work", Cumulative, at(-1), at(2), 10.5)}, nil); len(cs) != 0 {
		t.Fatalf("half an event handed out: %+v", cs)
	}
	same := &Indicator{Good: &Source{Kind: Counter, Metric: "work"}, Bad: &Source{Kind: Counter, Metric: "fail"}}
	if err := r.SetIndicators(map[string]*Indicator{"s": same}); err != nil {
		t.Fatal(err)
	}
	if got := totals(r.Ingest(later, []Point{sum("work", Cumulative, at(-1), at(3), 11)}, nil))["metric:s"]; got != [2]uint64{1, 0} {
		t.Fatalf("after a reload: %v, want the two halves as 1 good", got)
	}
	// A changed Indicator starts its sums again; the stream stays.
	changed := &Indicator{Good: &Source{Kind: Counter, Metric: "work"}, Total: &Source{Kind: Counter, Metric: "work"}}
	if err := r.SetIndicators(map[string]*Indicator{"s": changed}); err != nil {
		t.Fatal(err)
	}
	if got := totals(r.Ingest(later, []Point{sum("work", Cumulative, at(-1), at(4), 13)}, nil))["metric:s"]; got != [2]uint64{2, 0} {
		t.Fatalf("after a change: %v, want 2 good", got)
	}
}

func TestNewStreamOfAKnownProducer(t *testing.T) {
	// A service running since before Burnwatch: its first export is a
	// baseline. Its 503 series appears only with its first errors, in a
	// later export of the same start time: all of it happened since the
	// export before, and counts.
	r := mustRuntime(t, map[string]*Indicator{"api": requests})
	before := at(-3600)
	ok, fail := num("http.response.status_code", 200), num("http.response.status_code", 503)
	steps := []struct {
		name      string
		pts       []Point
		good, bad uint64
	}{
		{"first export: a baseline", []Point{sum("http.server.requests", Cumulative, before, at(1), 1000, ok)}, 0, 0},
		{"errors begin: the new series counts in full", []Point{
			sum("http.server.requests", Cumulative, before, at(2), 1100, ok),
			sum("http.server.requests", Cumulative, before, at(2), 40, fail)}, 100, 40},
		{"another resource's first export is a baseline", []Point{
			func() Point {
				p := sum("http.server.requests", Cumulative, before, at(3), 70, fail)
				p.Resource = []Attr{str("service.name", "other")}
				return p
			}()}, 0, 0},
	}
	for _, s := range steps {
		if got := totals(r.Ingest(later, s.pts, nil))[FlowName("api")]; got != [2]uint64{s.good, s.bad} {
			t.Errorf("%s: good/bad = %v, want %d/%d", s.name, got, s.good, s.bad)
		}
	}

	t.Run("not after a stream of the producer was forgotten", func(t *testing.T) {
		r, err := NewRuntime(map[string]*Indicator{"api": requests}, Options{Began: t0, StaleAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		other := str("http.route", "/other")
		r.Ingest(later, []Point{sum("http.server.requests", Cumulative, before, at(1), 5, ok, other),
			sum("http.server.requests", Cumulative, before, at(1), 1000, ok)}, nil)
		// /other goes quiet and is forgotten; the producer goes on.
		for i := 2; i < 200; i++ {
			r.Ingest(later, []Point{sum("http.server.requests", Cumulative, before, at(float64(i)), 1000+float64(i), ok)}, nil)
		}
		// Back: it may have been counted before it was forgotten.
		if got := totals(r.Ingest(later, []Point{sum("http.server.requests", Cumulative, before, at(200), 9, ok, other)}, nil)); len(got) != 0 {
			t.Fatalf("a forgotten stream back counted %v", got)
		}
	})
}
