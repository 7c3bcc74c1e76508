package sloconnector

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/flows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

// annotated builds spans as the flow processor leaves them.
func annotated(n int, flow string, end time.Time, errs, slow int) ptrace.Traces {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := 0; i < n; i++ {
		s := spans.AppendEmpty()
		s.SetTraceID(pcommon.TraceID{byte(i + 1)})
		s.SetSpanID(pcommon.SpanID{byte(i + 1)})
		d := 20 * time.Millisecond
		if i >= errs && i < errs+slow {
			d = 400 * time.Millisecond
		}
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-d)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
		s.Attributes().PutStr(flows.FlowAttribute, flow)
		s.Attributes().PutBool(flows.ErrorAttribute, i < errs)
	}
	// A span the processor did not classify is not an event.
	spans.AppendEmpty().SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	return td
}

func TestSpansBecomeEventsAndAlerts(t *testing.T) {
	got := make(chan map[string]any, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer hook.Close()

	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.EvaluationInterval = time.Hour // evaluations are driven by hand below
	cfg.Alerting.Console = false
	cfg.Alerting.Webhooks = []WebhookConfig{{Name: "hook", URL: hook.URL}}
	sink := new(consumertest.MetricsSink)
	f := NewFactory()
	set := connectortest.NewNopSettings(Type)
	conn, err := f.CreateTracesToMetrics(context.Background(), set, cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	tc := conn.(*tracesConnector)
	h := tc.shared.host
	h.now = func() time.Time { return t0 }
	if err := conn.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}

	// 10 checkout spans: 3 errors, 2 slow (400 ms > 300 ms threshold).
	if err := conn.ConsumeTraces(context.Background(), annotated(10, "checkout", t0, 3, 2)); err != nil {
		t.Fatal(err)
	}
	st := h.engine.Evaluate(t0)
	if p := st[0].Period; p.Total != 10 || p.Bad != 3 {
		t.Errorf("availability period = %d/%d bad/total, want 3/10", p.Bad, p.Total)
	}
	if p := st[1].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("latency period = %d/%d bad/total, want 5/10 (errors and slow)", p.Bad, p.Total)
	}
	if ex := st[0].Exemplars; len(ex) == 0 || ex[0].TraceID[0] != 3 {
		t.Errorf("exemplars = %v, want the newest bad event (trace 03...) first", ex)
	}

	h.evaluate(context.Background())
	if sink.DataPointCount() == 0 {
		t.Error("no SLI metrics reached the metrics pipeline")
	}
	// 30% errors against a 1% budget burns at 30x: page-fast fires for both SLOs.
	select {
	case p := <-got:
		if p["version"] != "4" || p["status"] != "firing" {
			t.Errorf("webhook payload version %v status %v, want 4 firing", p["version"], p["status"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
	}
	if n := h.alerts.firing(); n == 0 {
		t.Error("no alert firing after a 30x burn")
	}
	if err := conn.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := conn.Shutdown(context.Background()); err != nil {
		t.Fatal("second shutdown:", err)
	}
}

func TestSharedHostIsCountedOnce(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.Alerting.Console = false
	set := connectortest.NewNopSettings(Type)
	a, err := NewFactory().CreateTracesToMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewFactory().CreateTracesToMetrics(context.Background(), set, cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	if a.(*tracesConnector).shared != b.(*tracesConnector).shared {
		t.Fatal("two connectors of one ID got two engines")
	}
	host := componenttest.NewNopHost()
	if err := a.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The engine still runs for b.
	select {
	case <-a.(*tracesConnector).shared.done:
		t.Fatal("first shutdown stopped the shared engine")
	default:
	}
	if err := b.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-b.(*tracesConnector).shared.done
}

func TestBadSpecFileFailsCreation(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/nope-*.yaml"}
	_, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, new(consumertest.MetricsSink))
	if err == nil {
		t.Fatal("a pattern matching no file was accepted")
	}
}

func TestBadAnnotationIsCountedNotAFlow(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.EvaluationInterval = time.Hour
	cfg.Alerting.Console = false
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	h := conn.(*tracesConnector).shared.host
	h.now = func() time.Time { return t0 }
	if err := conn.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Shutdown(context.Background()) }()
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	spans.AppendEmpty().Attributes().PutInt(flows.FlowAttribute, 7)
	spans.AppendEmpty().Attributes().PutStr(flows.FlowAttribute, "")
	if err := conn.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if n := h.badAnnotations.Get(); n != 2 {
		t.Errorf("bad annotations counted %d, want 2", n)
	}
	for _, f := range h.engine.Flows() {
		if f.Flow == "" || f.Flow == "7" {
			t.Errorf("a flow %q was made from a bad annotation", f.Flow)
		}
	}
}

// TestScrapeWhileEvaluating renders /metrics while evaluations run: the
// host writes each evaluation into the storage /metrics is not showing,
// so a scrape always sees one whole evaluation (run with -race).
func TestScrapeWhileEvaluating(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.EvaluationInterval = time.Hour // evaluations are driven by hand below
	cfg.Alerting.Console = false
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, new(consumertest.MetricsSink))
	if err != nil {
		t.Fatal(err)
	}
	h := conn.(*tracesConnector).shared.host
	var now atomic.Int64
	now.Store(t0.UnixNano())
	h.now = func() time.Time { return time.Unix(0, now.Load()) }
	if err := conn.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Shutdown(context.Background()) }()
	if err := conn.ConsumeTraces(context.Background(), annotated(10, "checkout", t0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	h.evaluate(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			now.Add(int64(time.Second))
			if i%10 == 0 {
				_ = conn.ConsumeTraces(context.Background(), annotated(10, "checkout", h.now(), 1, 0))
			}
			h.evaluate(context.Background())
		}
	}()
	for scrapes := 0; ; scrapes++ {
		select {
		case <-done:
			if scrapes == 0 {
				t.Fatal("no scrape ran during the evaluations")
			}
			return
		default:
		}
		var buf bytes.Buffer
		h.writeEngineMetrics(&buf)
		if n := strings.Count(buf.String(), "burnwatch_slo_error_budget_remaining{"); n != 2 {
			t.Fatalf("a scrape shows %d SLOs' budgets, want 2:\n%s", n, buf.String())
		}
	}
}
