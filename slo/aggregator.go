package slo

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// Aggregator is an agent's side of aggregates (see Aggregate): it counts
// events per flow and per slot of Width, judges them for each SLO of the
// specs its engine was built with, and hands what it counted to Cut. It
// keeps no windows: its memory is the slots since the last cut, which the
// allowed lateness bounds (older events are only counted, in TooLate). It
// is safe for concurrent use.
type Aggregator struct {
	width    int64
	lateness int64
	maxFlows int
	// slos are each flow's SLOs as the engine has them, fixed at
	// NewAggregator.
	slos map[string][]aggSLO

	// mu guards flows: read-locked to look a flow up, write-locked to add
	// one.
	mu       sync.RWMutex
	flows    map[string]*aggFlow
	overflow atomic.Uint64
}

// aggSLO is what the agent needs of an SLO to judge an event.
type aggSLO struct {
	name      string
	shape     uint64
	slices    bool
	latency   bool
	threshold time.Duration
}

type aggFlow struct {
	name string
	slos []aggSLO
	// mu guards the rest.
	mu      sync.Mutex
	slots   []aggSlot // unordered; a handful between cuts
	cur     int       // slot of the last event, -1 for none
	tooLate AggregateCounts
	last    int64
	ex      []exemplars // by slos index
	exDirty []bool
}

type aggSlot struct {
	k      int64
	errors uint64
	h      *sketch.Histogram
	counts []counts // by slos index
}

// NewAggregator returns an aggregator judging events by e's SLOs, with e's
// allowed lateness and flow cap. Its slot width is the greatest common
// divisor of e's base slots (every SLO's and every flow's histograms'), so
// a gateway with the same specs places each slot exactly; it is never
// below 100 ms.
func NewAggregator(e *Engine) *Aggregator {
	a := &Aggregator{lateness: int64(e.opts.AllowedLateness), maxFlows: e.opts.MaxFlows + len(e.slos),
		slos: make(map[string][]aggSLO), flows: make(map[string]*aggFlow)}
	width := e.newLatency(nil).base
	e.mu.RLock()
	for _, f := range e.flowList {
		width = gcd(f.lat.base, width)
		for _, s := range f.slos {
			width = gcd(s.base, width)
			a.slos[f.name] = append(a.slos[f.name], aggSLO{name: s.spec.Name, shape: s.shape, slices: s.slices != nil,
				latency: s.spec.Objective == LatencyThreshold, threshold: s.spec.Threshold})
		}
	}
	e.mu.RUnlock()
	// Windows of odd lengths (a period of 2h cuts its short windows into
	// 13.9 ms slots) can make the divisor a few nanoseconds, and every
	// event a slot of its own: below minAggregateWidth the slots are
	// placed up to their width early instead (MergeStats.Misaligned).
	a.width = max(width, minAggregateWidth)
	return a
}

// minAggregateWidth is the narrowest slot an Aggregator cuts.
const minAggregateWidth = int64(100 * time.Millisecond)

// Width is the aggregator's slot width.
func (a *Aggregator) Width() time.Duration { return time.Duration(a.width) }

// Overflow counts events of flows past the flow cap, dropped.
func (a *Aggregator) Overflow() uint64 { return a.overflow.Load() }

func (a *Aggregator) flow(name string) *aggFlow {
	a.mu.RLock()
	f := a.flows[name]
	a.mu.RUnlock()
	if f != nil {
		return f
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if f = a.flows[name]; f != nil {
		return f
	}
	if len(a.flows) >= a.maxFlows {
		return nil
	}
	// The name may point into a request's buffer: keep a copy.
	name = strings.Clone(name)
	ss := a.slos[name]
	f = &aggFlow{name: name, slos: ss, cur: -1, ex: make([]exemplars, len(ss)), exDirty: make([]bool, len(ss))}
	a.flows[name] = f
	return f
}

// Add counts events observed at now: an event after now at now, one older
// than the allowed lateness in TooLate, as the engine would place them.
func (a *Aggregator) Add(now time.Time, evs []Event) {
	nowNs := now.UnixNano()
	oldest := nowNs - a.lateness
	var f *aggFlow
	for i := range evs {
		ev := &evs[i]
		if f == nil || f.name != ev.Flow {
			if f != nil {
				f.mu.Unlock()
			}
			if f = a.flow(ev.Flow); f == nil {
				a.overflow.Add(1)
				continue
			}
			f.mu.Lock()
		}
		f.add(ev, nowNs, oldest, a.width)
	}
	if f != nil {
		f.mu.Unlock()
	}
}

// add counts one event; f.mu must be held.
func (f *aggFlow) add(ev *Event, now, oldest, width int64) {
	t := min(ev.End, now)
	f.last = max(f.last, t)
	if t < oldest {
		f.tooLate.Events++
		if ev.Error {
			f.tooLate.Errors++
		}
		return
	}
	k := floorDiv(t, width)
	if f.cur < 0 || f.slots[f.cur].k != k {
		f.cur = slices.IndexFunc(f.slots, func(s aggSlot) bool { return s.k == k })
		if f.cur < 0 {
			f.slots = append(f.slots, aggSlot{k: k, h: new(sketch.Histogram), counts: make([]counts, len(f.slos))})
			f.cur = len(f.slots) - 1
		}
	}
	sl := &f.slots[f.cur]
	sl.h.Record(int64(ev.Duration))
	if ev.Error {
		sl.errors++
	}
	for i := range f.slos {
		s := &f.slos[i]
		// The rules of sloState.observe: a time-slice SLO keeps the
		// slowest as exemplars, an event-based one counts and keeps the
		// bad.
		if s.slices {
			if ev.Duration > s.threshold {
				f.exemplar(i, ev)
			}
			continue
		}
		sl.counts[i].total++
		if ev.Error || s.latency && ev.Duration > s.threshold {
			sl.counts[i].bad++
			f.exemplar(i, ev)
		}
	}
}

func (f *aggFlow) exemplar(i int, ev *Event) {
	f.ex[i].add(Exemplar{TraceID: ev.TraceID, SpanID: ev.SpanID, End: ev.End, Duration: ev.Duration})
	f.exDirty[i] = true
}

// Cut appends to dst what the aggregator counted since the previous cut,
// one Aggregate per flow with events, and starts afresh.
func (a *Aggregator) Cut(dst []Aggregate) []Aggregate {
	a.mu.RLock()
	flows := make([]*aggFlow, 0, len(a.flows))
	for _, f := range a.flows {
		flows = append(flows, f)
	}
	a.mu.RUnlock()
	slices.SortFunc(flows, func(x, y *aggFlow) int { return strings.Compare(x.name, y.name) })
	for _, f := range flows {
		f.mu.Lock()
		if len(f.slots) > 0 || f.tooLate.Events > 0 {
			dst = append(dst, f.cut(a.width))
		}
		f.mu.Unlock()
	}
	return dst
}

// cut takes the flow's counts; f.mu must be held.
func (f *aggFlow) cut(width int64) Aggregate {
	slices.SortFunc(f.slots, func(x, y aggSlot) int { return cmp.Compare(x.k, y.k) })
	ag := Aggregate{Flow: f.name, Width: width, TooLate: f.tooLate, Last: f.last, Slots: make([]AggregateSlot, len(f.slots))}
	for i, sl := range f.slots {
		ag.Slots[i] = AggregateSlot{Start: sl.k * width, Errors: sl.errors, Latency: sl.h}
	}
	for i, s := range f.slos {
		as := AggregateSLO{Name: s.name, Shape: s.shape}
		if !s.slices {
			as.Counts = make([]SlotCounts, 0, len(f.slots))
			for _, sl := range f.slots {
				c := sl.counts[i]
				as.Counts = append(as.Counts, SlotCounts{Start: sl.k * width, Total: c.total, Bad: c.bad})
			}
		}
		if f.exDirty[i] {
			as.Exemplars = f.ex[i].list(make([]Exemplar, maxExemplars))
			f.ex[i], f.exDirty[i] = exemplars{}, false
		}
		ag.SLOs = append(ag.SLOs, as)
	}
	clear(f.slots)
	f.slots, f.cur = f.slots[:0], -1
	f.tooLate, f.last = AggregateCounts{}, 0
	return ag
}
