package sloconnector

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
)

// metricsConnector hands OTLP metrics to the App's metric SLI runtime
// (metric and PromQL indicators). It ends the metrics pipeline it is an
// exporter of: what it consumes is not passed on, so the pipeline that
// receives from the slo connector carries only the SLI metrics of the
// traces path.
type metricsConnector struct {
	cfg *Config
	app *app.App // set by Start
}

func (c *metricsConnector) Capabilities() consumer.Capabilities {
	return consumer.Capabilities{MutatesData: false}
}

// Start finds the App.
func (c *metricsConnector) Start(_ context.Context, host component.Host) error {
	a, err := burnwatchextension.FindApp(host, c.cfg.Extension)
	if err != nil {
		return err
	}
	c.app = a
	return nil
}

func (c *metricsConnector) Shutdown(context.Context) error { return nil }

// pointBufs reuse the storage of a batch's points, and of their
// attributes and buckets, which the points borrow.
type pointBuf struct {
	pts    []metricsli.Point
	attrs  []metricsli.Attr
	floats []float64
	uints  []uint64
}

var pointBufs = sync.Pool{New: func() any { return new(pointBuf) }}

// ConsumeMetrics turns the data points of counting metrics into
// metricsli.Points for the App. An error from the App (storage cannot
// keep the batch) goes back to the sender, who retries.
func (c *metricsConnector) ConsumeMetrics(_ context.Context, md pmetric.Metrics) error {
	b := pointBufs.Get().(*pointBuf)
	b.pts, b.attrs, b.floats, b.uints = b.pts[:0], b.attrs[:0], b.floats[:0], b.uints[:0]
	var agg gatewayBatch
	rms := md.ResourceMetrics()
	for i := 0; i < rms.Len(); i++ {
		rm := rms.At(i)
		res := b.attributes(rm.Resource().Attributes())
		sms := rm.ScopeMetrics()
		for j := 0; j < sms.Len(); j++ {
			sm := sms.At(j)
			if isAggregateScope(sm) {
				// Agents' pre-aggregated flows: not metric SLIs; the
				// gateway merges them (gateway.go).
				agg.add(rm, sm)
				continue
			}
			scope := sm.Scope().Name() + "@" + sm.Scope().Version()
			ms := sm.Metrics()
			for k := 0; k < ms.Len(); k++ {
				b.metric(ms.At(k), res, scope)
			}
		}
	}
	var err error
	if len(b.pts) > 0 {
		err = c.app.ObserveMetrics(b.pts)
	}
	clear(b.pts) // drop references to the request
	clear(b.attrs)
	pointBufs.Put(b)
	// A retryable error wins: aggregates sent again are merged once.
	if aerr := agg.merge(c.app); err == nil {
		err = aerr
	}
	return err
}

// metric appends the points of one metric.
func (b *pointBuf) metric(m pmetric.Metric, res []metricsli.Attr, scope string) {
	base := metricsli.Point{Metric: m.Name(), Unit: m.Unit(), Resource: res, Scope: scope}
	switch m.Type() {
	case pmetric.MetricTypeSum:
		s := m.Sum()
		base.Type = metricsli.NonMonotonicSum
		if s.IsMonotonic() {
			base.Type = metricsli.MonotonicSum
		}
		base.Temporality = temporality(s.AggregationTemporality())
		dps := s.DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.Flags().NoRecordedValue() {
				continue // a staleness marker: no value
			}
			p := base
			b.common(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
			switch dp.ValueType() {
			case pmetric.NumberDataPointValueTypeInt:
				p.Value = float64(dp.IntValue())
			case pmetric.NumberDataPointValueTypeDouble:
				p.Value = dp.DoubleValue()
			}
			b.pts = append(b.pts, p)
		}
	case pmetric.MetricTypeHistogram:
		h := m.Histogram()
		base.Type = metricsli.Histogram
		base.Temporality = temporality(h.AggregationTemporality())
		dps := h.DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.Flags().NoRecordedValue() {
				continue
			}
			p := base
			b.common(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
			p.Count = dp.Count()
			p.Bounds = b.floatSlice(dp.ExplicitBounds())
			p.Buckets = b.uintSlice(dp.BucketCounts())
			b.pts = append(b.pts, p)
		}
	case pmetric.MetricTypeExponentialHistogram:
		h := m.ExponentialHistogram()
		base.Type = metricsli.ExponentialHistogram
		base.Temporality = temporality(h.AggregationTemporality())
		dps := h.DataPoints()
		for i := 0; i < dps.Len(); i++ {
			dp := dps.At(i)
			if dp.Flags().NoRecordedValue() {
				continue
			}
			p := base
			b.common(&p, dp.Attributes(), dp.StartTimestamp(), dp.Timestamp())
			p.Count, p.Scale, p.ZeroCount, p.ZeroThreshold = dp.Count(), dp.Scale(), dp.ZeroCount(), dp.ZeroThreshold()
			p.Offset = dp.Positive().Offset()
			p.Positive = b.uintSlice(dp.Positive().BucketCounts())
			neg := dp.Negative().BucketCounts()
			for j := 0; j < neg.Len(); j++ {
				p.Negative += neg.At(j)
			}
			b.pts = append(b.pts, p)
		}
	case pmetric.MetricTypeGauge, pmetric.MetricTypeSummary:
		// They count no events; a point of each lets an indicator that
		// names one say so.
		base.Type = metricsli.Gauge
		n := 0
		if m.Type() == pmetric.MetricTypeGauge {
			n = m.Gauge().DataPoints().Len()
		} else {
			base.Type = metricsli.Summary
			n = m.Summary().DataPoints().Len()
		}
		if n > 0 {
			b.pts = append(b.pts, base)
		}
	}
}

func temporality(t pmetric.AggregationTemporality) metricsli.Temporality {
	switch t {
	case pmetric.AggregationTemporalityDelta:
		return metricsli.Delta
	case pmetric.AggregationTemporalityCumulative:
		return metricsli.Cumulative
	}
	return 0
}

func (b *pointBuf) common(p *metricsli.Point, attrs pcommon.Map, start, ts pcommon.Timestamp) {
	p.Attrs = b.attributes(attrs)
	p.Start, p.Time = int64(start), int64(ts)
}

// attributes copies a map's scalar values out of pdata (strings are
// borrowed), into storage shared by the batch.
func (b *pointBuf) attributes(m pcommon.Map) []metricsli.Attr {
	start := len(b.attrs)
	m.Range(func(k string, v pcommon.Value) bool {
		var fv flows.Value
		switch v.Type() {
		case pcommon.ValueTypeStr:
			fv = flows.StrValue(v.Str())
		case pcommon.ValueTypeInt:
			fv = flows.IntValue(v.Int())
		case pcommon.ValueTypeDouble:
			fv = flows.DoubleValue(v.Double())
		case pcommon.ValueTypeBool:
			fv = flows.BoolValue(v.Bool())
		default:
			fv = flows.Value{Kind: flows.ValueOther}
		}
		b.attrs = append(b.attrs, metricsli.Attr{Key: k, Value: fv})
		return true
	})
	// A full slice expression, so that a later append cannot write into
	// another point's attributes.
	return b.attrs[start:len(b.attrs):len(b.attrs)]
}

func (b *pointBuf) floatSlice(s pcommon.Float64Slice) []float64 {
	start := len(b.floats)
	for i := 0; i < s.Len(); i++ {
		b.floats = append(b.floats, s.At(i))
	}
	return b.floats[start:len(b.floats):len(b.floats)]
}

func (b *pointBuf) uintSlice(s pcommon.UInt64Slice) []uint64 {
	start := len(b.uints)
	for i := 0; i < s.Len(); i++ {
		b.uints = append(b.uints, s.At(i))
	}
	return b.uints[start:len(b.uints):len(b.uints)]
}
