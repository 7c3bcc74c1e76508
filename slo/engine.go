package slo

import (
	"cmp"
	"fmt"
	"math"
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
	// them at the wrong time would make the windows inexact. It is also how
	// long a time slice stays open after its end: it counts from its end,
	// and late events may change its verdict until then.
	AllowedLateness time.Duration
	// SlotsPerWindow is how many slots each window is cut into (default 60):
	// a window leaves out at most 1/SlotsPerWindow of its oldest edge.
	SlotsPerWindow int
	// MaxFlows caps the flows tracked without an SLO (from annotations of
	// flows this engine has no SLO for); past it events are counted in
	// Stats.Overflow (default 10,000).
	MaxFlows int
	// PercentileWindows are the windows every flow keeps latency
	// percentiles for, besides the windows of its SLOs' tiers (nil means
	// 5m, 1h and 1d; an empty non-nil slice means only the tier windows).
	PercentileWindows []time.Duration
	// PercentileSlots is how many histogram slots a percentile window
	// shorter than a day is cut into (default 12): its percentiles leave
	// out at most 1/PercentileSlots of its oldest edge. Windows of a day or
	// longer get half as many, rounded up (default 6), and leave out at
	// most one of those (a sixth by default) of their oldest edge: their slots
	// are most of a busy flow's histogram memory. The counting windows,
	// and so burn rates and alerts, are not affected.
	PercentileSlots int
	// FinePercentilesUpTo is the longest percentile window kept at
	// sketch.DefaultScale, within 1.083% of the exact value (default: every
	// window); longer windows use sketch.CoarseScale, within 4.33%, for a
	// quarter of the memory. A negative value makes every window coarse.
	FinePercentilesUpTo time.Duration
	// Deltas makes the engine keep what it observes until AppendDelta or
	// AppendSnapshot takes it, for a write-ahead log. Leave it off when
	// nothing calls AppendDelta regularly, or what is kept grows without
	// bound.
	Deltas bool
}

const (
	defaultLateness = 2 * time.Minute
	defaultSlots    = 60
	defaultMaxFlows = 10_000
	maxExemplars    = 3
	// noTime marks a time not yet seen.
	noTime = math.MinInt64
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

// Engine keeps exact streaming counters and latency histograms for every
// flow and SLO and evaluates their burn rates and alert conditions. It is
// safe for concurrent use: Observe may run on many goroutines while
// Evaluate runs on another.
type Engine struct {
	opts Options
	slos []*sloState // fixed at New

	// mu guards flows and flowList: read-locked to look a flow up,
	// write-locked to add one. flowList is the flows in creation order.
	mu       sync.RWMutex
	flows    map[string]*flowState
	flowList []*flowState
	// refs are the flows by Event.Ref (see IndexFlows), each with the
	// name it was given for: an event takes the flow only if its Flow is
	// that name, which costs no more than comparing two pointers when the
	// producer named the event with the same string.
	refs []flowRef

	events, late, tooLate, future, overflow atomic.Uint64
	// firstEval is the now of the first Evaluate (noTime before): a flow
	// that never had an event is silent since then.
	firstEval atomic.Int64

	// changed lists the flows that may have something for the next delta,
	// each once (flowState.listed), so that a delta per batch costs the
	// flows the batch touched, not every flow. changedMu guards it.
	changedMu sync.Mutex
	changed   []listedFlow
	// changedSpare is the other list's storage, for the next cut, and
	// cutFlows the flows of a delta's cut (both under persistMu).
	changedSpare []listedFlow
	cutFlows     []*flowState
	// warmed and found keep what warm and find read, so that the compiler
	// does not leave the reads out.
	warmed int // under persistMu
	found  atomic.Int64

	// persistMu serialises AppendDelta, AppendSnapshot, Restore and
	// ApplyDelta, and guards seq and reported.
	persistMu sync.Mutex
	// seq is the sequence number of the last delta taken or applied.
	seq uint64
	// reported are the engine counters as of the last delta or snapshot.
	reported Stats
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
	if opts.PercentileWindows == nil {
		opts.PercentileWindows = defaultPercentileWindows
	}
	if opts.PercentileSlots <= 0 {
		opts.PercentileSlots = defaultPercentileSlots
	}
	if opts.FinePercentilesUpTo == 0 {
		opts.FinePercentilesUpTo = defaultFineUpTo
	}
	e := &Engine{opts: opts, flows: make(map[string]*flowState)}
	e.firstEval.Store(noTime)
	seen := make(map[string]bool, len(specs))
	var tierSets [][]Tier
	for i := range specs {
		spec := specs[i]
		if err := spec.Validate(); err != nil {
			return nil, err
		}
		if seen[spec.Name] {
			return nil, fmt.Errorf("slo %q is defined twice", spec.Name)
		}
		seen[spec.Name] = true
		spec.applyDefaults()
		spec.Tiers = shareTiers(&tierSets, spec.Tiers)
		f := e.flows[spec.Flow]
		if f == nil {
			f = e.newFlow(spec.Flow)
		}
		s := newSLOState(&spec, f, opts)
		f.slos = append(f.slos, s)
		if s.slices != nil {
			f.sliceSLOs = append(f.sliceSLOs, s)
		}
		e.slos = append(e.slos, s)
	}
	e.packNames()
	for _, f := range e.flowList {
		f.setLatency(e.newLatency(f.slos))
		for _, s := range f.slos {
			s.latIdx = s.latIdx[:0]
			for _, d := range s.tierWindows() {
				for i, w := range f.lat.windows {
					if w.dur == d {
						s.latIdx = append(s.latIdx, i)
					}
				}
			}
		}
	}
	return e, nil
}

// packNames moves the names of the flows and SLOs into one block of
// memory, in the engine's order: a delta writes the name of every flow and
// SLO it holds, and with thousands of flows names allocated one by one
// (as a spec file's decoder does) are a cache miss each, where packed they
// mostly share lines. e must not be shared yet.
func (e *Engine) packNames() {
	var b strings.Builder
	for _, f := range e.flowList {
		b.WriteString(f.name)
		for _, s := range f.slos {
			b.WriteString(s.name)
		}
	}
	all, at := b.String(), 0
	next := func(s string) string {
		at += len(s)
		return all[at-len(s) : at]
	}
	for _, f := range e.flowList {
		delete(e.flows, f.name)
		f.name = next(f.name)
		e.flows[f.name] = f
		for _, s := range f.slos {
			s.name = next(s.name)
		}
	}
}

// shareTiers returns tiers equal to ts that an SLO before had, or ts: with
// thousands of SLOs on the default tiers, the engine keeps one copy of them
// rather than one each (it never changes a spec's tiers). It remembers a
// few distinct sets, so that specs with their own tiers cost no search.
func shareTiers(sets *[][]Tier, ts []Tier) []Tier {
	for _, s := range *sets {
		if slices.Equal(s, ts) {
			return s
		}
	}
	if len(*sets) < 8 {
		*sets = append(*sets, ts)
	}
	return ts
}

// applyDefaults fills what a spec may leave out, on a copy the engine owns.
func (s *Spec) applyDefaults() {
	if s.Calendar != nil {
		c := *s.Calendar
		if c.Location == nil {
			c.Location = time.UTC
		}
		s.Calendar = &c
		if s.Period == 0 {
			s.Period = c.Unit.NominalPeriod()
		}
	}
	if s.Tiers == nil {
		s.Tiers = DefaultTiers(s.Period)
	}
	s.Tiers = slices.Clone(s.Tiers)
	for i := range s.Tiers {
		s.Tiers[i] = s.Tiers[i].withDefaults()
	}
	s.BudgetAlerts = slices.Clone(s.BudgetAlerts)
	for i := range s.BudgetAlerts {
		a := &s.BudgetAlerts[i]
		a.Name = a.name()
		if a.Severity == "" {
			a.Severity = Ticket
		}
	}
	s.ExhaustionAlerts = slices.Clone(s.ExhaustionAlerts)
	for i := range s.ExhaustionAlerts {
		a := &s.ExhaustionAlerts[i]
		a.Name = a.name()
		if a.Severity == "" {
			a.Severity = Ticket
		}
	}
	if s.NoData > 0 && s.NoDataSeverity == "" {
		s.NoDataSeverity = Ticket
	}
}

// flowRun is a run of consecutive events of one flow in an Observe batch:
// the flow is locked once for the run and its counters added once.
type flowRun struct {
	f              *flowState
	locked         bool
	events, errors uint64
	last           int64
}

func (r *flowRun) end() {
	if r.f == nil {
		return
	}
	r.f.events.Add(r.events)
	r.f.errors.Add(r.errors)
	for {
		cur := r.f.lastEvent.Load()
		if r.last <= cur || r.f.lastEvent.CompareAndSwap(cur, r.last) {
			break
		}
	}
	// After the counters: see cut.
	r.f.markChanged()
	if r.locked {
		r.f.mu.Unlock()
	}
	*r = flowRun{}
}

// Observe counts events observed at now. Events are placed by their end
// time: ones after now are clamped to now (Stats.Future), ones older than the
// allowed lateness are kept out of the windows (Stats.TooLate).
func (e *Engine) Observe(now time.Time, evs []Event) {
	nowNs := now.UnixNano()
	oldest := nowNs - int64(e.opts.AllowedLateness)
	var events, late, tooLate, future, overflow uint64
	var r flowRun
	var found [observeChunk]*flowState
	for i := range evs {
		ev := &evs[i]
		if i%observeChunk == 0 {
			e.find(evs[i:min(i+observeChunk, len(evs))], &found)
		}
		// find looked each event's flow up: a run is events of one flow,
		// whose names need not be compared.
		if f := found[i%observeChunk]; f == nil || f != r.f {
			r.end()
			if r.f = f; r.f == nil {
				r.f = e.flow(ev.Flow) // new, or overflowing
			}
			if r.f == nil {
				overflow++
				continue
			}
			r.last = noTime
		}
		events++
		r.events++
		if ev.Error {
			r.errors++
		}
		t := ev.End
		if t > nowNs {
			future++
			t = nowNs
		} else if t < oldest {
			tooLate++
			r.last = max(r.last, t)
			continue
		}
		r.last = max(r.last, t)
		if !r.locked {
			r.f.mu.Lock()
			r.locked = true
		}
		if r.f.observe(nowNs, t, ev) {
			late++
		}
	}
	r.end()
	e.events.Add(events)
	e.late.Add(late)
	e.tooLate.Add(tooLate)
	e.future.Add(future)
	e.overflow.Add(overflow)
}

// observeChunk is how many events Observe looks up at once (see find).
const observeChunk = 128

// find looks up the flows of evs (at most observeChunk) in found, nil for
// a flow not tracked, under one read lock, and reads the state of their
// SLOs that observing them reads first. The lookups and reads do not
// depend on one another, so the processor keeps many cache misses in
// flight at once; observing event by event, each miss would wait for the
// one before. With thousands of flows, a batch brings most flows one
// event and their state is cold. It reads only what does not change after
// the engine is built.
func (e *Engine) find(evs []Event, found *[observeChunk]*flowState) {
	n := 0
	e.mu.RLock()
	for i := range evs {
		if i > 0 && evs[i].Flow == evs[i-1].Flow {
			found[i] = found[i-1]
			continue
		}
		f := e.eventFlow(&evs[i])
		found[i] = f
		if f != nil {
			n += len(f.name) // the line of f.mu (flowState's line 0)
			for _, s := range f.slos {
				n += int(s.base)
			}
		}
	}
	e.mu.RUnlock()
	e.found.Add(int64(n)) // kept, so that the reads are not left out
}

// listedFlow is a flow on the changed list with its place in flowList,
// which a cut sorts by without reading each flow's memory again.
type listedFlow struct {
	idx int
	f   *flowState
}

// flowRef is a flow of Engine.refs and the name it is found by.
type flowRef struct {
	name string
	f    *flowState
}

// eventFlow returns the flow of ev, nil for a flow not tracked; e.mu must be
// read-locked.
func (e *Engine) eventFlow(ev *Event) *flowState {
	if r := int(ev.Ref) - 1; r >= 0 && r < len(e.refs) && e.refs[r].f != nil && e.refs[r].name == ev.Flow {
		return e.refs[r].f
	}
	return e.flows[ev.Flow]
}

// IndexFlows lets events name their flow by Ref as well: an event whose
// Ref is i+1 and whose Flow is names[i] is found without hashing its name
// (with thousands of flows, the map's lookups are cache misses). Producers
// that classify with a flows.Classifier pass its flow names in its order,
// and set Ref from the index it returns. The names that are no flow of
// the engine's yet are looked up by name, as events without a Ref are.
func (e *Engine) IndexFlows(names []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refs = make([]flowRef, len(names))
	for i, name := range names {
		if f := e.flows[name]; f != nil {
			e.refs[i] = flowRef{name: name, f: f}
		}
	}
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
	slices.SortFunc(out, func(a, b FlowStats) int { return cmp.Compare(a.Flow, b.Flow) })
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
