package metricsli

import (
	"math"
	"slices"
)

// A cumulative stream's points carry totals since the stream's start; the
// engine wants what happened between two points. streams keeps each
// cumulative stream's last point and turns the next one into a delta
// point:
//
//   - The first point of a stream is a baseline and counts nothing, unless
//     its whole value happened while Burnwatch was listening: the stream
//     started after the runtime began (its start time is known, at or
//     after Runtime's Began and after every stream forgotten so far), or
//     it is new in the export of a producer (the metric's streams of one
//     resource and scope) that an earlier export showed without it, with
//     the same start time. An SDK's cumulative export holds every stream
//     it has, so a stream that was not in the last one began since: the
//     first errors of a service running before Burnwatch, whose error
//     series appears only with them, count. A service that starts after
//     Burnwatch loses nothing; one that was running before loses the
//     increase up to the first point of each stream it already had, and
//     so does a Runtime after a restart of Burnwatch unless it was given
//     the State of the one before (state.go).
//   - A point whose start time differs from the stream's, or whose value,
//     count or any bucket dropped, is a reset: the process behind the
//     stream restarted, and its whole value is new (Prometheus's rule).
//   - A point no newer than the last one is out of order (a retried
//     export) and counts nothing.
//   - A histogram whose bounds or zero threshold changed without a reset
//     is a new baseline; an exponential histogram whose scale went down
//     (SDKs rescale as the range of values grows) is compared at the lower
//     scale.
//
// Delta streams need no state: their points are deltas already.
type streams struct {
	m map[string]*stream
	// producers are the streams' producers, by the prefix of a stream's
	// key up to its point attributes.
	producers map[string]*producer
	// max bounds len(m); past it a new stream is refused (ReasonStreamOverflow).
	max int
	// staleAfter: a stream whose newest point is older than that, by the
	// newest point time seen, is forgotten at the next sweep.
	staleAfter int64
	newest     int64
	now        int64 // of the batch: newest never passes it
	nextSweep  int64
	// forgotten is the newest point time of any stream forgotten or
	// refused: a stream seen again may have counted before, so only
	// streams that started after it count from zero.
	forgotten int64
	began     int64

	// scratch for exponential histogram deltas.
	cur, prev, diff []uint64
}

// producer is the streams of one metric, scope and resource: start is
// their start time, last the time of their newest export and prev of the
// one before (noExport before it had two). lossy says
// a stream of it was forgotten or refused, so that a stream new to it may
// have been counted before, or missed: its streams' first points are
// baselines from then on.
type producer struct {
	start, last, prev int64
	lossy             bool
}

const noExport = math.MinInt64

// stream is a copy of a cumulative stream's last point.
type stream struct {
	producer       *producer
	start, time    int64
	value          float64
	count          uint64
	bounds         []float64
	buckets        []uint64
	scale, offset  int32
	positive       []uint64
	zeroCount, neg uint64
	zeroThreshold  float64
}

func newStreams(max int, staleAfter, began int64) *streams {
	return &streams{m: make(map[string]*stream), producers: make(map[string]*producer), max: max, staleAfter: staleAfter,
		began: began, forgotten: math.MinInt64}
}

// outcome of turning a cumulative point into a delta.
type outcome uint8

const (
	counted  outcome = iota // *out is the delta
	baseline                // first point, or new bucket layout: nothing to count
	refused                 // a reason says why
)

// delta turns cumulative point p of stream key into *out; key[:plen] is
// its producer's key. Its slices may point into scratch space reused by
// the next call.
func (s *streams) delta(key []byte, plen int, p *Point, out *Point) (outcome, string) {
	// Staleness goes by point times, but not by a clock far ahead.
	s.newest = max(s.newest, min(p.Time, s.now))
	pr := s.producer(key[:plen], p)
	st := s.m[string(key)]
	if st == nil {
		if len(s.m) >= s.max {
			s.maybeSweep()
			if len(s.m) >= s.max {
				s.forgotten = max(s.forgotten, p.Time)
				if pr != nil {
					pr.lossy = true
				}
				return refused, ReasonStreamOverflow
			}
		}
		// An earlier export of the producer, of this start, without it.
		newToProducer := pr != nil && !pr.lossy && p.Start != 0 && pr.start == p.Start && pr.prev != noExport && pr.prev < p.Time
		st = &stream{producer: pr}
		s.m[string(key)] = st
		st.store(p)
		if p.Start > 0 && p.Start >= s.began && p.Start > s.forgotten || newToProducer {
			*out = *p
			return counted, ""
		}
		return baseline, ""
	}
	switch {
	case p.Start != 0 && st.start != 0 && p.Start < st.start:
		// A point of the stream's previous life, arriving late.
		return refused, ReasonOutOfOrder
	case p.Start != 0 && st.start != 0 && p.Start > st.start:
		st.store(p)
		*out = *p
		return counted, ""
	case p.Time <= st.time:
		return refused, ReasonOutOfOrder
	}
	o := s.subtract(st, p, out)
	switch o {
	case counted:
	case refused: // a drop: a reset without a new start time
		*out = *p
		o = counted
	}
	st.store(p)
	if o == baseline {
		return baseline, ReasonBucketsChanged
	}
	return counted, ""
}

// subtract writes p minus the stream's last point into out: refused means
// something dropped (a reset), baseline that the buckets changed.
func (s *streams) subtract(st *stream, p *Point, out *Point) outcome {
	*out = *p
	switch p.Type {
	case MonotonicSum:
		if p.Value < st.value {
			return refused
		}
		out.Value = p.Value - st.value
		return counted
	case Histogram:
		if p.Count < st.count {
			return refused
		}
		out.Count = p.Count - st.count
		if len(p.Bounds) == 0 && len(st.bounds) == 0 {
			return counted
		}
		if !slices.Equal(p.Bounds, st.bounds) {
			return baseline
		}
		s.diff = s.diff[:0]
		for i, c := range p.Buckets {
			if c < st.buckets[i] {
				return refused
			}
			s.diff = append(s.diff, c-st.buckets[i])
		}
		out.Buckets = s.diff
		return counted
	case ExponentialHistogram:
		if p.Count < st.count || p.ZeroCount < st.zeroCount || p.Negative < st.neg {
			return refused
		}
		if p.ZeroThreshold != st.zeroThreshold {
			return baseline
		}
		out.Count, out.ZeroCount, out.Negative = p.Count-st.count, p.ZeroCount-st.zeroCount, p.Negative-st.neg
		scale := min(p.Scale, st.scale)
		curOff, cur := p.Offset, p.Positive
		if p.Scale != scale {
			curOff, s.cur = downscale(p.Offset, p.Positive, p.Scale-scale, s.cur[:0])
			cur = s.cur
		}
		prevOff, prev := st.offset, st.positive
		if st.scale != scale {
			prevOff, s.prev = downscale(st.offset, st.positive, st.scale-scale, s.prev[:0])
			prev = s.prev
		}
		// The delta covers the union of both ranges.
		lo, hi := curOff, curOff+int32(len(cur))
		if len(prev) > 0 {
			if len(cur) == 0 {
				lo, hi = prevOff, prevOff+int32(len(prev))
			} else {
				lo, hi = min(lo, prevOff), max(hi, prevOff+int32(len(prev)))
			}
		}
		s.diff = s.diff[:0]
		for i := lo; i < hi; i++ {
			var c, q uint64
			if j := i - curOff; j >= 0 && int(j) < len(cur) {
				c = cur[j]
			}
			if j := i - prevOff; j >= 0 && int(j) < len(prev) {
				q = prev[j]
			}
			if c < q {
				return refused
			}
			s.diff = append(s.diff, c-q)
		}
		out.Scale, out.Offset, out.Positive = scale, lo, s.diff
		return counted
	}
	return refused
}

// downscale merges exponential buckets from offset into the buckets of a
// scale shift lower (each new bucket holds 2^shift old ones), appending to
// dst.
func downscale(offset int32, counts []uint64, shift int32, dst []uint64) (int32, []uint64) {
	if shift == 0 || len(counts) == 0 {
		return offset, append(dst, counts...)
	}
	newOff := offset >> shift // arithmetic shift: floor for negative indexes
	for i, c := range counts {
		j := int((offset+int32(i))>>shift - newOff)
		for len(dst) <= j {
			dst = append(dst, 0)
		}
		dst[j] += c
	}
	return newOff, dst
}

// producer returns the producer of key, tracking it from its first point
// (nil past the cap). A new start time is the producer's restart.
func (s *streams) producer(key []byte, p *Point) *producer {
	pr := s.producers[string(key)]
	if pr == nil {
		if len(s.producers) >= s.max {
			return nil
		}
		pr = &producer{start: p.Start, last: p.Time, prev: noExport}
		s.producers[string(key)] = pr
		return pr
	}
	if p.Start > pr.start {
		pr.start = p.Start
	}
	if p.Time > pr.last {
		pr.prev, pr.last = pr.last, p.Time
	}
	return pr
}

// store copies what the next delta needs from p, reusing st's storage.
func (st *stream) store(p *Point) {
	st.start, st.time, st.value, st.count = p.Start, p.Time, p.Value, p.Count
	st.bounds = append(st.bounds[:0], p.Bounds...)
	st.buckets = append(st.buckets[:0], p.Buckets...)
	st.scale, st.offset = p.Scale, p.Offset
	st.positive = append(st.positive[:0], p.Positive...)
	st.zeroCount, st.neg, st.zeroThreshold = p.ZeroCount, p.Negative, p.ZeroThreshold
}

// maybeSweep forgets stale streams, at most once per staleAfter/4 of
// point time.
func (s *streams) maybeSweep() {
	if s.newest >= s.nextSweep {
		s.sweep()
	}
}

// sweep forgets the streams whose newest point is older than staleAfter.
// Live streams are never forgotten to make room: a new stream past the cap
// is refused and counted, and the ones kept stay exact.
func (s *streams) sweep() {
	s.nextSweep = s.newest + max(s.staleAfter/4, 1)
	cutoff := s.newest - s.staleAfter
	for k, st := range s.m {
		if st.time < cutoff {
			s.forgotten = max(s.forgotten, st.time)
			if st.producer != nil {
				st.producer.lossy = true
			}
			delete(s.m, k)
		}
	}
	for k, pr := range s.producers {
		if pr.last < cutoff {
			delete(s.producers, k)
		}
	}
}

// len is the number of streams kept.
func (s *streams) len() int { return len(s.m) }
