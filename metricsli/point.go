package metricsli

import (
	"errors"
	"fmt"
	"math"

	"github.com/burnwatch/burnwatch/flows"
)

// Temporality says what a sum's or a histogram's values count: the events
// since the previous point (Delta) or since the stream's start
// (Cumulative).
type Temporality uint8

const (
	Delta Temporality = iota + 1
	Cumulative
)

func (t Temporality) String() string {
	switch t {
	case Delta:
		return "delta"
	case Cumulative:
		return "cumulative"
	}
	return "unspecified"
}

// Attr is one attribute of a data point or of its resource.
type Attr struct {
	Key   string
	Value flows.Value
}

// Point is one OTLP data point as the runtime reads it: no pdata, so any
// producer (the collector exporter, a decoder of OTLP bytes, a test) can
// hand it over. Only the fields of its Type are read.
//
// A Point may borrow its slices and strings from the request it was
// decoded from: the runtime copies what it keeps.
type Point struct {
	// Metric and Unit are the OTLP metric's name and unit (UCUM, e.g. s).
	Metric, Unit string
	// Type is the metric's type. Gauges, non-monotonic sums and summaries
	// count no events; a metric of such a type that a Source names is
	// reported on the SLO, any other is ignored.
	Type        MetricType
	Temporality Temporality
	// Resource and Attrs are the resource's and the data point's
	// attributes. Points of one resource may share its slice.
	Resource []Attr
	Attrs    []Attr
	// Scope names the instrumentation scope (name and version): streams
	// of two scopes are two streams.
	Scope string
	// Start and Time are the point's start and end times, in Unix
	// nanoseconds; Start 0 means unknown.
	Start, Time int64

	// Value is a monotonic sum's value.
	Value float64

	// Count is a histogram's number of observations.
	Count uint64
	// Bounds are an explicit-bucket histogram's upper bounds, increasing;
	// Buckets its len(Bounds)+1 bucket counts (the last above every
	// bound). A histogram without buckets has a Count only.
	Bounds  []float64
	Buckets []uint64

	// Scale, Offset and Positive are an exponential histogram's positive
	// buckets: Positive[i] counts the values in (base^(Offset+i),
	// base^(Offset+i+1)], base = 2^(2^-Scale). ZeroCount counts the values
	// of magnitude at most ZeroThreshold, Negative all negative values
	// (at most any threshold of a latency).
	Scale         int32
	Offset        int32
	Positive      []uint64
	ZeroCount     uint64
	ZeroThreshold float64
	Negative      uint64
}

// errMalformed marks a point that breaks the OTLP data model.
var errMalformed = errors.New("malformed")

// check reports what makes a point of a counting type unusable.
func (p *Point) check() error {
	if p.Time <= 0 {
		return fmt.Errorf("%w: no time", errMalformed)
	}
	if p.Temporality != Delta && p.Temporality != Cumulative {
		return fmt.Errorf("%w: temporality unspecified", errMalformed)
	}
	switch p.Type {
	case MonotonicSum:
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value < 0 {
			return fmt.Errorf("%w: monotonic sum value %v", errMalformed, p.Value)
		}
	case Histogram:
		if len(p.Buckets) == 0 && len(p.Bounds) == 0 {
			return nil
		}
		if len(p.Buckets) != len(p.Bounds)+1 {
			return fmt.Errorf("%w: %d bucket counts for %d bounds (want %d)", errMalformed, len(p.Buckets), len(p.Bounds), len(p.Bounds)+1)
		}
		for i, b := range p.Bounds {
			if math.IsNaN(b) || math.IsInf(b, 0) || i > 0 && b <= p.Bounds[i-1] {
				return fmt.Errorf("%w: bounds not finite and increasing at %d", errMalformed, i)
			}
		}
		var n uint64
		for _, c := range p.Buckets {
			n += c
		}
		if n != p.Count {
			return fmt.Errorf("%w: count %d but buckets hold %d", errMalformed, p.Count, n)
		}
	case ExponentialHistogram:
		if p.Scale < -10 || p.Scale > 20 {
			return fmt.Errorf("%w: exponential scale %d outside [-10, 20]", errMalformed, p.Scale)
		}
		n := p.ZeroCount + p.Negative
		for _, c := range p.Positive {
			n += c
		}
		if n != p.Count {
			return fmt.Errorf("%w: count %d but buckets hold %d", errMalformed, p.Count, n)
		}
	}
	return nil
}

// counting reports whether points of the type count events.
func (t MetricType) counting() bool { return t == MonotonicSum || t.histogram() }

func (t MetricType) String() string {
	switch t {
	case Gauge:
		return "gauge"
	case MonotonicSum:
		return "monotonic sum"
	case NonMonotonicSum:
		return "non-monotonic sum"
	case Histogram:
		return "histogram"
	case ExponentialHistogram:
		return "exponential histogram"
	case Summary:
		return "summary"
	}
	return "unknown type"
}
