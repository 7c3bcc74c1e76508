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

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// Options tune an Engine. The zero value gives the defaults.
type Options struct {
	// AllowedLateness bounds how old an event may be, relative to the time it
	// is observed, and still be placed in its own slot (default 2 m). Older
	// events are counted in Stats.TooLate and kept out of the windows: placing
	// them at the wrong time would make the windows inexact. It is also how
	// long a time slice stays open after its end.
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

	events, late, tooLate, future, overflow atomic.Uint64
	// firstEval is the now of the first Evaluate (noTime before): a flow
	// that never had an event is silent since then.
	firstEval atomic.Int64

	// changed lists the flows that may have something for the next delta,
	// each once (flowState.listed), so that a delta per batch costs the
	// flows the batch touched, not every flow. changedMu guards it.
	changedMu sync.Mutex
	changed   []*flowState
	// changedSpare is the other list's storage, for the next cut (under
	// persistMu).
	changedSpare []*flowState

	// persistMu serialises AppendDelta, AppendSnapshot, Restore and
	// ApplyDelta, and guards seq and reported.
	persistMu sync.Mutex
	// seq is the sequence number of the last delta taken or applied.
	seq uint64
	// reported are the engine counters as of the last delta or snapshot.
	reported Stats
}

type flowState struct {
	name           string
	events, errors atomic.Uint64
	// lastEvent is the latest event time seen (noTime before any), for
	// no-data alerts.
	lastEvent atomic.Int64

	// mu guards everything below and the state of slos.
	mu   sync.Mutex
	slos []*sloState
	lat  *latency
	pend *pendHists // nil without Options.Deltas
	// stage holds the latencies of base slot stageK (when staged): an
	// event of the current slot costs an append to stageBuf (or, past 64,
	// a Record into stage), and the slot goes into every level, window
	// total, open slice and pending delta when a later slot begins or
	// before anything reads them (flushStage).
	stage      sketch.Histogram
	stageK     int64
	stageStart int64
	staged     bool
	stageN     int // latencies staged: in stageBuf while they fit
	stageBuf   [64]int64
	// sliceSLOs are the PercentileSlices SLOs among slos.
	sliceSLOs []*sloState
	// pcts is storage for percentiles.
	pcts []Percentiles
	// reported are the counters as of the last delta or snapshot (written
	// under the engine's persistMu as well).
	reportedEvents, reportedErrors uint64
	reportedLast                   int64
	// engine and idx (the flow's place in engine.flowList) let the flow
	// put itself on the engine's changed list; listed says it is on it.
	engine *Engine
	idx    int
	listed atomic.Bool
}

type sloState struct {
	spec    *Spec
	flow    *flowState
	budget  float64 // 1 - target
	base    int64   // every window's slot width is a multiple of it
	windows []*window
	period  *window // nil for a calendar period
	cal     *calendarWindow
	finest  *window // the window with the narrowest slots
	tiers   []tierWindows
	exh     []*window // the window of each ExhaustionAlert
	slices  *sliceState
	// until is the earliest time at which advance has work: the end of the
	// newest slot of some window, a calendar boundary or a slice's close.
	until int64
	ex    exemplars
	// latIdx are the flow's percentile windows of the tiers, shortest first.
	latIdx []int
	fp     uint64
	pend   *pendCounts // nil without Options.Deltas or for slices
	// stage holds the counts of base slot stageK (when stage.total > 0),
	// added to every window when a later slot begins or before anything
	// reads them, so an event of the current slot costs one increment.
	stage      counts
	stageK     int64
	stageStart int64
	// exDirty and bornDirty say the exemplars changed, or the slices began,
	// since the last delta.
	exDirty, bornDirty bool
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

// tierWindows are the distinct windows of the spec's tiers, shortest first.
func (s *sloState) tierWindows() []time.Duration {
	var ds []time.Duration
	for _, t := range s.tiers {
		ds = append(ds, t.tier.Long, t.tier.Short)
	}
	slices.Sort(ds)
	return slices.Compact(ds)
}

// newFlow adds a flow; e.mu must be held for writing (or e not shared yet).
func (e *Engine) newFlow(name string) *flowState {
	f := &flowState{name: name, reportedLast: noTime, engine: e, idx: len(e.flowList)}
	f.lastEvent.Store(noTime)
	if e.opts.Deltas {
		f.pend = &pendHists{cur: -1}
	}
	e.flows[name] = f
	e.flowList = append(e.flowList, f)
	return f
}

// newLatency lays out the histograms of a flow with the given SLOs.
func (e *Engine) newLatency(ss []*sloState) *latency {
	durs := slices.Clone(e.opts.PercentileWindows)
	var sliceLens []int64
	for _, s := range ss {
		durs = append(durs, s.tierWindows()...)
		if s.slices != nil {
			sliceLens = append(sliceLens, s.slices.length)
		}
	}
	return newLatency(durs, e.opts.PercentileSlots, sliceLens, int64(e.opts.AllowedLateness), e.opts.FinePercentilesUpTo)
}

func newSLOState(spec *Spec, f *flowState, opts Options) *sloState {
	s := &sloState{spec: spec, flow: f, budget: 1 - spec.Target}
	durs := []time.Duration{}
	if spec.Calendar == nil {
		durs = append(durs, spec.Period)
	}
	for _, t := range spec.Tiers {
		durs = append(durs, t.Long, t.Short)
	}
	for _, a := range spec.ExhaustionAlerts {
		durs = append(durs, a.Window)
	}
	if len(durs) == 0 {
		// A calendar SLO without tiers or exhaustion alerts still needs
		// one ring, to tell late events from current ones.
		durs = append(durs, spec.Period)
	}
	slices.Sort(durs)
	durs = slices.Compact(durs)
	rs := make([]int64, len(durs))
	for i, d := range durs {
		rs[i] = naturalRes(d, opts.SlotsPerWindow)
	}
	var res []int64
	s.base, res = nestedRes(rs)
	byDur := make(map[time.Duration]*window, len(durs))
	// The windows, and their rings, each in one block: an evaluation reads
	// them all.
	ws := make([]window, len(durs))
	var n int64
	for i, d := range durs {
		ws[i] = window{dur: d, res: res[i], per: res[i] / s.base, n: windowSlots(d, res[i])}
		n += ws[i].n
	}
	block := make([]counts, n)
	for i := range ws {
		w := &ws[i]
		w.slots, block = block[:w.n:w.n], block[w.n:]
		byDur[w.dur] = w
		s.windows = append(s.windows, w)
	}
	if spec.Calendar == nil {
		s.period = byDur[spec.Period]
	} else {
		s.cal = newCalendarWindow(spec.Calendar, s.base)
	}
	for _, t := range spec.Tiers {
		min := spec.MinEvents
		if t.MinEvents > 0 {
			min = t.MinEvents
		}
		s.tiers = append(s.tiers, tierWindows{tier: t, long: byDur[t.Long], short: byDur[t.Short], minEvents: min})
	}
	for _, a := range spec.ExhaustionAlerts {
		s.exh = append(s.exh, byDur[a.Window])
	}
	s.finest = s.windows[0]
	for _, w := range s.windows {
		if w.res < s.finest.res {
			s.finest = w
		}
	}
	if spec.Objective == PercentileSlices {
		longest := durs[len(durs)-1]
		if spec.Calendar != nil {
			// A calendar period reaches back to the month's start.
			longest = max(longest, 32*24*time.Hour)
		}
		s.slices = newSliceState(spec, int64(opts.AllowedLateness), longest)
	} else if opts.Deltas {
		s.pend = &pendCounts{base: s.base, cur: -1}
	}
	s.fp = s.fingerprint(opts)
	return s
}

// fingerprint hashes what shapes the SLO's state, so a snapshot's state is
// restored only into an SLO that would have built the same.
func (s *sloState) fingerprint(opts Options) uint64 {
	sp := s.spec
	h := newFingerprint()
	h.int(int64(sp.Objective))
	h.int(int64(sp.Threshold))
	h.int(int64(math.Float64bits(sp.Target)))
	h.int(int64(sp.Period))
	if c := sp.Calendar; c != nil {
		h.int(int64(c.Unit))
		h.str(c.Location.String())
		h.int(int64(c.WeekStart))
	}
	if s.slices != nil {
		h.int(int64(sp.Slice))
		h.int(int64(math.Float64bits(sp.Percentile)))
		h.int(int64(sp.EmptySlices))
		h.int(int64(opts.AllowedLateness))
	}
	h.int(s.base)
	for _, w := range s.windows {
		h.int(int64(w.dur))
		h.int(w.res)
		h.int(w.n)
	}
	return h.sum()
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
	f = e.newFlow(strings.Clone(name))
	f.setLatency(e.newLatency(nil))
	return f
}

// lookup returns a tracked flow or nil, creating none.
func (e *Engine) lookup(name string) *flowState {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.flows[name]
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
		r.f.settle()
		r.f.mu.Unlock()
	}
	*r = flowRun{}
}

// markChanged puts the flow on the engine's changed list unless it is on
// it already.
func (f *flowState) markChanged() {
	if f.listed.Load() || !f.listed.CompareAndSwap(false, true) {
		return
	}
	e := f.engine
	e.changedMu.Lock()
	e.changed = append(e.changed, f)
	e.changedMu.Unlock()
}

// settle records the stage at the end of an Observe run while it holds a
// few latencies: recording them one by one costs the same now as later,
// and paying it on the ingest path, where receivers run in parallel, keeps
// it out of the evaluation tick, which is serial and decides pages. A
// stage that outgrew stageBuf is a histogram, whose merge costs its range
// of buckets however many events it holds, so it waits for a later slot
// or a read. f.mu must be held.
func (f *flowState) settle() {
	if f.staged && f.stageN <= len(f.stageBuf) {
		f.flushStage()
	}
}

// Observe counts events observed at now. Events are placed by their end
// time: ones after now are clamped to now (Stats.Future), ones older than the
// allowed lateness are kept out of the windows (Stats.TooLate).
func (e *Engine) Observe(now time.Time, evs []Event) {
	nowNs := now.UnixNano()
	oldest := nowNs - int64(e.opts.AllowedLateness)
	var events, late, tooLate, future, overflow uint64
	var r flowRun
	for i := range evs {
		ev := &evs[i]
		if r.f == nil || r.f.name != ev.Flow {
			r.end()
			if r.f = e.flow(ev.Flow); r.f == nil {
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

// observe adds one event at time t to the flow's histograms and SLOs; it
// reports whether the event was late: placed in a slot older than the
// newest of the finest window (for a flow without SLOs, older than the
// staged slot). f.mu must be held.
func (f *flowState) observe(now, t int64, ev *Event) (late bool) {
	d := int64(ev.Duration)
	base := f.lat.base
	switch {
	case f.staged && t >= f.stageStart && t-f.stageStart < base:
		f.stageAdd(d)
	case !f.staged || t >= f.stageStart+base:
		f.flushStage()
		k := floorDiv(t, base)
		f.stageK, f.stageStart, f.staged = k, k*base, true
		f.stageAdd(d)
	default:
		late = true
		f.recordLate(now, t, d)
	}
	for _, s := range f.slos {
		late = s.observe(now, t, ev)
	}
	return late
}

// recordLate records an event older than the staged slot straight into
// the histograms, the open slices and the pending delta.
func (f *flowState) recordLate(now, t, d int64) {
	f.lat.record(now, t, d)
	for _, s := range f.sliceSLOs {
		if now >= s.until {
			s.advance(now)
		}
		if h := s.slices.slot(t); h != nil {
			h.Record(d)
		}
	}
	if f.pend != nil {
		f.pend.record(t, d)
	}
}

// flushStage merges the staged slot into the histograms, the open slices
// and the pending delta. Everything that reads them (or judges a slice)
// calls it first. f.mu must be held.
func (f *flowState) flushStage() {
	if !f.staged {
		return
	}
	// First: judging slices below flushes the stage again.
	f.staged = false
	if f.stageN <= len(f.stageBuf) {
		f.addValues(f.stageK, f.stageBuf[:f.stageN])
	} else {
		f.addSlot(f.stageK, f.lat.base, &f.stage, true, f.sliceSLOs)
		if f.pend != nil {
			f.pend.merge(f.stageK, &f.stage)
		}
		f.stage.Reset()
	}
	f.stageN = 0
}

// stageAdd stages one latency: in stageBuf while it has room, then in the
// stage histogram. Merging a histogram costs its range of buckets in every
// level, so a sparse slot is cheaper to record value by value.
func (f *flowState) stageAdd(d int64) {
	switch {
	case f.stageN < len(f.stageBuf):
		f.stageBuf[f.stageN] = d
	case f.stageN == len(f.stageBuf):
		for _, v := range f.stageBuf {
			f.stage.Record(v)
		}
		f.stage.Record(d)
	default:
		f.stage.Record(d)
	}
	f.stageN++
}

// addValues records latencies of base slot k in the histograms, the open
// slices and the pending delta, like addSlot does for a histogram.
func (f *flowState) addValues(k int64, vs []int64) {
	if len(vs) == 0 {
		return
	}
	// Each value goes into a dozen or more histograms: map it to its
	// bucket once.
	var buf [len(f.stageBuf)]sketch.Prepared
	ds := buf[:0]
	for _, v := range vs {
		ds = append(ds, sketch.Prepare(v))
	}
	t := k * f.lat.base
	f.lat.advance(t)
	f.lat.recordSlot(k, ds)
	for _, s := range f.sliceSLOs {
		if t >= s.until {
			s.advance(t)
		}
		if sh := s.slices.slot(t); sh != nil {
			for _, d := range ds {
				sh.RecordPrepared(d)
			}
		}
	}
	if f.pend != nil {
		f.pend.find(k)
		h := f.pend.entries[f.pend.cur].h
		for _, d := range ds {
			h.RecordPrepared(d)
		}
	}
}

// addSlot merges h, the latencies of slot k of width base, into the
// histograms (when lat says they have the layout base comes from) and
// into the open slices of sliceSLOs.
func (f *flowState) addSlot(k, base int64, h *sketch.Histogram, lat bool, sliceSLOs []*sloState) {
	t := k * base
	if lat {
		f.lat.advance(t)
		f.lat.addSlot(k, h)
	}
	for _, s := range sliceSLOs {
		c := s.slices
		if c.length%base != 0 {
			continue // the slot would straddle two slices
		}
		// Slices that close by t are complete: their events came in
		// earlier slots. Advancing makes room for t's slice.
		if t >= s.until {
			s.advance(t)
		}
		if sh := c.slot(t); sh != nil {
			sh.Merge(h)
		}
	}
}

// observe adds one event at time t to the SLO; it reports whether the
// event was late: placed in a slot older than the newest of the finest
// window.
func (s *sloState) observe(now, t int64, ev *Event) (late bool) {
	if now >= s.until {
		s.advance(now)
	}
	if s.slices != nil {
		// The flow's stage feeds the slices.
		if ev.Duration > s.spec.Threshold {
			s.exemplar(ev)
		}
		return t < s.finest.headStart
	}
	bad := ev.Error || (s.spec.Objective == LatencyThreshold && ev.Duration > s.spec.Threshold)
	switch {
	case s.stage.total > 0 && t >= s.stageStart && t-s.stageStart < s.base:
	case s.stage.total == 0 || t >= s.stageStart+s.base:
		s.flush()
		s.stageK = floorDiv(t, s.base)
		s.stageStart = s.stageK * s.base
	default:
		s.addLate(t, bad)
		if bad {
			s.exemplar(ev)
		}
		return t < s.finest.headStart
	}
	s.stage.total++
	if bad {
		s.stage.bad++
		s.exemplar(ev)
	}
	return t < s.finest.headStart
}

// addLate counts an event older than the staged slot straight into the
// windows, the calendar period and the pending delta.
func (s *sloState) addLate(t int64, bad bool) {
	for _, w := range s.windows {
		w.add(t, bad)
	}
	c := counts{total: 1}
	if bad {
		c.bad = 1
	}
	if s.cal != nil {
		s.cal.add(t, c)
	}
	if s.pend != nil {
		s.pend.add(t, c)
	}
}

// flush adds the staged slot to the windows, the calendar period and the
// pending delta.
func (s *sloState) flush() {
	if s.stage.total == 0 {
		return
	}
	c := s.stage
	s.stage = counts{}
	s.addSlot(s.stageK, c)
	if s.pend != nil {
		s.pend.addSlot(s.stageK, c)
	}
}

// addSlot adds the counts of base slot k to every window and the calendar
// period; the windows must be advanced to k's start or later.
func (s *sloState) addSlot(k int64, c counts) {
	for _, w := range s.windows {
		w.addSlot(floorDiv(k, w.per), c)
	}
	if s.cal != nil {
		s.cal.addSlot(k, c)
	}
}

func (s *sloState) exemplar(ev *Event) {
	s.ex.add(Exemplar{TraceID: ev.TraceID, SpanID: ev.SpanID, End: ev.End, Duration: ev.Duration})
	s.exDirty = true
}

// advance moves every window to now, starts a new calendar period at its
// boundary and judges the slices closed by now.
func (s *sloState) advance(now int64) {
	s.flush()
	until := int64(math.MaxInt64)
	for _, w := range s.windows {
		w.advance(now)
		until = min(until, w.headStart+w.res)
	}
	if s.cal != nil {
		s.cal.advance(now)
		until = min(until, s.cal.end)
	}
	if c := s.slices; c != nil {
		if !c.born || now >= c.nextClose {
			s.flow.flushStage()
			if !c.born {
				s.bornDirty = true
				s.flow.markChanged()
			}
			horizon := now
			for _, w := range s.windows {
				horizon = min(horizon, w.start())
			}
			if s.cal != nil {
				horizon = min(horizon, s.cal.firstFull)
			}
			c.advance(now, horizon, s.placeSlice)
		}
		until = min(until, c.nextClose)
	}
	s.until = until
}

// placeSlice counts a judged slice at its close time at.
func (s *sloState) placeSlice(at int64, n counts) {
	for _, w := range s.windows {
		w.addSlot(w.slot(at), n)
	}
	if s.cal != nil {
		s.cal.add(at, n)
	}
}

// Evaluate returns every SLO's status at now, in spec order, in storage
// of its own.
func (e *Engine) Evaluate(now time.Time) []Status {
	return e.EvaluateInto(new(Evaluation), now)
}

// Evaluation is storage for the statuses of an evaluation, for
// EvaluateInto to reuse: writing thousands of statuses into fresh memory
// every tick costs more than computing them.
type Evaluation struct {
	statuses []Status
	tiers    []TierStatus
	lat      []Percentiles
	conds    []ConditionStatus
	ex       []Exemplar
}

// EvaluateInto is Evaluate writing into ev, whose previous statuses (and
// everything they point to) it overwrites.
func (e *Engine) EvaluateInto(ev *Evaluation, now time.Time) []Status {
	nowNs := now.UnixNano()
	e.firstEval.CompareAndSwap(noTime, nowNs)
	first := e.firstEval.Load()
	// One block each for every SLO's tiers, percentiles, conditions and
	// exemplars.
	var nt, nl, nc int
	for _, s := range e.slos {
		nt += len(s.tiers)
		nl += len(s.latIdx)
		nc += s.nconditions()
	}
	a := arena{
		tiers: grow(&ev.tiers, nt), lat: grow(&ev.lat, nl),
		conds: grow(&ev.conds, nc), ex: grow(&ev.ex, len(e.slos)*maxExemplars),
	}
	out := grow(&ev.statuses, len(e.slos))
	for i, s := range e.slos {
		s.flow.mu.Lock()
		out[i] = s.status(now, nowNs, first, &a)
		s.flow.mu.Unlock()
	}
	return out
}

// grow returns (*buf)[:n], reallocating *buf when it is too short.
func grow[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	return (*buf)[:n]
}

// arena is the storage an evaluation hands out to its statuses.
type arena struct {
	tiers []TierStatus
	lat   []Percentiles
	conds []ConditionStatus
	ex    []Exemplar
}

// take returns the next n elements of *buf, with capacity n.
func take[T any](buf *[]T, n int) []T {
	if n == 0 {
		return nil
	}
	out := (*buf)[:n:n]
	*buf = (*buf)[n:]
	return out
}

func (s *sloState) status(now time.Time, nowNs, firstEval int64, a *arena) Status {
	s.flow.flushStage()
	if nowNs >= s.until {
		s.advance(nowNs)
	} else {
		s.flush()
	}
	st := Status{SLO: s.spec, At: now, Tiers: take(&a.tiers, len(s.tiers))}
	if s.cal != nil {
		st.Period = s.cal.stats(s.budget)
		st.PeriodStart = time.Unix(0, s.cal.start)
		st.PeriodLength = time.Duration(s.cal.end - s.cal.start)
	} else {
		st.Period = s.period.stats(s.budget)
		st.PeriodStart = time.Unix(0, s.period.start())
		st.PeriodLength = s.spec.Period
	}
	st.BudgetLeft = 1 - st.Period.Burn
	st.Exemplars = s.ex.list(take(&a.ex, s.ex.n))
	for i, t := range s.tiers {
		ts := TierStatus{Tier: t.tier, Long: t.long.stats(s.budget), Short: t.short.stats(s.budget)}
		ts.Enough = ts.Long.Total >= t.minEvents && ts.Long.Total > 0
		ts.Firing = ts.Enough && ts.Long.Burn > t.tier.Factor && ts.Short.Burn > t.tier.Factor
		ts.Exemplars = s.ex.since(st.Exemplars, t.long.start())
		st.Tiers[i] = ts
	}
	st.Conditions = s.conditions(&st, nowNs, firstEval, take(&a.conds, s.nconditions())[:0])
	if len(s.latIdx) > 0 {
		pcts := s.flow.percentiles(nowNs)
		st.Latency = take(&a.lat, len(s.latIdx))
		for j, i := range s.latIdx {
			st.Latency[j] = pcts[i]
		}
	}
	return st
}

func (s *sloState) nconditions() int {
	n := len(s.spec.BudgetAlerts) + len(s.spec.ExhaustionAlerts)
	if s.spec.NoData > 0 {
		n++
	}
	return n
}

// conditions appends the budget, exhaustion and no-data alerts to out.
func (s *sloState) conditions(st *Status, now, firstEval int64, out []ConditionStatus) []ConditionStatus {
	sp := s.spec
	if cap(out) == 0 {
		return nil
	}
	consumed := 1 - st.BudgetLeft
	for _, a := range sp.BudgetAlerts {
		out = append(out, ConditionStatus{
			Name: a.Name, Kind: BudgetConsumed, Severity: a.Severity,
			Firing: consumed >= a.Consumed, Value: consumed, Threshold: a.Consumed,
			Exemplars: st.Exemplars,
		})
	}
	for i, a := range sp.ExhaustionAlerts {
		ws := s.exh[i].stats(s.budget)
		tte := TimeToExhaustion(st.BudgetLeft, ws.Burn, st.PeriodLength)
		out = append(out, ConditionStatus{
			Name: a.Name, Kind: Exhaustion, Severity: a.Severity,
			Firing: ws.Burn > 0 && tte <= a.Within && ws.Total >= sp.MinEvents,
			Value:  tte.Seconds(), Threshold: a.Within.Seconds(), Window: a.Window, Burn: ws.Burn,
			Exemplars: s.ex.since(st.Exemplars, s.exh[i].start()),
		})
	}
	if sp.NoData > 0 {
		since := s.flow.lastEvent.Load()
		if since == noTime {
			since = firstEval
		}
		silent := time.Duration(max(now-since, 0))
		out = append(out, ConditionStatus{
			Name: NoDataName, Kind: NoData, Severity: sp.NoDataSeverity,
			Firing: silent >= sp.NoData, Value: silent.Seconds(), Threshold: sp.NoData.Seconds(),
		})
	}
	return out
}

// percentiles returns the flow's percentiles at now. Each window's are
// computed again only when its histogram changed, so the flow's SLOs share
// them. f.mu must be held; the result is reused by the next call.
func (f *flowState) percentiles(now int64) []Percentiles {
	f.flushStage()
	f.lat.advance(now)
	f.pcts = f.lat.percentiles(f.pcts[:0])
	return f.pcts
}

// FlowPercentiles returns a flow's latency percentiles (of all its events,
// errors included) at now over each of its percentile windows, shortest
// first: Options.PercentileWindows (5m, 1h and 1d by default) and the
// windows of its SLOs' tiers. It returns nil for a flow the engine does
// not track.
//
// A window is cut into Options.PercentileSlots slots (12; half as many
// for windows of a day or longer) and covers [(head-n+1)·res, now] like
// the counting windows: it leaves out at most one slot of its oldest edge.
// Windows up to Options.FinePercentilesUpTo (every window by default) are
// within 1.083% of the exact nearest-rank value of the events they hold;
// longer ones within 4.33%. Counts are exact.
func (e *Engine) FlowPercentiles(flow string, now time.Time) []Percentiles {
	f := e.lookup(flow)
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.lat == nil {
		return nil
	}
	return slices.Clone(f.percentiles(now.UnixNano()))
}

// LastEvent returns the latest event time of a flow, and false when the flow
// has had no event (or is not tracked).
func (e *Engine) LastEvent(flow string) (time.Time, bool) {
	f := e.lookup(flow)
	if f == nil {
		return time.Time{}, false
	}
	t := f.lastEvent.Load()
	if t == noTime {
		return time.Time{}, false
	}
	return time.Unix(0, t), true
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

// exemplars are the newest bad events by event time, newest first; among
// equal times the later observed comes first.
type exemplars struct {
	n  int
	ex [maxExemplars]Exemplar
}

func (x *exemplars) add(e Exemplar) {
	i := 0
	for i < x.n && x.ex[i].End > e.End {
		i++
	}
	if i == maxExemplars {
		return
	}
	x.n = min(x.n+1, maxExemplars)
	copy(x.ex[i+1:x.n], x.ex[i:x.n-1])
	x.ex[i] = e
}

// list copies the exemplars into dst, which has room for them.
func (x *exemplars) list(dst []Exemplar) []Exemplar {
	if x.n == 0 {
		return nil
	}
	return dst[:copy(dst, x.ex[:x.n])]
}

// since returns the prefix of list (newest first) with event times at or
// after start.
func (x *exemplars) since(list []Exemplar, start int64) []Exemplar {
	n := 0
	for n < len(list) && list[n].End >= start {
		n++
	}
	if n == 0 {
		return nil
	}
	return list[:n:n]
}

// fingerprint is 64-bit FNV-1a.
type fingerprint struct{ h uint64 }

func newFingerprint() fingerprint { return fingerprint{h: 14695981039346656037} }

func (f *fingerprint) int(v int64) {
	for i := range 8 {
		f.h ^= uint64(byte(v >> (8 * i)))
		f.h *= 1099511628211
	}
}

func (f *fingerprint) str(s string) {
	f.int(int64(len(s)))
	for i := range len(s) {
		f.h ^= uint64(s[i])
		f.h *= 1099511628211
	}
}

func (f *fingerprint) sum() uint64 { return f.h }
