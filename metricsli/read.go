package metricsli

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// How a Source reads a data point: a number of events, possibly
// fractional (a double counter's increase, or an interpolated share of a
// bucket). The runtime adds them up per SLO and hands whole events on.

// Reasons a data point is not counted, as self-metrics label them and
// Problems name them.
const (
	// ReasonMalformed: the point breaks the OTLP data model (bucket counts
	// that do not add up to its count, bounds not increasing, no time).
	ReasonMalformed = "malformed"
	// ReasonUnsupportedType: a Source names the metric but it is a gauge,
	// a non-monotonic sum or a summary, which count no events.
	ReasonUnsupportedType = "unsupported_type"
	// ReasonBetweenBounds: a latency threshold or an le is not a bound of
	// the explicit-bucket histogram (and interpolation is off).
	ReasonBetweenBounds = "between_bounds"
	// ReasonNoBuckets: a bucket or threshold Source reads a histogram
	// that sends no buckets.
	ReasonNoBuckets = "no_buckets"
	// ReasonUnit: a latency threshold reads a histogram whose unit is not
	// a time unit.
	ReasonUnit = "unit_not_time"
	// ReasonOutOfOrder: a cumulative point no newer than the last one of
	// its stream (a retried or reordered export).
	ReasonOutOfOrder = "out_of_order"
	// ReasonStreamOverflow: a new cumulative stream while MaxStreams are
	// tracked.
	ReasonStreamOverflow = "stream_overflow"
	// ReasonBucketsChanged: a cumulative histogram's bounds or zero
	// threshold changed without a reset; the point is a new baseline.
	ReasonBucketsChanged = "buckets_changed"
)

// readError is a Source that cannot read a point, with the reason it is
// counted under.
type readError struct {
	reason string
	msg    string
}

func (e *readError) Error() string { return e.msg }

func readErr(reason, format string, args ...any) *readError {
	return &readError{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// read gives the events of a (delta) point that the Source counts.
func (s *Source) read(p *Point) (float64, *readError) {
	switch s.Kind {
	case Counter, Sum, HistogramCount:
		if p.Type == MonotonicSum {
			return p.Value, nil
		}
		return float64(p.Count), nil
	case HistogramBucket:
		if math.IsInf(s.LE, 1) {
			return float64(p.Count), nil
		}
		if p.Type == ExponentialHistogram {
			return expAtMost(p, s.LE, false), nil
		}
		return s.explicitAtMost(p, s.LE, false)
	case HistogramThreshold:
		t, err := s.thresholdIn(p.Metric, p.Unit)
		if err != nil {
			return 0, err
		}
		if p.Type == ExponentialHistogram {
			return expAtMost(p, t, s.Interpolate), nil
		}
		return s.explicitAtMost(p, t, s.Interpolate)
	}
	return 0, readErr(ReasonUnsupportedType, "source kind %s", s.Kind)
}

// unitNanos are the nanoseconds of the UCUM time units.
var unitNanos = map[string]int64{
	"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9, "min": 60e9, "h": 3600e9, "d": 86400e9,
}

// thresholdIn is the Source's threshold in unit.
func (s *Source) thresholdIn(metric, unit string) (float64, *readError) {
	n, ok := unitNanos[unit]
	if !ok {
		return 0, readErr(ReasonUnit, "%s has unit %q, not a time unit: a latency threshold (%v) needs a histogram in s, ms, us or ns",
			metric, unit, s.Threshold)
	}
	// Whole nanoseconds over whole nanoseconds: 300ms is exactly 300 in
	// ms and the float nearest 0.3 in s, as a bound written 0.3 is.
	return float64(s.Threshold.Nanoseconds()) / float64(n), nil
}

// sameBound says two bounds are one: a bound written 0.3 and a
// threshold of 300ms in seconds may differ in their last bit.
func sameBound(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// explicitAtMost counts a point's observations at most x from its
// explicit buckets: x must be a bound, unless interpolate allows a share
// of the bucket it falls in, observations spread evenly between the
// bucket's bounds (from 0 for the lowest bucket: a latency is never
// negative).
func (s *Source) explicitAtMost(p *Point, x float64, interpolate bool) (float64, *readError) {
	if len(p.Bounds) == 0 {
		return 0, readErr(ReasonNoBuckets, "%s sends no buckets: %s needs bucket bounds", p.Metric, s.what(x))
	}
	var below uint64
	for i, b := range p.Bounds {
		if sameBound(b, x) {
			return float64(below + p.Buckets[i]), nil
		}
		if b > x {
			if !interpolate {
				return 0, s.notABound(p, i, x)
			}
			lo := 0.0
			if i > 0 {
				lo = p.Bounds[i-1]
			}
			if x <= lo {
				return float64(below), nil
			}
			return float64(below) + float64(p.Buckets[i])*(x-lo)/(b-lo), nil
		}
		below += p.Buckets[i]
	}
	return 0, s.notABound(p, len(p.Bounds), x)
}

// what names what the Source reads at x, for messages.
func (s *Source) what(x float64) string {
	if s.Kind == HistogramThreshold {
		return fmt.Sprintf("the latency threshold %v", s.Threshold)
	}
	return fmt.Sprintf("le=%q", formatBound(x))
}

// notABound is the error of x falling in bucket i, naming its bounds.
func (s *Source) notABound(p *Point, i int, x float64) *readError {
	unit := ""
	if p.Unit != "" && p.Unit != "1" {
		unit = " " + p.Unit
	}
	var where string
	switch {
	case i == 0:
		where = fmt.Sprintf("below the lowest bound %s%s", formatBound(p.Bounds[0]), unit)
	case i == len(p.Bounds):
		// Nothing splits the bucket above the highest bound, not even
		// interpolation.
		return readErr(ReasonBetweenBounds, "%s (%s%s) of %s is above its highest bucket bound %s: use a bound (%s), or add bounds",
			s.what(x), formatBound(x), unit, p.Metric, formatBound(p.Bounds[i-1]), boundsList(p.Bounds))
	default:
		where = fmt.Sprintf("between the bounds %s and %s%s", formatBound(p.Bounds[i-1]), formatBound(p.Bounds[i]), unit)
	}
	fix := "use one of them"
	if s.Kind == HistogramThreshold {
		fix += ", or set interpolate: true"
	}
	return readErr(ReasonBetweenBounds, "%s (%s%s) of %s is %s: %s", s.what(x), formatBound(x), unit, p.Metric, where, fix)
}

func formatBound(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// boundsList shortens a long list of bounds for a message.
func boundsList(bs []float64) string {
	if len(bs) <= 8 {
		parts := ""
		for i, b := range bs {
			if i > 0 {
				parts += ", "
			}
			parts += formatBound(b)
		}
		return parts
	}
	return fmt.Sprintf("%s … %s", formatBound(bs[0]), formatBound(bs[len(bs)-1]))
}

// expAtMost counts an exponential histogram's observations at most x.
//
// An exponential histogram's bounds are powers of its base, so a threshold
// almost always falls inside a bucket. Without interpolation the threshold
// is read at the bucket boundary nearest to it (in log scale): the
// observations of the buckets below that boundary count, those above do
// not, an error of at most half a bucket, a factor 2^(2^-scale/2): 1.1% at
// scale 5, 2.2% at scale 4 (where the OTel SDKs' 160 buckets put a
// latency range of 1 ms to 1 s). With interpolation, the bucket holding x
// counts in proportion to where x falls in it. Zero and negative values
// are always at most x.
func expAtMost(p *Point, x float64, interpolate bool) float64 {
	n := p.ZeroCount + p.Negative
	if x <= p.ZeroThreshold || len(p.Positive) == 0 {
		return float64(n)
	}
	// The boundary index of x: base^j = x, j = log2(x)·2^scale.
	j := math.Log2(x) * math.Ldexp(1, int(p.Scale))
	cut := math.Round(j)
	if interpolate {
		cut = math.Ceil(j) - 1 // the bucket (base^cut, base^(cut+1)] holds x
	}
	full := int(cut) - int(p.Offset) // buckets below the boundary
	switch {
	case cut-float64(p.Offset) > float64(len(p.Positive)):
		full = len(p.Positive)
	case full < 0:
		full = 0
	}
	for _, c := range p.Positive[:full] {
		n += c
	}
	if !interpolate || full >= len(p.Positive) || int(cut) < int(p.Offset) {
		return float64(n)
	}
	width := math.Ldexp(1, -int(p.Scale)) // of a bucket, in log2
	lo, hi := math.Exp2(cut*width), math.Exp2((cut+1)*width)
	return float64(n) + float64(p.Positive[full])*(x-lo)/(hi-lo)
}

// errNoThreshold is returned for a threshold Source without a threshold.
var errNoThreshold = errors.New("a latency source needs a positive threshold")

// checkSource reports what makes a Source unusable by the runtime
// whatever data comes.
func checkSource(s *Source) error {
	if s.Kind == HistogramThreshold && s.Threshold <= 0 {
		return errNoThreshold
	}
	if s.Kind == HistogramBucket && math.IsNaN(s.LE) {
		return fmt.Errorf("le is not a number")
	}
	return nil
}
