package flowprocessor

import (
	"bytes"
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/flows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newProcessor starts a flow processor on a real burnwatch extension with
// the spec files files; change, when not nil, adjusts the processor's
// config.
func newProcessor(t testing.TB, change func(*Config), files ...string) (processor.Traces, *consumertest.TracesSink, *app.App) {
	t.Helper()
	host, a := burnwatchextensiontest.Start(t, nil, files...)
	sink := new(consumertest.TracesSink)
	cfg := createDefaultConfig().(*Config)
	if change != nil {
		change(cfg)
	}
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type), cfg, sink)
	if err != nil {
		t.Fatalf("CreateTraces: %v", err)
	}
	if err := p.Start(context.Background(), host); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return p, sink, a
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

// Self-metric names of classification (package app writes them).
const (
	metricReceived   = "burnwatch_spans_received_total"
	metricEntry      = "burnwatch_spans_entry_total"
	metricClassified = "burnwatch_spans_classified_total"
	metricUnmatched  = "burnwatch_spans_unmatched_total"
	metricRemoved    = "burnwatch_spans_annotation_removed_total"
)

// counter reads one series of a's /metrics, 0 when it is absent.
func counter(a *app.App, series string) uint64 {
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	for _, line := range strings.Split(buf.String(), "\n") {
		if name, v, ok := strings.Cut(line, " "); ok && name == series {
			n, _ := strconv.ParseUint(v, 10, 64)
			return n
		}
	}
	return 0
}

func TestAnnotateAndCount(t *testing.T) {
	p, sink, a := newProcessor(t, nil, "testdata/specs/*.yaml")
	in := testTraces()
	before := ptrace.NewTraces()
	in.CopyTo(before)

	names := []string{metricReceived, metricEntry, metricUnmatched,
		metricClassified + `{flow="checkout"}`, metricClassified + `{flow="orders-queue"}`, metricRemoved}
	start := make([]uint64, len(names))
	for i, n := range names {
		start[i] = counter(a, n)
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
		// Client-set annotations are removed from every span.
		want := original[s.Name()]
		delete(want, flows.FlowAttribute)
		delete(want, flows.ErrorAttribute)
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
	// non-entry producer too; the spoofed span's annotation is removed.
	want := []uint64{9, 6, 1, 4, 2, 1}
	for i, n := range names {
		if got := counter(a, n) - start[i]; got != want[i] {
			t.Errorf("%s grew by %d, want %d", n, got, want[i])
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
	p, sink, a := newProcessor(t, nil, "testdata/specs/*.yaml")
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
	u0, e0 := counter(a, metricUnmatched), counter(a, metricEntry)
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
	if du, de := counter(a, metricUnmatched)-u0, counter(a, metricEntry)-e0; du != 2 || de != 2 {
		t.Errorf("unmatched +%d entry +%d, want +2 +2 (a server span and a root)", du, de)
	}
}

func TestLifecycle(t *testing.T) {
	p, _, _ := newProcessor(t, nil, "testdata/specs/flows.yaml")
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
	p := startedProcessor(t, nil, "testdata/specs/*.yaml")
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
	p, sink, a := newProcessor(t, nil, "testdata/specs/*.yaml")
	const workers, batches = 4, 50
	r0, c0 := counter(a, metricReceived), counter(a, metricClassified+`{flow="checkout"}`)
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
	if got := counter(a, metricReceived) - r0; got != workers*batches*uint64(spans) {
		t.Errorf("received grew by %d, want %d", got, workers*batches*spans)
	}
	if got := counter(a, metricClassified+`{flow="checkout"}`) - c0; got != workers*batches*4 {
		t.Errorf("checkout grew by %d, want %d", got, workers*batches*4)
	}
	if sink.SpanCount() != workers*batches*spans {
		t.Errorf("sink has %d spans", sink.SpanCount())
	}
}

// startedProcessor is the processor itself, started on a real burnwatch
// extension, for tests and benchmarks that call processTraces directly.
func startedProcessor(tb testing.TB, change func(*Config), files ...string) *flowProcessor {
	tb.Helper()
	host, _ := burnwatchextensiontest.Start(tb, nil, files...)
	cfg := createDefaultConfig().(*Config)
	if change != nil {
		change(cfg)
	}
	p := newFlowProcessor(cfg)
	if err := p.start(context.Background(), host); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestClientCannotChooseFlow: a span that matches no flow but arrives
// carrying burnwatch.flow and burnwatch.error (a client spoofing a flow it
// does not own) leaves without them, so the slo connector never counts it.
func TestClientCannotChooseFlow(t *testing.T) {
	p, sink, a := newProcessor(t, nil, "testdata/specs/*.yaml")
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "intruder")
	addSpans(rs.ScopeSpans().AppendEmpty(), []spanCase{
		{name: "spoof", kind: ptrace.SpanKindClient, attrs: map[string]any{flows.FlowAttribute: "checkout", flows.ErrorAttribute: true}},
		{name: "spoof server", kind: ptrace.SpanKindServer, attrs: map[string]any{flows.FlowAttribute: "checkout", "http.route": "/elsewhere"}},
	})
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	forEachSpan(sink.AllTraces()[0], func(s ptrace.Span) {
		for _, k := range []string{flows.FlowAttribute, flows.ErrorAttribute} {
			if v, ok := s.Attributes().Get(k); ok {
				t.Errorf("span %q still carries %s=%v", s.Name(), k, v.AsRaw())
			}
		}
	})
	if n := counter(a, metricRemoved); n != 2 {
		t.Errorf("%s = %d, want 2", metricRemoved, n)
	}
	if n := counter(a, metricClassified+`{flow="checkout"}`); n != 0 {
		t.Errorf("checkout classified %d spoofed spans", n)
	}
}

// TestTrustAnnotations: a gateway that trusts its agents keeps the flow
// they set, and classifies the spans that carry none.
func TestTrustAnnotations(t *testing.T) {
	p, sink, a := newProcessor(t, func(c *Config) { c.TrustAnnotations = true }, "testdata/specs/*.yaml")
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "shop")
	addSpans(rs.ScopeSpans().AppendEmpty(), []spanCase{
		{name: "classified by an agent", kind: ptrace.SpanKindClient, attrs: map[string]any{flows.FlowAttribute: "orders-queue", flows.ErrorAttribute: true}},
		{name: "not yet classified", kind: ptrace.SpanKindServer, attrs: map[string]any{"http.route": "/checkout"}},
	})
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	forEachSpan(sink.AllTraces()[0], func(s ptrace.Span) {
		v, _ := s.Attributes().Get(flows.FlowAttribute)
		got[s.Name()] = v.AsRaw()
	})
	if got["classified by an agent"] != "orders-queue" || got["not yet classified"] != "checkout" {
		t.Errorf("flows after a trusting processor: %v", got)
	}
	if n := counter(a, metricRemoved); n != 0 {
		t.Errorf("a trusting processor removed %d annotations", n)
	}
}

func TestShutdownWithoutStart(t *testing.T) {
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStartWithoutExtension(t *testing.T) {
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	err = p.Start(context.Background(), &burnwatchextensiontest.Host{})
	if err == nil || !strings.Contains(err.Error(), `extension "burnwatch" is not configured`) {
		t.Errorf("Start without the extension = %v", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after a failed Start: %v", err)
	}
}
