package sloconnector

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/flows"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const specs = "../../app/testdata/specs.yaml"

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

// newConnector starts a connector, with metrics_interval interval, on a
// real burnwatch extension that change may adjust.
func newConnector(t *testing.T, interval time.Duration, change func(*burnwatchextension.Config)) (connector.Traces, *consumertest.MetricsSink, *app.App) {
	t.Helper()
	host, a := burnwatchextensiontest.Start(t, change, specs)
	cfg := createDefaultConfig()
	cfg.MetricsInterval = interval
	sink := new(consumertest.MetricsSink)
	conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := conn.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return conn, sink, a
}

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

func TestSpansBecomeEventsAndSLIMetrics(t *testing.T) {
	conn, sink, a := newConnector(t, 10*time.Millisecond, func(c *burnwatchextension.Config) {
		c.EvaluationInterval = 10 * time.Millisecond
	})
	now := time.Now()
	// 10 checkout spans: 3 errors, 2 slow (400 ms > 300 ms threshold).
	if err := conn.ConsumeTraces(context.Background(), annotated(10, "checkout", now, 3, 2)); err != nil {
		t.Fatal(err)
	}
	st := a.Engine().Evaluate(now)
	if p := st[0].Period; p.Total != 10 || p.Bad != 3 {
		t.Errorf("availability period = %d/%d bad/total, want 3/10", p.Bad, p.Total)
	}
	if p := st[1].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("latency period = %d/%d bad/total, want 5/10 (errors and slow)", p.Bad, p.Total)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sink.DataPointCount() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no SLI metrics reached the metrics pipeline")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBadAndUnknownAnnotationsAreCountedNotFlows(t *testing.T) {
	conn, _, a := newConnector(t, time.Hour, nil)
	td := annotated(3, "invented", time.Now(), 3, 0)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	spans.AppendEmpty().Attributes().PutInt(flows.FlowAttribute, 7)
	spans.AppendEmpty().Attributes().PutStr(flows.FlowAttribute, "")
	if err := conn.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if n := counter(a, "burnwatch_spans_bad_annotation_total"); n != 2 {
		t.Errorf("bad annotations counted %d, want 2", n)
	}
	if n := counter(a, "burnwatch_events_unknown_flow_total"); n != 3 {
		t.Errorf("unknown flows counted %d, want 3", n)
	}
	for _, f := range a.Engine().Flows() {
		if f.Flow == "" || f.Flow == "7" || f.Flow == "invented" {
			t.Errorf("a flow %q was made from a bad annotation", f.Flow)
		}
	}
}

// TestNotDurableIsBackPressure: under storage.acknowledge: durable, a batch
// storage cannot keep goes back to the sender as a retryable error.
func TestNotDurableIsBackPressure(t *testing.T) {
	blocked := filepath.Join(t.TempDir(), "file")
	if err := writeFile(blocked); err != nil {
		t.Fatal(err)
	}
	conn, _, _ := newConnector(t, time.Hour, func(c *burnwatchextension.Config) {
		c.Storage.Directory = filepath.Join(blocked, "data")
		c.Storage.Acknowledge = app.AckDurable
	})
	err := conn.ConsumeTraces(context.Background(), annotated(3, "checkout", time.Now(), 0, 0))
	if err == nil || consumererror.IsPermanent(err) {
		t.Fatalf("ConsumeTraces with storage down = %v, want a retryable error", err)
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("shut down twice", func(t *testing.T) {
		conn, _, _ := newConnector(t, time.Millisecond, nil)
		if conn.Capabilities().MutatesData {
			t.Error("the connector reads spans only")
		}
		if err := conn.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("shut down without start", func(t *testing.T) {
		conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("start without the extension", func(t *testing.T) {
		conn, err := NewFactory().CreateTracesToMetrics(context.Background(), connectortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Start(context.Background(), &burnwatchextensiontest.Host{}); err == nil || !strings.Contains(err.Error(), "is not configured") {
			t.Errorf("Start without the extension = %v", err)
		}
		if err := conn.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func writeFile(path string) error { return os.WriteFile(path, []byte("x"), 0o644) }
