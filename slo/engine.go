package slo

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options tune an Engine. The zero value gives the defaults.
type Options struct {
	// AllowedLateness bounds how old an event may be, relative to the time it
	// is observed, and still be placed in its own slot (default 2 m). Older
	// events are counted in Stats.TooLate and kept out of the windows: placing
	// them at the wrong time would make the windows inexact.
	AllowedLateness time.Duration
	// SlotsPerWindow is how many slots each window is cut into (default 60):
	// a window leaves out at most 1/SlotsPerWindow of its oldest edge.
	SlotsPerWindow int
	// MaxFlows caps the flows tracked without an SLO (from annotations of
	// flows this engine has no SLO for); past it events are counted in
	// Stats.Overflow (default 10,000).
	MaxFlows int
}

const (
	defaultLateness = 2 * time.Minute
	defaultSlots    = 60
	defaultMaxFlows = 10_000
	maxExemplars    = 3
)

// Stats are the engine's own counters, for self-metrics.
type Stats struct {
	Events   uint64 // accepted into a known flow
	Late     uint64 // older than the newest slot but within the allowed lateness
	TooLate  uint64 // beyond the allowed lateness: counted, kept out of windows
	Future   uint64 // end time after the observation time: clamped to it
	Overflow uint64 // of flows past MaxFlows
	Flows    uint64 // flows tracked
}

// FlowStats are one flow's event counts since start.
type FlowStats struct {
	Flow           string
	Events, Errors uint64
}

// Engine keeps exact streaming counters for every SLO and evaluates their
// burn rates. It is safe for concurrent use: Observe may run on many
// goroutines while Evaluate runs on another.
type Engine struct {
	opts Options
	slos []*sloState // fixed at New

	// mu guards flows: read-locked to look a flow up, write-locked to add one.
	mu    sync.RWMutex
	flows map[string]*flowState

	events, late, tooLate, future, overflow atomic.Uint64
}

type flowState struct {
	name           string
	events, errors atomic.Uint64
	// mu guards the windows and exemplars of slos.
	mu   sync.Mutex
	slos []*sloState
}

type sloState struct {
	spec      *Spec
	flow      *flowState
	budget    float64 // 1 - target
	windows   []*window
	period    *window
	finest    *window // the window with the narrowest slots
	tiers     []tierWindows
	exemplars [maxExemplars]Exemplar
	nexemplar int // exemplars written, newest at (nexemplar-1)%maxExemplars
}

type tierWindows struct {
	tier        Tier
	long, short *window
	minEvents   uint64
}

// NewEngine builds an engine for specs; each spec is validated.
func NewEngine(specs []Spec, opts Options) (*Engine, error) {
	if opts.AllowedLateness <= 0 {
		opts.AllowedLateness = defaultLateness
	}
	if opts.SlotsPerWindow <= 0 {
		opts.SlotsPerWindow = defaultSlots
	}
	if opts.MaxFlows <= 0 {
		opts.MaxFlows = defaultMaxFlows
	}
	e := &Engine{opts: opts, flows: make(map[string]*flowState)}
	seen := make(map[string]bool, len(specs))
	for i := range specs {
		spec := specs[i]
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("slo %q is defined twice", spec.Name)
		}
		seen[spec.Name] = true
		if spec.Tiers == nil {
			spec.Tiers = DefaultTiers(spec.Period)
		}
		f := e.flows[spec.Flow]
		if f == nil {
			f = &flowState{name: spec.Flow}
			e.flows[spec.Flow] = f
		}
		s := newSLOState(&spec, f, opts.SlotsPerWindow)
		f.slos = append(f.slos, s)
		e.slos = append(e.slos, s)
	}
	return e, nil
}

func newSLOState(spec *Spec, f *flowState, slots int) *sloState {
	s := &sloState{spec: spec, flow: f, budget: 1 - spec.Target}
	byDur := make(map[time.Duration]*window)
	get := func(d time.Duration) *window {
		if w, ok := byDur[d]; ok {
			return w
		}
		w := newWindow(d, slots)
		byDur[d] = w
		s.windows = append(s.windows, w)
		return w
	}
	s.period = get(spec.Period)
	for _, t := range spec.Tiers {
		min := spec.MinEvents
		if t.MinEvents > 0 {
			min = t.MinEvents
		}
		s.tiers = append(s.tiers, tierWindows{tier: t, long: get(t.Long), short: get(t.Short), minEvents: min})
	}
	s.finest = s.windows[0]
	for _, w := range s.windows {
		if w.res < s.finest.res {
			s.finest = w
		}
	}
	return s
}

// flow returns the state of a flow, creating one for a flow without SLOs
// while under MaxFlows; nil means the event overflowed.
func (e *Engine) flow(name string) *flowState {
	e.mu.RLock()
	f := e.flows[name]
	e.mu.RUnlock()
	if f != nil {
		return f
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if f = e.flows[name]; f != nil {
		return f
	}
	if len(e.flows) >= e.opts.MaxFlows+len(e.slos) {
		return nil
	}
	// The name may point into a request's buffer: keep a copy, not the request.
	name = strings.Clone(name)
	f = &flowState{name: name}
	e.flows[name] = f
	return f
}

// Observe counts events observed at now. Events are placed by their end
// time: ones after now are clamped to now (Stats.Future), ones older than the
// allowed lateness are kept out of the windows (Stats.TooLate).
func (e *Engine) Observe(now time.Time, evs []Event) {
	nowNs := now.UnixNano()
	oldest := nowNs - int64(e.opts.AllowedLateness)
	var f *flowState
	for i := range evs {
		ev := &evs[i]
		if f == nil || f.name != ev.Flow {
			if f = e.flow(ev.Flow); f == nil {
				e.overflow.Add(1)
				continue
			}
		}
		e.events.Add(1)
		f.events.Add(1)
		if ev.Error {
			f.errors.Add(1)
		}
		t := ev.End
		if t > nowNs {
			e.future.Add(1)
			t = nowNs
		} else if t < oldest {
			e.tooLate.Add(1)
			continue
		}
		if len(f.slos) == 0 {
			continue
		}
		f.mu.Lock()
		late := false
		for _, s := range f.slos {
			late = s.observe(nowNs, t, ev)
		}
		f.mu.Unlock()
		if late {
			e.late.Add(1)
		}
	}
}

// observe adds one event at time t to every window; it reports whether the
// event was late: placed in a slot older than the newest of the finest window.
func (s *sloState) observe(now, t int64, ev *Event) (late bool) {
	bad := ev.Error || (s.spec.Objective == LatencyThreshold && ev.Duration > s.spec.Threshold)
	for _, w := range s.windows {
		w.advance(now)
		w.add(t, bad)
	}
	late = t < s.finest.headStart
	if bad {
		s.exemplars[s.nexemplar%maxExemplars] = Exemplar{TraceID: ev.TraceID, SpanID: ev.SpanID, End: ev.End, Duration: ev.Duration}
		s.nexemplar++
	}
	return late
}

// Evaluate returns every SLO's status at now, in spec order.
func (e *Engine) Evaluate(now time.Time) []Status {
	nowNs := now.UnixNano()
	out := make([]Status, len(e.slos))
	for i, s := range e.slos {
		s.flow.mu.Lock()
		out[i] = s.status(now, nowNs)
		s.flow.mu.Unlock()
	}
	return out
}

func (s *sloState) status(now time.Time, nowNs int64) Status {
	for _, w := range s.windows {
		w.advance(nowNs)
	}
	st := Status{SLO: s.spec, At: now, Period: s.period.stats(s.budget), Tiers: make([]TierStatus, len(s.tiers))}
	st.BudgetLeft = 1 - st.Period.Burn
	for i, t := range s.tiers {
		ts := TierStatus{Tier: t.tier, Long: t.long.stats(s.budget), Short: t.short.stats(s.budget)}
		ts.Enough = ts.Long.Total >= t.minEvents && ts.Long.Total > 0
		ts.Firing = ts.Enough && ts.Long.Burn > t.tier.Factor && ts.Short.Burn > t.tier.Factor
		st.Tiers[i] = ts
	}
	n := min(s.nexemplar, maxExemplars)
	for i := 0; i < n; i++ {
		st.Exemplars = append(st.Exemplars, s.exemplars[(s.nexemplar-1-i)%maxExemplars])
	}
	return st
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.RLock()
	nflows := len(e.flows)
	e.mu.RUnlock()
	return Stats{
		Events: e.events.Load(), Late: e.late.Load(), TooLate: e.tooLate.Load(),
		Future: e.future.Load(), Overflow: e.overflow.Load(), Flows: uint64(nflows),
	}
}

// Flows returns every tracked flow's counts, sorted by name.
func (e *Engine) Flows() []FlowStats {
	e.mu.RLock()
	out := make([]FlowStats, 0, len(e.flows))
	for _, f := range e.flows {
		out = append(out, FlowStats{Flow: f.name, Events: f.events.Load(), Errors: f.errors.Load()})
	}
	e.mu.RUnlock()
	slices.SortFunc(out, func(a, b FlowStats) int {
		if a.Flow < b.Flow {
			return -1
		}
		if a.Flow > b.Flow {
			return 1
		}
		return 0
	})
	return out
}

// Specs returns the SLO specs, with defaults applied, in order.
func (e *Engine) Specs() []*Spec {
	out := make([]*Spec, len(e.slos))
	for i, s := range e.slos {
		out[i] = s.spec
	}
	return out
}
