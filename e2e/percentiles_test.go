package e2e

import (
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const percentileSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: search}
spec:
  match: [{attribute: http.route, equals: /search}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-latency}
spec: {flow: checkout, objective: {type: latency, threshold: 300ms}, target: 99}
`

var quantileLine = regexp.MustCompile(`^burnwatch_flow_latency_seconds\{flow="([^"]+)",window="([^"]+)",quantile="([^"]+)"\} (\S+)$`)
var countLine = regexp.MustCompile(`^burnwatch_flow_latency_count\{flow="([^"]+)",window="([^"]+)"\} (\d+)$`)

// nearestRank is the exact q-quantile of sorted values: the ceil(q·n)-th.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	r := int(math.Ceil(q*float64(len(sorted)) - 1e-9))
	return sorted[max(r, 1)-1]
}

// TestPercentilesMatchTruth sends spans of known durations (a lognormal flow
// and a bimodal one) with the OTel SDK over OTLP gRPC and checks the
// percentiles the daemon serves for each flow against the exact nearest-rank
// values of what was sent: within 1.1%.
func TestPercentilesMatchTruth(t *testing.T) {
	d := startDaemon(t, percentileSpecs, "")
	exp := newExporter(t, d.grpc)
	rng := rand.New(rand.NewPCG(3, 5))
	res := resource.NewSchemaless(attribute.String("service.name", "shop"))
	sent := map[string][]time.Duration{}
	for b := 0; b < 40; b++ {
		now := time.Now()
		var spans []sdktrace.ReadOnlySpan
		for i := 0; i < 250; i++ {
			route, dur := "/checkout", time.Duration(float64(50*time.Millisecond)*math.Exp(0.8*rng.NormFloat64()))
			if i%2 == 1 {
				route = "/search"
				dur = time.Duration(float64(20*time.Millisecond) * math.Exp(0.3*rng.NormFloat64()))
				if rng.IntN(20) == 0 { // 5% slow mode
					dur = time.Duration(float64(800*time.Millisecond) * math.Exp(0.2*rng.NormFloat64()))
				}
			}
			dur = max(dur, time.Microsecond)
			sent[route[1:]] = append(sent[route[1:]], dur)
			var tid trace.TraceID
			tid[0], tid[1], tid[2] = byte(b), byte(i), 7
			spans = append(spans, tracetest.SpanStub{
				Name:                 "GET " + route,
				SpanContext:          trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{byte(i), 1}}),
				SpanKind:             trace.SpanKindServer,
				StartTime:            now.Add(-dur),
				EndTime:              now,
				Attributes:           []attribute.KeyValue{attribute.String("http.route", route), attribute.Int("http.response.status_code", 200)},
				Resource:             res,
				InstrumentationScope: instrumentation.Scope{Name: "percentiles"},
			}.Snapshot())
		}
		exp.send(t, spans)
	}
	time.Sleep(600 * time.Millisecond) // two evaluations of the real daemon

	type key struct{ flow, window string }
	counts := map[key]int{}
	got := map[key]map[string]float64{}
	for _, line := range strings.Split(scrape(t, d.metrics), "\n") {
		if m := countLine.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[3])
			counts[key{m[1], m[2]}] = n
		}
		if m := quantileLine.FindStringSubmatch(line); m != nil {
			k := key{m[1], m[2]}
			if got[k] == nil {
				got[k] = map[string]float64{}
			}
			v, _ := strconv.ParseFloat(m[4], 64)
			got[k][m[3]] = v
		}
	}
	checked := 0
	for k, qs := range got {
		truth := slices.Clone(sent[k.flow])
		if counts[k] != len(truth) {
			continue // a window too short to hold the whole run
		}
		slices.Sort(truth)
		for qs_, v := range qs {
			q, _ := strconv.ParseFloat(qs_, 64)
			want := nearestRank(truth, q).Seconds()
			if rel := math.Abs(v-want) / want; rel > 0.011 {
				t.Errorf("%s %s p%s = %.6fs, truth %.6fs: %.2f%% off", k.flow, k.window, qs_, v, want, rel*100)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("checked %d percentiles; want p50..p99.9 of both flows (counts %v)", checked, counts)
	}
	t.Logf("checked %d percentiles against the truth", checked)
}
