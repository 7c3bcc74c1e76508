package sloconnector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/connector/connectortest"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension/burnwatchextensiontest"
	"github.com/burnwatch/burnwatch/slo"
)

func TestAggregatesRoundTrip(t *testing.T) {
	specs := []slo.Spec{
		{Name: "avail", Flow: "checkout", Objective: slo.Availability, Target: 0.99, Period: 24 * time.Hour},
		{Name: "fast", Flow: "checkout", Objective: slo.LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: 24 * time.Hour},
	}
	e, err := slo.NewEngine(specs, slo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	agg := slo.NewAggregator(e)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var evs []slo.Event
	for i := range 200 {
		ev := slo.Event{Flow: "checkout", End: now.Add(-time.Duration(i) * 700 * time.Millisecond).UnixNano(),
			Duration: time.Duration(i) * 3 * time.Millisecond, Error: i%17 == 0}
		ev.TraceID[0] = byte(i)
		evs = append(evs, ev)
	}
	evs = append(evs, slo.Event{Flow: "checkout", End: now.Add(-time.Hour).UnixNano(), Error: true}, slo.Event{Flow: "browse", End: now.UnixNano()})
	agg.Add(now, evs)
	want := agg.Cut(nil)
	md := pmetric.NewMetrics()
	encodeAggregates(md, "agent-1", 7, now, want)
	if md.ResourceMetrics().Len() != len(want) {
		t.Fatalf("%d resources for %d flows", md.ResourceMetrics().Len(), len(want))
	}
	for i := range want {
		rm := md.ResourceMetrics().At(i)
		got, err := decodeAggregate(rm, rm.ScopeMetrics().At(0))
		if err != nil {
			t.Fatal(err)
		}
		if got.Agent != "agent-1" || got.Seq != 7 {
			t.Errorf("source %s/%d, want agent-1/7", got.Agent, got.Seq)
		}
		sameAggregate(t, got.Aggregate, want[i])
	}
}

// sameAggregate compares aggregates field by field, histograms by content.
func sameAggregate(t *testing.T, got, want slo.Aggregate) {
	t.Helper()
	if got.Flow != want.Flow || got.Width != want.Width || got.TooLate != want.TooLate || got.Last != want.Last ||
		len(got.Slots) != len(want.Slots) || len(got.SLOs) != len(want.SLOs) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i, s := range want.Slots {
		g := got.Slots[i]
		if g.Start != s.Start || g.Errors != s.Errors || !g.Latency.Equal(s.Latency) {
			t.Errorf("slot %d: got %d/%d %v, want %d/%d %v", i, g.Start, g.Errors, g.Latency, s.Start, s.Errors, s.Latency)
		}
	}
	for i, s := range want.SLOs {
		g := got.SLOs[i]
		if g.Name != s.Name || g.Shape != s.Shape || len(g.Counts) != len(s.Counts) || len(g.Exemplars) != len(s.Exemplars) {
			t.Fatalf("slo %d: got %+v, want %+v", i, g, s)
		}
		for j := range s.Counts {
			if g.Counts[j] != s.Counts[j] {
				t.Errorf("slo %s counts %d: got %+v, want %+v", s.Name, j, g.Counts[j], s.Counts[j])
			}
		}
		for j := range s.Exemplars {
			if g.Exemplars[j] != s.Exemplars[j] {
				t.Errorf("slo %s exemplar %d: got %+v, want %+v", s.Name, j, g.Exemplars[j], s.Exemplars[j])
			}
		}
	}
}

// TestAgentConnectorToGatewayConnector: spans into an agent's slo
// connector come out as aggregates, which a gateway's slo connector merges
// once however often they arrive, into the same counts the spans make on a
// standalone daemon.
func TestAgentConnectorToGatewayConnector(t *testing.T) {
	agentConn, sink, agentApp := newConnector(t, time.Hour, func(c *burnwatchextension.Config) {
		c.Mode = app.ModeAgent
		c.Agent.Interval = 10 * time.Millisecond
	})
	standalone, _, direct := newConnector(t, time.Hour, nil)
	host, gateway := burnwatchextensiontest.Start(t, nil, specs)
	gw, err := NewFactory().CreateMetricsToMetrics(context.Background(), connectortest.NewNopSettings(Type), createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background(), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Shutdown(context.Background()) })

	now := time.Now()
	for _, c := range []connector.Traces{agentConn, standalone} {
		if err := c.ConsumeTraces(context.Background(), annotated(10, "checkout", now, 3, 2)); err != nil {
			t.Fatal(err)
		}
	}
	if st := agentApp.Engine().Stats(); st.Events != 0 {
		t.Fatalf("the agent's engine counted %d events: an agent only aggregates", st.Events)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.AllMetrics()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the agent exported no aggregates")
		}
		time.Sleep(5 * time.Millisecond)
	}
	md := sink.AllMetrics()[0]
	// Sent twice, as an exporter's retry would: merged once.
	for range 2 {
		if err := gw.ConsumeMetrics(context.Background(), md); err != nil {
			t.Fatal(err)
		}
	}
	got, want := gateway.Engine().Evaluate(now), direct.Engine().Evaluate(now)
	for i := range want {
		if got[i].Period != want[i].Period {
			t.Errorf("%s: gateway period %+v, standalone %+v", want[i].SLO.Name, got[i].Period, want[i].Period)
		}
	}
	if want[1].Period.Bad != 5 {
		t.Fatalf("latency SLO bad = %d, want 5", want[1].Period.Bad)
	}
	if n := counter(gateway, `burnwatch_aggregates_dropped_total{reason="duplicate"}`); n != 1 {
		t.Errorf("duplicates dropped = %d, want 1", n)
	}
	// A damaged aggregate is refused for good and counted.
	bad := pmetric.NewMetrics()
	md.CopyTo(bad)
	bad.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().Attributes().PutInt(attrAgentWidth, -1)
	if err := gw.ConsumeMetrics(context.Background(), bad); !consumererror.IsPermanent(err) {
		t.Fatalf("damaged aggregate: error %v, want a permanent one", err)
	}
	if n := counter(gateway, `burnwatch_aggregates_dropped_total{reason="invalid"}`); n != 1 {
		t.Errorf("invalid dropped = %d, want 1", n)
	}
	// An agent merges nothing.
	if err := agentApp.MergeAggregates([]app.AgentAggregate{{Agent: "x"}}); err == nil {
		t.Error("an agent merged aggregates")
	}
}

// TestDecodeAggregateRefusesDamage: each kind of damage a gateway can be
// sent gives an error that says what is wrong, never a panic or a merge.
func TestDecodeAggregateRefusesDamage(t *testing.T) {
	specs := []slo.Spec{{Name: "fast", Flow: "checkout", Objective: slo.LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: 24 * time.Hour}}
	e, err := slo.NewEngine(specs, slo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	agg := slo.NewAggregator(e)
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	agg.Add(now, []slo.Event{{Flow: "checkout", End: now.UnixNano(), Duration: 500 * time.Millisecond, Error: true},
		{Flow: "checkout", End: now.UnixNano(), Duration: 5 * time.Millisecond}})
	good := pmetric.NewMetrics()
	encodeAggregates(good, "a", 1, now, agg.Cut(nil))
	metric := func(md pmetric.Metrics, name string) pmetric.Metric {
		ms := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
		for i := 0; i < ms.Len(); i++ {
			if ms.At(i).Name() == name {
				return ms.At(i)
			}
		}
		t.Fatalf("no %s", name)
		return pmetric.Metric{}
	}
	tests := []struct {
		name   string
		damage func(md pmetric.Metrics)
		want   string
	}{
		{"no flow", func(md pmetric.Metrics) { md.ResourceMetrics().At(0).Resource().Attributes().Clear() }, "no burnwatch.flow"},
		{"other version", func(md pmetric.Metrics) { md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().SetVersion("2") }, "one release"},
		{"no sequence", func(md pmetric.Metrics) {
			md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().Attributes().Remove(attrAgentSeq)
		}, attrAgentSeq},
		{"zero width", func(md pmetric.Metrics) {
			md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().Attributes().PutInt(attrAgentWidth, 0)
		}, "not positive"},
		{"double counts", func(md pmetric.Metrics) {
			metric(md, metricRequests).Sum().DataPoints().At(0).SetDoubleValue(1)
		}, "non-negative integers"},
		{"cumulative", func(md pmetric.Metrics) {
			metric(md, metricRequests).Sum().SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		}, "delta sum"},
		{"requests and latencies disagree", func(md pmetric.Metrics) {
			metric(md, metricRequests).Sum().DataPoints().At(0).SetIntValue(5)
		}, "requests but"},
		{"off the slot grid", func(md pmetric.Metrics) {
			dp := metric(md, metricDuration).ExponentialHistogram().DataPoints().At(0)
			dp.SetStartTimestamp(dp.StartTimestamp() + 1)
		}, "not one slot"},
		{"negative latencies", func(md pmetric.Metrics) {
			metric(md, metricDuration).ExponentialHistogram().DataPoints().At(0).Negative().BucketCounts().FromRaw([]uint64{1})
		}, "never negative"},
		{"scale beyond OTel's", func(md pmetric.Metrics) {
			metric(md, metricDuration).ExponentialHistogram().DataPoints().At(0).SetScale(40)
		}, "scale 40"},
		{"verdict without shape", func(md pmetric.Metrics) {
			metric(md, metricSLOEvents).Sum().DataPoints().At(0).Attributes().Remove(attrShape)
		}, attrShape},
		{"verdicts and requests disagree", func(md pmetric.Metrics) {
			dp := metric(md, metricSLOEvents).Sum().DataPoints().At(0)
			dp.SetIntValue(dp.IntValue() + 1)
		}, "verdicts for"},
	}
	rm := good.ResourceMetrics().At(0)
	if _, err := decodeAggregate(rm, rm.ScopeMetrics().At(0)); err != nil {
		t.Fatalf("the undamaged aggregate: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := pmetric.NewMetrics()
			good.CopyTo(md)
			tc.damage(md)
			rm := md.ResourceMetrics().At(0)
			_, err := decodeAggregate(rm, rm.ScopeMetrics().At(0))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// flakyMetrics refuses exports while fail is set (permanently if
// permanent), and keeps those it accepts.
type flakyMetrics struct {
	consumertest.MetricsSink
	fail, permanent bool
}

func (f *flakyMetrics) ConsumeMetrics(ctx context.Context, md pmetric.Metrics) error {
	switch {
	case f.fail && f.permanent:
		return consumererror.NewPermanent(errors.New("refused for good"))
	case f.fail:
		return errors.New("try again")
	}
	return f.MetricsSink.ConsumeMetrics(ctx, md)
}

// seqs are the sequence numbers of the exports next accepted, in order.
func seqs(next *flakyMetrics) []int64 {
	var out []int64
	for _, md := range next.AllMetrics() {
		v, _ := md.ResourceMetrics().At(0).ScopeMetrics().At(0).Scope().Attributes().Get(attrAgentSeq)
		out = append(out, v.Int())
	}
	return out
}

// TestAgentExportKeepsRefusedCuts: a cut the pipeline refuses is sent
// again, with its sequence number, before newer ones; past max_pending the
// oldest are dropped and counted; one refused for good is dropped.
func TestAgentExportKeepsRefusedCuts(t *testing.T) {
	_, a := burnwatchextensiontest.Start(t, func(c *burnwatchextension.Config) {
		c.Mode = app.ModeAgent
		c.Agent.MaxPending = 2
	}, specs)
	next := &flakyMetrics{}
	cfg, _ := a.IsAgent()
	x := &agentExport{app: a, cfg: cfg, next: next, logger: zap.NewNop(), id: "agent",
		exported: a.Counter("burnwatch_agent_exports_total"), failed: a.Counter("burnwatch_agent_export_errors_total"),
		dropped: a.Counter("burnwatch_agent_exports_dropped_total")}
	ctx := context.Background()
	observe := func() {
		if err := a.Observe(appEvents(3, time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	next.fail = true
	for range 3 {
		observe()
		x.flush(ctx) // cuts 1, 2, 3: refused; 1 dropped past max_pending 2
	}
	if len(next.AllMetrics()) != 0 || len(x.pending) != 2 || x.pending[0].seq != 2 {
		t.Fatalf("pending %d (first seq %d), accepted %d: want cuts 2 and 3 kept", len(x.pending), x.pending[0].seq, len(next.AllMetrics()))
	}
	next.fail = false
	observe()
	x.flush(ctx) // 2, 3, then the new cut 4
	if got := seqs(next); len(got) != 3 || got[0] != 2 || got[1] != 3 || got[2] != 4 {
		t.Fatalf("accepted sequence numbers %v, want [2 3 4]", got)
	}
	next.fail, next.permanent = true, true
	observe()
	x.flush(ctx)
	if len(x.pending) != 0 {
		t.Fatalf("%d cuts pending after a permanent refusal, want none", len(x.pending))
	}
	if d, f := counter(a, "burnwatch_agent_exports_dropped_total"), counter(a, "burnwatch_agent_export_errors_total"); d != 2 || f != 3 {
		t.Fatalf("dropped %d, errors %d: want 2 (one past max_pending, one refused for good) and 3", d, f)
	}
}

// appEvents are n checkout events ending at end, as the App takes them.
func appEvents(n int, end time.Time) []slo.Event {
	evs := make([]slo.Event, n)
	for i := range evs {
		evs[i] = slo.Event{Flow: "checkout", End: end.UnixNano(), Duration: time.Duration(i+1) * time.Millisecond}
	}
	return evs
}
