package slo

import (
	"math"
	"slices"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

type sloState struct {
	// Fields are laid out by who reads them, a 64-byte line at a time
	// (TestStateLayout): with thousands of flows an event's SLO is cold
	// memory, and each line costs a miss. Observing an event reads lines
	// 0 and 1, a delta's cut lines 0 to 2.
	//
	// Line 0. until is the earliest time at which advance has work: the
	// end of the newest slot of some window, a calendar boundary or a
	// slice's close.
	until  int64
	slices *sliceState
	// badOver is the duration over which an event is bad: the threshold
	// of a latency SLO, the largest duration otherwise.
	badOver int64
	base    int64 // every window's slot width is a multiple of it
	// stage holds the counts of base slot stageK (when stage.total > 0),
	// added to every window when a later slot begins or before anything
	// reads them, so an event of the current slot costs one increment.
	stage      counts
	stageK     int64
	stageStart int64

	// Line 1. recent is where the newest slot of the finest window began,
	// as of the last advance: an event before it is late.
	recent int64
	// cum are the events counted into the windows since the SLO's state
	// began, never decreasing: kept in snapshots and added up again from
	// replayed deltas, so a restart or reload carries them. Status.Counted
	// shows them; none for a time-slice SLO.
	cum counts
	// inPend is the part of stage a delta has taken (stageToPend, or
	// directly: stagedDirect).
	inPend counts
	pend   *pendCounts // nil without Options.Deltas or for slices
	// fp says what the state's layout is (see fingerprint) and shape what
	// its counts mean (see shapeFingerprint).
	fp uint64
	// exDirty, bornDirty and sinceDirty say the exemplars changed, the
	// slices began, or since was set, since the last delta.
	exDirty, bornDirty, sinceDirty bool

	// Line 2. name is spec.Name, kept with the engine's other names
	// (NewEngine).
	name  string
	shape uint64
	// since is the time of the engine's first evaluation of the SLO
	// (noTime before), kept across restarts with its state: tiers warm up
	// from it. An SLO added, or whose state a restart dropped, starts
	// again.
	since int64
	spec  *Spec
	flow  *flowState
	// judgeAt is when a read has time slices to judge: the end of the
	// first one without a verdict, or at once when one is dirty; never
	// for an SLO without slices. Kept in the SLO, so that a read of an
	// SLO with nothing to judge does not touch its slices.
	judgeAt int64

	budget  float64 // 1 - target
	windows []*window
	period  *window // nil for a calendar period
	cal     *calendarWindow
	finest  *window // the window with the narrowest slots
	tiers   []tierWindows
	exh     []*window // the window of each ExhaustionAlert
	ex      exemplars
	// latIdx are the flow's percentile windows of the tiers, shortest first.
	latIdx []int
}

type tierWindows struct {
	tier        Tier
	long, short *window
	minEvents   uint64
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

func newSLOState(spec *Spec, f *flowState, opts Options) *sloState {
	s := &sloState{spec: spec, name: spec.Name, flow: f, budget: 1 - spec.Target, since: noTime, judgeAt: math.MaxInt64, badOver: math.MaxInt64}
	if spec.Objective == LatencyThreshold {
		s.badOver = int64(spec.Threshold)
	}
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
	// The windows in one block: an evaluation reads them all. Their rings
	// come with the first event (window.slotRing).
	ws := make([]window, len(durs))
	var n int64
	for i, d := range durs {
		ws[i] = window{dur: d, res: res[i], per: res[i] / s.base, n: windowSlots(d, res[i])}
		n += ws[i].n
	}
	// A slice SLO's windows count requests beside slices.
	var events []uint64
	var evs []windowEvents
	if spec.Objective == PercentileSlices {
		events, evs = make([]uint64, n), make([]windowEvents, len(ws))
	}
	for i := range ws {
		w := &ws[i]
		if evs != nil {
			w.ev = &evs[i]
			w.ev.slots, events = events[:w.n:w.n], events[w.n:]
		}
		byDur[w.dur] = w
		s.windows = append(s.windows, w)
	}
	if spec.Calendar == nil {
		s.period = byDur[spec.Period]
	} else {
		s.cal = newCalendarWindow(spec.Calendar, s.base)
		s.cal.slices = spec.Objective == PercentileSlices
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
	s.shape = s.shapeFingerprint(opts)
	s.fp = s.fingerprint()
	return s
}

// fingerprintV1 is the fingerprint encoding version 1 wrote, with the
// target in it, so that its snapshots and deltas still restore.
func (s *sloState) fingerprintV1(opts Options) uint64 {
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

// shapeFingerprint hashes what decides which events an SLO counts as good
// and bad: the objective, its threshold and its slices. State is carried
// across spec changes only between SLOs with the same shape; the target,
// tiers and period are not in it, as the counts do not depend on them.
func (s *sloState) shapeFingerprint(opts Options) uint64 {
	sp := s.spec
	h := newFingerprint()
	h.int(int64(sp.Source))
	h.int(int64(sp.Objective))
	h.int(int64(sp.Threshold))
	if s.slices != nil {
		h.int(int64(sp.Slice))
		h.int(int64(math.Float64bits(sp.Percentile)))
		h.int(int64(sp.EmptySlices))
		h.int(int64(opts.AllowedLateness))
	}
	return h.sum()
}

// fingerprint hashes the shape and the layout of the SLO's state (its
// windows, period and calendar), so a snapshot's state is restored as it is
// only into an SLO that would have built the same; one of the same shape
// and another layout gets its windows rebuilt (see rebin).
func (s *sloState) fingerprint() uint64 {
	sp := s.spec
	h := newFingerprint()
	h.int(int64(s.shape))
	h.int(int64(sp.Period))
	if c := sp.Calendar; c != nil {
		h.int(int64(c.Unit))
		h.str(c.Location.String())
		h.int(int64(c.WeekStart))
	}
	h.int(s.base)
	for _, w := range s.windows {
		h.int(int64(w.dur))
		h.int(w.res)
		h.int(w.n)
	}
	return h.sum()
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
		return t < s.recent
	}
	bad := ev.Error || int64(ev.Duration) > s.badOver
	s.cum.total++
	if bad {
		s.cum.bad++
	}
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
		return t < s.recent
	}
	s.stage.total++
	if bad {
		s.stage.bad++
		s.exemplar(ev)
	}
	return t < s.recent
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
	c.sub(s.inPend)
	if s.pend != nil && c.total > 0 {
		s.pend.addSlot(s.stageK, c)
	}
	s.inPend = counts{}
}

// stagedDirect says the next delta takes what is staged and in no delta
// yet as its one entry for the SLO, as it is, rather than through the
// pending delta (whose list is one more cache miss to fill and clear):
// when nothing else is pending.
func (s *sloState) stagedDirect() bool {
	return s.pend != nil && len(s.pend.entries) == 0 && s.stage.total != s.inPend.total
}

// stageToPend puts what is staged and not in the pending delta yet into
// it, leaving it staged: a delta is cut for every batch, and adding a
// batch's event or two to every window of each of thousands of SLOs costs
// a cache miss per window, where a flush per evaluation adds a second's
// events at once.
func (s *sloState) stageToPend() {
	if s.pend == nil || s.stage.total == s.inPend.total {
		return
	}
	c := s.stage
	c.sub(s.inPend)
	s.pend.addSlot(s.stageK, c)
	s.inPend = s.stage
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
	s.recent = s.finest.headStart
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
		s.noteSlices()
	}
	s.until = until
}

// placeSlice counts slice k's verdict new, in place of old, at the
// slice's last instant in every window and the calendar period.
func (s *sloState) placeSlice(k int64, old, new sliceCount) {
	at := s.slices.at(k)
	for _, w := range s.windows {
		w.reviseSlice(w.slot(at), old, new)
	}
	if s.cal != nil {
		s.cal.reviseSlice(at, old, new)
	}
}

// stats returns a window's counts and burn rate: for a time-slice SLO,
// Events are the requests of its slices.
func (s *sloState) stats(w *window) WindowStats {
	ws := w.stats(s.budget)
	if s.slices != nil {
		ws.Events = w.ev.sum
	}
	return ws
}

// read brings the SLO to now for a read (an evaluation or a snapshot):
// everything staged is counted, the windows are advanced, and the time
// slices that have ended are judged.
func (s *sloState) read(now int64) {
	s.flow.flushStage()
	if now >= s.until {
		s.advance(now)
	} else {
		s.flush()
	}
	if now >= s.judgeAt {
		s.judgeSlices(now)
	}
}

// judgeSlices judges the time slices that have ended by now, and the dirty
// ones again; the SLO must have been read at now.
func (s *sloState) judgeSlices(now int64) {
	s.slices.judge(now, s.placeSlice)
	s.noteSlices()
}

// noteSlices sets judgeAt from the slices' state.
func (s *sloState) noteSlices() {
	switch c := s.slices; {
	case c == nil || !c.born:
		s.judgeAt = math.MaxInt64
	case c.dirty:
		s.judgeAt = math.MinInt64
	default:
		s.judgeAt = (c.judged + 1) * c.length
	}
}

// recordSlice adds latencies ds, which ended at t, to their time slice.
func (s *sloState) recordSlice(t int64, ds []sketch.Prepared) {
	if s.slices.record(t, ds) {
		s.judgeAt = math.MinInt64
	}
}

// mergeSlice adds the latencies in h, which ended at t, to their slice.
func (s *sloState) mergeSlice(t int64, h *sketch.Histogram) {
	if s.slices.merge(t, h) {
		s.judgeAt = math.MinInt64
	}
}
