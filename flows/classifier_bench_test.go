package flows

import (
	"fmt"
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
