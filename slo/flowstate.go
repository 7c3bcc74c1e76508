package slo

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// flowState is a flow's state. Its fields are laid out by who reads them,
// a 64-byte line at a time (TestStateLayout): observing an event
// reads the first two lines and the stage buffer's; a delta's cut reads
// the first three. With thousands of flows each line is a cache miss.
type flowState struct {
	// Line 0.
	name           string
	events, errors atomic.Uint64
	// lastEvent is the latest event time seen (noTime before any), for
	// no-data alerts.
	lastEvent atomic.Int64
	// mu guards everything below and the state of slos.
	mu   sync.Mutex
	base int64      // lat.base
	pend *pendHists // nil without Options.Deltas

	// Line 1.
	slos []*sloState
	// The stage (stageBuf, then stage, both after line 2) holds the
	// latencies of base slot stageK (when staged): an event of the current
	// slot costs an append to stageBuf (or, past 64, a Record into stage),
	// and the slot goes into every level, window total and open slice when
	// a later slot begins or before anything reads them (flushStage). A
	// delta takes what it holds without flushing it (stageToPend, or as
	// values: stagedAsValues): with many flows each batch brings a flow an
	// event or two, and putting them into a dozen histograms per batch
	// costs a cache miss per histogram, where a flush per evaluation puts
	// a second's events in at once.
	stageK     int64
	stageStart int64
	stageN     int // latencies staged: in stageBuf while they fit
	// inPend of them are in the pending delta or a delta already; past
	// stageBuf, every staged latency is (stageAdd records it there too).
	inPend int
	staged bool
	// listed says the flow is on the engine's changed list; engine and
	// idx (the flow's place in engine.flowList) let it put itself there.
	listed atomic.Bool

	// Line 2.
	// reported are the counters as of the last delta or snapshot (written
	// under the engine's persistMu as well).
	reportedEvents, reportedErrors uint64
	reportedLast                   int64
	engine                         *Engine
	idx                            int
	lat                            *latency
	latFP                          uint64 // lat.fp
	_                              [8]byte

	stageBuf [64]int64
	stage    sketch.Histogram
	// sliceSLOs are the PercentileSlices SLOs among slos.
	sliceSLOs []*sloState
	// pcts is storage for percentiles.
	pcts []Percentiles
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

// setLatency gives the flow its histograms. f.mu must be held.
func (f *flowState) setLatency(l *latency) {
	f.lat, f.base, f.latFP = l, l.base, l.fp
	f.stage.Reset()
	f.staged, f.stageN, f.inPend = false, 0, 0
	if f.pend != nil {
		f.pend.reset()
		f.pend.base = l.base
	}
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

// markChanged puts the flow on the engine's changed list unless it is on
// it already.
func (f *flowState) markChanged() {
	if f.listed.Load() || !f.listed.CompareAndSwap(false, true) {
		return
	}
	e := f.engine
	e.changedMu.Lock()
	e.changed = append(e.changed, listedFlow{f.idx, f})
	e.changedMu.Unlock()
}

// observe adds one event at time t to the flow's histograms and SLOs; it
// reports whether the event was late: placed in a slot older than the
// newest of the finest window (for a flow without SLOs, older than the
// staged slot). f.mu must be held.
func (f *flowState) observe(now, t int64, ev *Event) (late bool) {
	d := int64(ev.Duration)
	base := f.base
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
		p := [1]sketch.Prepared{sketch.Prepare(d)}
		s.recordSlice(t, p[:])
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
		f.addValues(f.stageK, f.stageBuf[:f.stageN], f.inPend)
	} else {
		f.addSlot(f.stageK, f.lat.base, &f.stage, true, f.sliceSLOs)
		f.stage.Reset()
	}
	f.stageN, f.inPend = 0, 0
}

// stageToPend puts the staged latencies that are not in the pending delta
// yet into it, leaving them staged. f.mu must be held.
func (f *flowState) stageToPend() {
	if !f.staged || f.pend == nil || f.inPend == f.stageN {
		return
	}
	f.pend.find(f.stageK)
	h := f.pend.entries[f.pend.cur].h
	for _, v := range f.stageBuf[f.inPend:f.stageN] {
		h.Record(v)
	}
	f.inPend = f.stageN
}

// stageAdd stages one latency: in stageBuf while it has room, then in the
// stage histogram. Merging a histogram costs its range of buckets in every
// level, so a sparse slot is cheaper to record value by value. A busy
// slot's latencies go into the pending delta as they come: they would
// otherwise have to wait for the flush, as a histogram can only be merged
// whole.
func (f *flowState) stageAdd(d int64) {
	switch {
	case f.stageN < len(f.stageBuf):
		f.stageBuf[f.stageN] = d
	case f.stageN == len(f.stageBuf):
		f.stageToPend()
		for _, v := range f.stageBuf {
			f.stage.Record(v)
		}
		f.stage.Record(d)
		f.recordPend(d)
	default:
		f.stage.Record(d)
		f.recordPend(d)
	}
	f.stageN++
}

// recordPend records a latency of the staged slot in the pending delta.
func (f *flowState) recordPend(d int64) {
	if f.pend != nil {
		f.pend.find(f.stageK)
		f.pend.entries[f.pend.cur].h.Record(d)
		f.inPend = f.stageN + 1
	}
}

// addValues records latencies of base slot k in the histograms and the
// open slices, and those from the pend'th on in the pending delta, like
// addSlot does for a histogram.
func (f *flowState) addValues(k int64, vs []int64, pend int) {
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
		s.recordSlice(t, ds)
	}
	if f.pend != nil && pend < len(ds) {
		f.pend.find(k)
		h := f.pend.entries[f.pend.cur].h
		for _, d := range ds[pend:] {
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
		s.mergeSlice(t, h)
	}
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
