package flows

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchSpecs is a realistic spec set: ten services with a few flows each,
// routes matched by regex, methods by in, default error rules.
func benchSpecs() []Spec {
	var specs []Spec
	for i := range 10 {
		svc := fmt.Sprintf("svc-%d", i)
		specs = append(specs,
			Spec{Name: svc + "-write", EntryOnly: true, Errors: DefaultErrors(), Match: []Rule{
				eq("service.name", svc),
				{Attribute: "http.request.method", Op: OpIn, Values: []string{"POST", "PUT", "DELETE"}},
				{Attribute: "http.route", Op: OpRegex, Value: "/api/v[0-9]+/orders.*"},
			}},
			Spec{Name: svc + "-read", EntryOnly: true, Errors: DefaultErrors(), Match: []Rule{
				eq("service.name", svc),
				{Attribute: "http.route", Op: OpNotRegex, Value: "/health.*"},
			}},
		)
	}
	specs = append(specs, Spec{Name: "slow-codes", EntryOnly: false, Match: []Rule{
		{Attribute: "http.response.status_code", Op: OpRegex, Value: "5.."},
		{Attribute: "retry.count", Op: OpGte, Number: 3},
	}})
	return specs
}

// benchInputs covers the paths: a match near the end, a non-entry span, an
// unmatched entry span and the number-formatting regex.
func benchInputs(c *Classifier) []*Input {
	mk := func(kind SpanKind, res, attrs map[string]Value) *Input {
		return span{resource: res, attrs: attrs, kind: kind}.input(c)
	}
	svc9 := map[string]Value{"service.name": StrValue("svc-9")}
	return []*Input{
		mk(SpanKindServer, svc9, map[string]Value{
			"http.request.method":       StrValue("POST"),
			"http.route":                StrValue("/api/v2/orders/{id}"),
			"http.response.status_code": IntValue(503),
		}),
		mk(SpanKindServer, svc9, map[string]Value{
			"http.request.method":       StrValue("GET"),
			"http.route":                StrValue("/api/v2/orders/{id}"),
			"http.response.status_code": IntValue(200),
		}),
		mk(SpanKindClient, svc9, map[string]Value{
			"http.response.status_code": IntValue(502),
			"retry.count":               StrValue("4"),
		}),
		mk(SpanKindServer, map[string]Value{"service.name": StrValue("other")}, nil),
	}
}

func BenchmarkClassify(b *testing.B) {
	c := mustClassifier(b, benchSpecs()...)
	inputs := benchInputs(c)
	for _, in := range inputs {
		c.Classify(in)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.Classify(inputs[i%len(inputs)])
	}
}

// flowCounts are the flow-set sizes of the scale benchmarks: a gateway with
// a handful of flows up to one with 100,000.
var flowCounts = []int{10, 1_000, 10_000, 100_000}

// scaleSpecs returns n flows shaped like real ones: one per service × route,
// "service.name equals" and "http.route" either equals or a regex prefix,
// plus a few flows on other attributes mixed in (health checks first, as
// teams put them, numeric and regex-only flows in the middle and at the
// end). The number of routes per service stays at most 100. Services
// share their routes unless distinct is set, when each has its own.
func scaleSpecs(n int) []Spec { return scaleSpecsRoutes(n, false) }

func scaleSpecsRoutes(n int, distinct bool) []Spec {
	routes := min(n, 100)
	if n <= 10 {
		routes = 5
	}
	services := n / routes
	specs := []Spec{{Name: "health", EntryOnly: true, Match: []Rule{
		{Attribute: "url.path", Op: OpIn, Values: []string{"/health", "/healthz", "/ready"}},
	}}}
	for s := range services {
		svc := fmt.Sprintf("svc-%d", s)
		base := "/api/v1/"
		if distinct {
			base += svc + "/"
		}
		for r := range routes {
			route := Rule{Attribute: "http.route", Op: OpEquals, Value: fmt.Sprintf("%sr%d/{id}", base, r)}
			if r%2 == 1 {
				route = Rule{Attribute: "http.route", Op: OpRegex, Value: fmt.Sprintf("%sr%d/.*", base, r)}
			}
			specs = append(specs, Spec{
				Name: fmt.Sprintf("%s-r%d", svc, r), EntryOnly: true, Errors: DefaultErrors(),
				Match: []Rule{eq("service.name", svc), route},
			})
		}
		if s == services/2 {
			specs = append(specs,
				Spec{Name: "retried-5xx", Match: []Rule{
					{Attribute: "http.response.status_code", Op: OpGte, Number: 500},
					{Attribute: "retry.count", Op: OpGte, Number: 3},
				}},
				Spec{Name: "tls-port", EntryOnly: true, Match: []Rule{
					eq("server.port", "8443"), eq(KeySpanKind, "server"),
				}},
			)
		}
	}
	return append(specs,
		Spec{Name: "admin", EntryOnly: true, Match: []Rule{{Attribute: "http.route", Op: OpRegex, Value: "/api/v[0-9]+/admin/.*"}}},
		Spec{Name: "php", EntryOnly: true, Match: []Rule{{Attribute: "url.path", Op: OpRegex, Value: `.*\.php`}}},
	)
}

// scaleInputs returns spans for scaleSpecs(n): most match a flow drawn at
// random, a few the health or php flows, the rest are unmatched (an unknown
// route of a known service, an unknown service, a client span of a known
// flow).
func scaleInputs(c *Classifier, n int) []*Input {
	rnd := rand.New(rand.NewPCG(1, 2))
	routes := min(n, 100)
	if n <= 10 {
		routes = 5
	}
	services := n / routes
	ins := make([]*Input, 0, 256)
	for i := range cap(ins) {
		s, r := rnd.IntN(services), rnd.IntN(routes)
		res := map[string]Value{"service.name": StrValue(fmt.Sprintf("svc-%d", s))}
		attrs := map[string]Value{
			"http.route":                StrValue(fmt.Sprintf("/api/v1/r%d/{id}", r)),
			"http.response.status_code": IntValue(200),
			"server.port":               IntValue(8080),
		}
		kind := SpanKindServer
		switch i % 16 {
		case 6:
			attrs["url.path"] = StrValue("/index.php")
		case 14:
			attrs["url.path"] = StrValue("/healthz")
		}
		switch i % 8 {
		case 1:
			attrs["http.response.status_code"] = IntValue(503)
		case 3:
			attrs["http.route"] = StrValue("/api/v1/unknown")
		case 5:
			res["service.name"] = StrValue("svc-unknown")
		case 7:
			kind = SpanKindClient
		}
		ins = append(ins, span{resource: res, attrs: attrs, kind: kind, name: "GET /api"}.input(c))
	}
	return ins
}

// BenchmarkClassifyFlows measures per-span cost as the number of flows
// grows; with the index it should stay nearly flat.
func BenchmarkClassifyFlows(b *testing.B) {
	for _, n := range flowCounts {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			c := mustClassifier(b, scaleSpecs(n)...)
			benchClassify(b, c, scaleInputs(c, n), c.Classify)
		})
	}
}

// BenchmarkClassifyFlowsLinear is BenchmarkClassifyFlows for the classifier
// before the index, which tried every flow: the baseline.
func BenchmarkClassifyFlowsLinear(b *testing.B) {
	for _, n := range flowCounts {
		b.Run(fmt.Sprintf("flows=%d", n), func(b *testing.B) {
			c := mustClassifier(b, scaleSpecs(n)...)
			benchClassify(b, c, scaleInputs(c, n), func(in *Input) Result { return classifyLinear(c, in) })
		})
	}
}

func benchClassify(b *testing.B, c *Classifier, inputs []*Input, classify func(*Input) Result) {
	matched := 0
	for _, in := range inputs {
		if classify(in).Matched() {
			matched++
		}
	}
	if matched == 0 || matched == len(inputs) {
		b.Fatalf("%d of %d inputs matched: the benchmark needs both", matched, len(inputs))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		classify(inputs[i%len(inputs)])
	}
}

// BenchmarkNewClassifier measures building a classifier for 100,000 flows,
// as a reload of the flow files does: with routes shared by the services
// (50 distinct regexes), and with routes of their own (50,000).
func BenchmarkNewClassifier(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		b.Run(fmt.Sprintf("flows=100000/distinct-routes=%v", distinct), func(b *testing.B) {
			specs := scaleSpecsRoutes(100_000, distinct)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewClassifier(specs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
