package sloconnector

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/slo/sketch"
)

// The wire form of aggregates, agent to gateway (docs/deploy.md): one
// ResourceMetrics per flow, whose only resource attribute is
// burnwatch.flow, so the load-balancing exporter can route by it
// (routing_key: attributes, routing_attributes: [burnwatch.flow], or
// routing_key: resource) and each flow lands on one gateway. Its one
// ScopeMetrics, named aggregateScope, says which agent cut it, the cut's
// sequence number and the slot width; every point is a delta over one
// slot, [start, start+width).
const (
	aggregateScope        = "github.com/burnwatch/burnwatch/agent"
	aggregateScopeVersion = "1"

	attrAgentID    = "burnwatch.agent.id"
	attrAgentSeq   = "burnwatch.agent.seq"
	attrAgentWidth = "burnwatch.agent.slot_width_ns"
	attrSLO        = "slo"
	attrShape      = "burnwatch.slo.shape"
	attrOutcome    = "outcome"

	// metricRequests counts a slot's requests by outcome (ok, error).
	metricRequests = "burnwatch.agent.requests"
	// metricTooLate counts requests older than the agent's allowed
	// lateness by outcome: in the flow's totals, in no window.
	metricTooLate = "burnwatch.agent.requests.too_late"
	// metricDuration is a slot's latencies, an exponential histogram in
	// nanoseconds at the engine's scale; its exemplars are SLOs' bad events
	// (filtered attributes slo and burnwatch.slo.shape).
	metricDuration = "burnwatch.agent.duration"
	// metricSLOEvents counts a slot's events of an event-based SLO by
	// outcome (good, bad) as the agent judged them.
	metricSLOEvents = "burnwatch.agent.slo.events"
	// metricLastEvent is the newest event's time, Unix nanoseconds, for
	// no-data alerts.
	metricLastEvent = "burnwatch.agent.last_event"
)

// encodeAggregates appends aggs to md as agent id's cut seq made at cut.
func encodeAggregates(md pmetric.Metrics, id string, seq uint64, cut time.Time, aggs []slo.Aggregate) {
	now := pcommon.NewTimestampFromTime(cut)
	var buf []uint64
	for i := range aggs {
		ag := &aggs[i]
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr(flows.FlowAttribute, ag.Flow)
		sm := rm.ScopeMetrics().AppendEmpty()
		sm.Scope().SetName(aggregateScope)
		sm.Scope().SetVersion(aggregateScopeVersion)
		sa := sm.Scope().Attributes()
		sa.PutStr(attrAgentID, id)
		sa.PutInt(attrAgentSeq, int64(seq))
		sa.PutInt(attrAgentWidth, ag.Width)
		ms := sm.Metrics()

		sum := func(name, unit string) pmetric.NumberDataPointSlice {
			m := ms.AppendEmpty()
			m.SetName(name)
			m.SetUnit(unit)
			s := m.SetEmptySum()
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			s.SetIsMonotonic(true)
			return s.DataPoints()
		}
		point := func(s pmetric.NumberDataPointSlice, start, end pcommon.Timestamp, v uint64, kv ...string) {
			dp := s.AppendEmpty()
			dp.SetStartTimestamp(start)
			dp.SetTimestamp(end)
			dp.SetIntValue(int64(v))
			for j := 0; j < len(kv); j += 2 {
				dp.Attributes().PutStr(kv[j], kv[j+1])
			}
		}
		if len(ag.Slots) > 0 {
			reqs := sum(metricRequests, "{request}")
			hm := ms.AppendEmpty()
			hm.SetName(metricDuration)
			hm.SetUnit("ns")
			eh := hm.SetEmptyExponentialHistogram()
			eh.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			for _, sl := range ag.Slots {
				start, end := pcommon.Timestamp(sl.Start), pcommon.Timestamp(sl.Start+ag.Width)
				n := sl.Latency.Count()
				point(reqs, start, end, n-sl.Errors, attrOutcome, "ok")
				point(reqs, start, end, sl.Errors, attrOutcome, "error")
				dp := eh.DataPoints().AppendEmpty()
				dp.SetStartTimestamp(start)
				dp.SetTimestamp(end)
				b := sl.Latency.Buckets(buf)
				buf = b.Counts
				dp.SetCount(n)
				dp.SetSum(b.Sum)
				dp.SetScale(b.Scale)
				dp.SetZeroCount(b.ZeroCount)
				dp.Positive().SetOffset(b.Offset)
				dp.Positive().BucketCounts().FromRaw(b.Counts)
			}
			// Exemplars ride on the newest slot's histogram.
			last := eh.DataPoints().At(eh.DataPoints().Len() - 1)
			for _, s := range ag.SLOs {
				for _, ex := range s.Exemplars {
					e := last.Exemplars().AppendEmpty()
					e.SetTimestamp(pcommon.Timestamp(ex.End))
					e.SetIntValue(int64(ex.Duration))
					e.SetTraceID(ex.TraceID)
					e.SetSpanID(ex.SpanID)
					e.FilteredAttributes().PutStr(attrSLO, s.Name)
					e.FilteredAttributes().PutStr(attrShape, shapeString(s.Shape))
				}
			}
		}
		if ag.TooLate.Events > 0 {
			late := sum(metricTooLate, "{request}")
			point(late, now, now, ag.TooLate.Events-ag.TooLate.Errors, attrOutcome, "ok")
			point(late, now, now, ag.TooLate.Errors, attrOutcome, "error")
		}
		var sloEvents pmetric.NumberDataPointSlice
		for _, s := range ag.SLOs {
			for _, c := range s.Counts {
				if sloEvents == (pmetric.NumberDataPointSlice{}) {
					sloEvents = sum(metricSLOEvents, "{event}")
				}
				start, end := pcommon.Timestamp(c.Start), pcommon.Timestamp(c.Start+ag.Width)
				shape := shapeString(s.Shape)
				point(sloEvents, start, end, c.Total-c.Bad, attrSLO, s.Name, attrShape, shape, attrOutcome, "good")
				point(sloEvents, start, end, c.Bad, attrSLO, s.Name, attrShape, shape, attrOutcome, "bad")
			}
		}
		if ag.Last != 0 {
			m := ms.AppendEmpty()
			m.SetName(metricLastEvent)
			m.SetUnit("ns")
			dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
			dp.SetTimestamp(now)
			dp.SetIntValue(ag.Last)
		}
	}
}

func shapeString(s uint64) string { return strconv.FormatUint(s, 16) }

// decodeAggregate reads the aggregate of one agent scope under rm. It
// checks what a gateway must trust: names, widths, the slot grid, and
// request counts that agree with the histograms.
func decodeAggregate(rm pmetric.ResourceMetrics, sm pmetric.ScopeMetrics) (app.AgentAggregate, error) {
	d := aggDecoder{slots: map[int64]*wireSlot{}, slos: map[sloKey]*wireSLO{}}
	out := &d.out
	if v := sm.Scope().Version(); v != aggregateScopeVersion {
		return *out, fmt.Errorf("scope version %q: this gateway reads version %s; run agents and gateways of one release", v, aggregateScopeVersion)
	}
	fv, ok := rm.Resource().Attributes().Get(flows.FlowAttribute)
	if !ok || fv.Type() != pcommon.ValueTypeStr || fv.Str() == "" {
		return *out, errors.New("resource: no " + flows.FlowAttribute + " string")
	}
	out.Flow = fv.Str()
	sa := sm.Scope().Attributes()
	id, ok := sa.Get(attrAgentID)
	seq, ok2 := sa.Get(attrAgentSeq)
	width, ok3 := sa.Get(attrAgentWidth)
	if !ok || !ok2 || !ok3 || id.Type() != pcommon.ValueTypeStr || seq.Type() != pcommon.ValueTypeInt || width.Type() != pcommon.ValueTypeInt {
		return *out, fmt.Errorf("flow %q: scope attributes %s (string), %s and %s (ints) are required", out.Flow, attrAgentID, attrAgentSeq, attrAgentWidth)
	}
	out.Agent, out.Seq, out.Width = id.Str(), uint64(seq.Int()), width.Int()
	if out.Width <= 0 {
		return *out, fmt.Errorf("flow %q: %s %d is not positive", out.Flow, attrAgentWidth, out.Width)
	}
	ms := sm.Metrics()
	for i := 0; i < ms.Len(); i++ {
		if err := d.metric(ms.At(i)); err != nil {
			return *out, fmt.Errorf("flow %q: %s: %w", out.Flow, ms.At(i).Name(), err)
		}
	}
	for start, s := range d.slots {
		if s.h == nil {
			s.h = new(sketch.Histogram)
		}
		if s.h.Count() != s.ok+s.errs {
			return *out, fmt.Errorf("flow %q: slot %d: %d requests but %d latencies", out.Flow, start, s.ok+s.errs, s.h.Count())
		}
		out.Slots = append(out.Slots, slo.AggregateSlot{Start: start, Errors: s.errs, Latency: s.h})
	}
	slices.SortFunc(out.Slots, func(a, b slo.AggregateSlot) int { return cmp.Compare(a.Start, b.Start) })
	for _, k := range d.order {
		s := d.slos[k]
		for start, c := range s.counts {
			// Every request of a slot is judged by every event-based SLO.
			if w := d.slots[start]; w == nil || w.ok+w.errs != c.Total {
				return *out, fmt.Errorf("flow %q: slo %q: %d verdicts for slot %d, which has other requests", out.Flow, k.name, c.Total, start)
			}
			s.s.Counts = append(s.s.Counts, *c)
		}
		slices.SortFunc(s.s.Counts, func(a, b slo.SlotCounts) int { return cmp.Compare(a.Start, b.Start) })
		slices.SortFunc(s.s.Exemplars, func(a, b slo.Exemplar) int { return cmp.Compare(b.End, a.End) })
		out.SLOs = append(out.SLOs, s.s)
	}
	return *out, out.Check()
}

// aggDecoder gathers one scope's points by slot and by SLO.
type aggDecoder struct {
	out   app.AgentAggregate
	slots map[int64]*wireSlot
	slos  map[sloKey]*wireSLO
	order []sloKey
}

type wireSlot struct {
	ok, errs uint64
	h        *sketch.Histogram
}

type sloKey struct{ name, shape string }

type wireSLO struct {
	s      slo.AggregateSLO
	counts map[int64]*slo.SlotCounts
}

// slot returns the slot of a point over [start, end).
func (d *aggDecoder) slot(start, end pcommon.Timestamp) (int64, *wireSlot, error) {
	s := int64(start)
	if s < 0 || int64(end)-s != d.out.Width {
		return 0, nil, fmt.Errorf("point [%d, %d) is not one slot of %d ns", start, end, d.out.Width)
	}
	if d.slots[s] == nil {
		d.slots[s] = &wireSlot{}
	}
	return s, d.slots[s], nil
}

// slo returns the SLO that attrs name.
func (d *aggDecoder) slo(attrs pcommon.Map) (*wireSLO, error) {
	name, ok := attrs.Get(attrSLO)
	shape, ok2 := attrs.Get(attrShape)
	if !ok || !ok2 {
		return nil, fmt.Errorf("%s and %s attributes are required", attrSLO, attrShape)
	}
	k := sloKey{name.AsString(), shape.AsString()}
	if s := d.slos[k]; s != nil {
		return s, nil
	}
	v, err := strconv.ParseUint(k.shape, 16, 64)
	if err != nil {
		return nil, fmt.Errorf("slo %q: %s %q is not hexadecimal", k.name, attrShape, k.shape)
	}
	s := &wireSLO{s: slo.AggregateSLO{Name: k.name, Shape: v}, counts: map[int64]*slo.SlotCounts{}}
	d.slos[k], d.order = s, append(d.order, k)
	return s, nil
}

func (d *aggDecoder) metric(m pmetric.Metric) error {
	switch m.Name() {
	case metricRequests, metricTooLate, metricSLOEvents:
		if m.Type() != pmetric.MetricTypeSum || m.Sum().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
			return errors.New("must be a delta sum")
		}
		dps := m.Sum().DataPoints()
		for j := 0; j < dps.Len(); j++ {
			if err := d.count(m.Name(), dps.At(j)); err != nil {
				return err
			}
		}
	case metricDuration:
		if m.Type() != pmetric.MetricTypeExponentialHistogram || m.ExponentialHistogram().AggregationTemporality() != pmetric.AggregationTemporalityDelta {
			return errors.New("must be a delta exponential histogram")
		}
		dps := m.ExponentialHistogram().DataPoints()
		for j := 0; j < dps.Len(); j++ {
			if err := d.histogram(dps.At(j)); err != nil {
				return err
			}
		}
	case metricLastEvent:
		if m.Type() != pmetric.MetricTypeGauge || m.Gauge().DataPoints().Len() != 1 {
			return errors.New("must be a gauge of one point")
		}
		d.out.Last = m.Gauge().DataPoints().At(0).IntValue()
	}
	return nil
}

func (d *aggDecoder) count(name string, dp pmetric.NumberDataPoint) error {
	if dp.ValueType() != pmetric.NumberDataPointValueTypeInt || dp.IntValue() < 0 {
		return errors.New("values must be non-negative integers")
	}
	v := uint64(dp.IntValue())
	outcome, _ := dp.Attributes().Get(attrOutcome)
	switch name {
	case metricTooLate:
		d.out.TooLate.Events += v
		if outcome.AsString() == "error" {
			d.out.TooLate.Errors += v
		}
	case metricRequests:
		_, s, err := d.slot(dp.StartTimestamp(), dp.Timestamp())
		if err != nil {
			return err
		}
		if outcome.AsString() == "error" {
			s.errs += v
		} else {
			s.ok += v
		}
	case metricSLOEvents:
		s, err := d.slo(dp.Attributes())
		if err != nil {
			return err
		}
		start, _, err := d.slot(dp.StartTimestamp(), dp.Timestamp())
		if err != nil {
			return err
		}
		c := s.counts[start]
		if c == nil {
			c = &slo.SlotCounts{Start: start}
			s.counts[start] = c
		}
		c.Total += v
		if outcome.AsString() == "bad" {
			c.Bad += v
		}
	}
	return nil
}

func (d *aggDecoder) histogram(dp pmetric.ExponentialHistogramDataPoint) error {
	_, s, err := d.slot(dp.StartTimestamp(), dp.Timestamp())
	if err != nil {
		return err
	}
	if dp.Negative().BucketCounts().Len() > 0 {
		for _, n := range dp.Negative().BucketCounts().AsRaw() {
			if n != 0 {
				return errors.New("latencies are never negative")
			}
		}
	}
	if s.h == nil {
		s.h = new(sketch.Histogram)
	}
	sum := dp.Sum()
	if math.IsNaN(sum) {
		sum = 0
	}
	if err := s.h.AddBuckets(sketch.Buckets{Scale: dp.Scale(), ZeroCount: dp.ZeroCount(), Offset: dp.Positive().Offset(),
		Counts: dp.Positive().BucketCounts().AsRaw(), Sum: sum}); err != nil {
		return err
	}
	exs := dp.Exemplars()
	for j := 0; j < exs.Len(); j++ {
		e := exs.At(j)
		ws, err := d.slo(e.FilteredAttributes())
		if err != nil {
			return fmt.Errorf("exemplar: %w", err)
		}
		ws.s.Exemplars = append(ws.s.Exemplars, slo.Exemplar{TraceID: e.TraceID(), SpanID: e.SpanID(),
			End: int64(e.Timestamp()), Duration: time.Duration(e.IntValue())})
	}
	return nil
}
