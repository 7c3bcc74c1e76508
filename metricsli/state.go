package metricsli

import (
	"cmp"
	"slices"
)

// State is what a Runtime needs to go on after a restart of Burnwatch as
// if it had not stopped: each cumulative stream's last point and its
// producer, and each SLO's sums. With it, a stream's first point after
// the restart counts the increase since its last point before it, where a
// Runtime without it takes that point as a baseline.
//
// A State is only exact with the engine counts of the same instant: the
// daemon takes one at a clean stop, after the receivers stopped, and uses
// it only when nothing was written after it (docs/indicators.md).
type State struct {
	Streams   []StreamState
	Producers []ProducerState
	// Newest, NextSweep and Forgotten are the streams' clock, the next
	// sweep and the newest point time forgotten or refused.
	Newest, NextSweep, Forgotten int64
	SLOs                         []SLOState
}

// StreamState is a cumulative stream's last point; Producer is the key of
// its producer (empty when it had none, past the cap).
type StreamState struct {
	Key, Producer       []byte
	Start, Time         int64
	Value               float64
	Count               uint64
	Bounds              []float64
	Buckets             []uint64
	Scale, Offset       int32
	Positive            []uint64
	ZeroCount, Negative uint64
	ZeroThreshold       float64
}

// ProducerState is a producer's start time, newest and previous export.
type ProducerState struct {
	Key               []byte
	Start, Last, Prev int64
	Lossy             bool
}

// SLOState is an SLO's sums, by the flow they count in, under the
// Indicator they were read with (its String).
type SLOState struct {
	Name, Indicator string
	Tallies         []TallyState
}

// TallyState is what an SLO (or one group of it) read and handed out.
type TallyState struct {
	Flow       string
	Sum        [3]float64
	Total, Bad uint64
}

// State returns what the Runtime keeps, sorted.
func (r *Runtime) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.streams
	st := State{Newest: s.newest, NextSweep: s.nextSweep, Forgotten: s.forgotten}
	keyOf := make(map[*producer][]byte, len(s.producers))
	for k, pr := range s.producers {
		keyOf[pr] = []byte(k)
		st.Producers = append(st.Producers, ProducerState{Key: []byte(k), Start: pr.start, Last: pr.last, Prev: pr.prev, Lossy: pr.lossy})
	}
	for k, sm := range s.m {
		st.Streams = append(st.Streams, StreamState{
			Key: []byte(k), Producer: keyOf[sm.producer], Start: sm.start, Time: sm.time, Value: sm.value, Count: sm.count,
			Bounds: slices.Clone(sm.bounds), Buckets: slices.Clone(sm.buckets), Scale: sm.scale, Offset: sm.offset,
			Positive: slices.Clone(sm.positive), ZeroCount: sm.zeroCount, Negative: sm.neg, ZeroThreshold: sm.zeroThreshold,
		})
	}
	for _, rd := range r.slos {
		ss := SLOState{Name: rd.name, Indicator: rd.desc}
		for _, t := range rd.tallies {
			ss.Tallies = append(ss.Tallies, TallyState{Flow: t.flow, Sum: t.sum, Total: t.total, Bad: t.bad})
		}
		slices.SortFunc(ss.Tallies, func(a, b TallyState) int { return cmp.Compare(a.Flow, b.Flow) })
		st.SLOs = append(st.SLOs, ss)
	}
	slices.SortFunc(st.Producers, func(a, b ProducerState) int { return slices.Compare(a.Key, b.Key) })
	slices.SortFunc(st.Streams, func(a, b StreamState) int { return slices.Compare(a.Key, b.Key) })
	return st
}

// Restore replaces the Runtime's streams with st's, and the sums of each
// SLO whose Indicator is unchanged; an SLO whose Indicator changed starts
// from zero, as after a reload. Streams past the cap are left out, as
// the cap would have refused them.
func (r *Runtime) Restore(st State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := newStreams(r.streams.max, r.streams.staleAfter, r.streams.began)
	s.newest, s.nextSweep, s.forgotten = st.Newest, st.NextSweep, st.Forgotten
	for _, p := range st.Producers {
		if len(s.producers) >= s.max {
			break
		}
		s.producers[string(p.Key)] = &producer{start: p.Start, last: p.Last, prev: p.Prev, lossy: p.Lossy}
	}
	for _, x := range st.Streams {
		if len(s.m) >= s.max {
			break
		}
		s.m[string(x.Key)] = &stream{
			producer: s.producers[string(x.Producer)], start: x.Start, time: x.Time, value: x.Value, count: x.Count,
			bounds: x.Bounds, buckets: x.Buckets, scale: x.Scale, offset: x.Offset, positive: x.Positive,
			zeroCount: x.ZeroCount, neg: x.Negative, zeroThreshold: x.ZeroThreshold,
		}
	}
	r.streams = s
	r.stats.Streams = s.len()
	saved := make(map[string]SLOState, len(st.SLOs))
	for _, ss := range st.SLOs {
		saved[ss.Name] = ss
	}
	for _, rd := range r.slos {
		ss, ok := saved[rd.name]
		if !ok || ss.Indicator != rd.desc {
			continue
		}
		rd.tallies = make(map[string]*tally, len(ss.Tallies))
		for _, t := range ss.Tallies {
			r.tallyIDs++
			rd.tallies[t.Flow] = &tally{id: r.tallyIDs, flow: t.Flow, sum: t.Sum, total: t.Total, bad: t.Bad}
		}
	}
}
