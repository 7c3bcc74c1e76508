package flowprocessor

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/VictoriaMetrics/metrics"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/flows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newProcessor(t testing.TB, files ...string) (processor.Traces, *consumertest.TracesSink) {
	t.Helper()
	sink := new(consumertest.TracesSink)
	cfg := &Config{Files: files}
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type), cfg, sink)
	if err != nil {
		t.Fatalf("CreateTraces: %v", err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p, sink
}

// spanCase is one span of the test batch and what the processor must do.
type spanCase struct {
	name     string
	kind     ptrace.SpanKind
	root     bool
	status   ptrace.StatusCode
	attrs    map[string]any
	flow     string // "" means: attributes left as they were
	errorful bool
}

func addSpans(ss ptrace.ScopeSpans, cases []spanCase) {
	for i, c := range cases {
		s := ss.Spans().AppendEmpty()
		s.SetName(c.name)
		s.SetKind(c.kind)
		s.SetTraceID(pcommon.TraceID{1})
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		if !c.root {
			s.SetParentSpanID(pcommon.SpanID{9})
		}
		s.Status().SetCode(c.status)
		if err := s.Attributes().FromRaw(c.attrs); err != nil {
			panic(err)
		}
	}
}

var (
	shopSpans = []spanCase{
		{name: "checkout ok", kind: ptrace.SpanKindServer, attrs: map[string]any{"http.route": "/checkout/pay"}, flow: "checkout"},
		{name: "checkout status error", kind: ptrace.SpanKindServer, status: ptrace.StatusCodeError, attrs: map[string]any{"http.route": "/checkout"}, flow: "checkout", errorful: true},
		{name: "checkout 503", kind: ptrace.SpanKindServer, attrs: map[string]any{"http.route": "/checkout", "http.response.status_code": 503}, flow: "checkout", errorful: true},
		{name: "cart", kind: ptrace.SpanKindServer, attrs: map[string]any{"http.route": "/cart"}},
		{name: "client hop", kind: ptrace.SpanKindClient, attrs: map[string]any{"http.route": "/checkout"}},
		{name: "root internal", kind: ptrace.SpanKindInternal, root: true, attrs: map[string]any{"http.route": "/checkout/x"}, flow: "checkout"},
		{name: "spoofed", kind: ptrace.SpanKindClient, attrs: map[string]any{flows.FlowAttribute: "checkout"}},
	}
	workerSpans = []spanCase{
		{name: "consume", kind: ptrace.SpanKindConsumer, attrs: map[string]any{"messaging.destination.name": "orders", "error.type": "timeout"}, flow: "orders-queue", errorful: true},
		{name: "publish", kind: ptrace.SpanKindProducer, status: ptrace.StatusCodeError, attrs: map[string]any{"messaging.destination.name": "orders"}, flow: "orders-queue"},
	}
)

func testTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	for svc, cases := range map[string][]spanCase{"shop": shopSpans, "worker": workerSpans} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc)
		addSpans(rs.ScopeSpans().AppendEmpty(), cases)
	}
	return td
}

func counter(name string) uint64 { return metrics.GetOrCreateCounter(name).Get() }

func TestAnnotateAndCount(t *testing.T) {
	p, sink := newProcessor(t, "testdata/specs/*.yaml")
	in := testTraces()
	before := ptrace.NewTraces()
	in.CopyTo(before)

	names := []string{metricReceived, metricEntry, metricUnmatched,
		metricClassified + `{flow="checkout"}`, metricClassified + `{flow="orders-queue"}`}
	start := make([]uint64, len(names))
	for i, n := range names {
		start[i] = counter(n)
	}

	if err := p.ConsumeTraces(context.Background(), in); err != nil {
		t.Fatalf("ConsumeTraces: %v", err)
	}
	if got := sink.SpanCount(); got != len(shopSpans)+len(workerSpans) {
		t.Fatalf("sink got %d spans, want all %d", got, len(shopSpans)+len(workerSpans))
	}

	cases := map[string]spanCase{}
	for _, c := range append(append([]spanCase{}, shopSpans...), workerSpans...) {
		cases[c.name] = c
	}
	original := map[string]map[string]any{}
	forEachSpan(before, func(s ptrace.Span) { original[s.Name()] = s.Attributes().AsRaw() })
	forEachSpan(sink.AllTraces()[0], func(s ptrace.Span) {
		c, ok := cases[s.Name()]
		if !ok {
			t.Fatalf("unexpected span %q", s.Name())
		}
		want := original[s.Name()]
		if c.flow != "" {
			want[flows.FlowAttribute] = c.flow
			want[flows.ErrorAttribute] = c.errorful
		}
		if got := s.Attributes().AsRaw(); !reflect.DeepEqual(got, want) {
			t.Errorf("span %q attributes:\n got %v\nwant %v", s.Name(), got, want)
		}
	})

	// 9 spans; entry: 3 checkout server spans, cart, the root, consume;
	// unmatched: cart; checkout: 4 (with the root); orders-queue takes the
	// non-entry producer too.
	want := []uint64{9, 6, 1, 4, 2}
	for i, n := range names {
		if got := counter(n) - start[i]; got != want[i] {
			t.Errorf("%s grew by %d, want %d", n, got, want[i])
		}
	}

	var buf bytes.Buffer
	metrics.WritePrometheus(&buf, false)
	for _, n := range names {
		if !strings.Contains(buf.String(), n+" ") {
			t.Errorf("/metrics lacks %s:\n%s", n, buf.String())
		}
	}
}

func forEachSpan(td ptrace.Traces, f func(ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				f(spans.At(k))
			}
		}
	}
}

// TestUnmatchedPassThroughUnchanged checks byte for byte that a batch no
// flow claims leaves the processor as it came.
func TestUnmatchedPassThroughUnchanged(t *testing.T) {
	p, sink := newProcessor(t, "testdata/specs/*.yaml")
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "elsewhere")
	addSpans(rs.ScopeSpans().AppendEmpty(), []spanCase{
		{name: "a", kind: ptrace.SpanKindServer, attrs: map[string]any{"http.route": "/checkout", "x": []any{1, "two"}}},
		{name: "b", kind: ptrace.SpanKindClient, root: true, status: ptrace.StatusCodeError},
	})
	var m ptrace.ProtoMarshaler
	want, err := m.MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	u0, e0 := counter(metricUnmatched), counter(metricEntry)
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	got, err := m.MarshalTraces(sink.AllTraces()[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("unmatched spans were modified")
	}
	if du, de := counter(metricUnmatched)-u0, counter(metricEntry)-e0; du != 2 || de != 2 {
		t.Errorf("unmatched +%d entry +%d, want +2 +2 (a server span and a root)", du, de)
	}
}

func TestCreateFailsOnBrokenSpecs(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string
	}{
		{"broken file", []string{"testdata/specs/flows.yaml", "testdata/broken/slos.yaml"},
			"flow processor: testdata/broken/slos.yaml:6: spec.target: 120 is not a percentage in (0, 100)"},
		{"SLO without its flow", []string{"testdata/specs/slos.yaml"},
			`testdata/specs/slos.yaml:5: spec.flow: flow "checkout" is not defined`},
		{"no match", []string{"testdata/nothing-*.yaml"}, `"testdata/nothing-*.yaml" matches no files`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type),
				&Config{Files: tt.files}, consumertest.NewNop())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CreateTraces error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	p, _ := newProcessor(t, "testdata/specs/flows.yaml")
	if !p.Capabilities().MutatesData {
		t.Error("the processor adds attributes, so it must declare MutatesData")
	}
	// Shutdown is safe twice (the cleanup runs it again).
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("first Shutdown: %v", err)
	}
}

// TestProcessDoesNotAllocate guards the per-span path once spans carry the
// attributes (what pdata itself allocates to add new ones is not ours).
func TestProcessDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	set := loadSet(t, "testdata/specs/*.yaml")
	p, err := newFlowProcessor(set)
	if err != nil {
		t.Fatal(err)
	}
	td := testTraces()
	ctx := context.Background()
	_, _ = p.processTraces(ctx, td)
	if n := testing.AllocsPerRun(100, func() { _, _ = p.processTraces(ctx, td) }); n != 0 {
		t.Errorf("processTraces allocates %v times per batch", n)
	}
}

// TestConcurrentBatches runs batches from several goroutines, as parallel
// pipelines do: nothing races (go test -race) and no count is lost.
func TestConcurrentBatches(t *testing.T) {
	p, sink := newProcessor(t, "testdata/specs/*.yaml")
	const workers, batches = 4, 50
	r0, c0 := counter(metricReceived), counter(metricClassified+`{flow="checkout"}`)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range batches {
				if err := p.ConsumeTraces(context.Background(), testTraces()); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	spans := len(shopSpans) + len(workerSpans)
	if got := counter(metricReceived) - r0; got != workers*batches*uint64(spans) {
		t.Errorf("received grew by %d, want %d", got, workers*batches*spans)
	}
	if got := counter(metricClassified+`{flow="checkout"}`) - c0; got != workers*batches*4 {
		t.Errorf("checkout grew by %d, want %d", got, workers*batches*4)
	}
	if sink.SpanCount() != workers*batches*spans {
		t.Errorf("sink has %d spans", sink.SpanCount())
	}
}
