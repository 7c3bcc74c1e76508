package slo

import (
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/slo/sketch"
)

// Aggregates are how agents scale the engine out: an agent's Aggregator
// counts its spans per flow and per slot of a fixed width, and a gateway's
// Engine.Merge adds those slots to its windows as if it had observed the
// events itself. Nothing in them is averaged: slot counts add, histograms
// add bucket by bucket, and each SLO's good/bad counts are judged by the
// agent against the same spec. When the agent's slot width divides the
// gateway's base slots (it does when both load the same specs: Width is
// their greatest common divisor), every count lands in the slot a single
// daemon fed all the spans would have put it in, so counts and burn rates
// are equal and percentiles come from the same buckets. Two edges differ
// from a single daemon: a gateway judges a slot too late by the slot's end
// against its own clock, and begins an SLO's time slices with the slice of
// its first merge rather than of the first event.

// Aggregate is what an agent counted of one flow since its previous cut.
type Aggregate struct {
	Flow string
	// Width is the slot width in nanoseconds; every slot's Start is a
	// multiple of it.
	Width int64
	// Slots are the flow's slots with events, oldest first.
	Slots []AggregateSlot
	// TooLate are events that were older than the agent's allowed
	// lateness when it saw them: counted in the flow's totals, in no
	// window, as a single daemon does.
	TooLate AggregateCounts
	// Last is the newest event time, in Unix nanoseconds (0 for none), for
	// no-data alerts.
	Last int64
	// SLOs are the flow's SLOs as the agent judged its events.
	SLOs []AggregateSLO
}

// AggregateCounts are events and the errors among them.
type AggregateCounts struct {
	Events, Errors uint64
}

// AggregateSlot is one slot of a flow: the latencies of its events (errors
// included), whose count is the slot's events, and its errors.
type AggregateSlot struct {
	// Start is the slot's first instant, in Unix nanoseconds.
	Start   int64
	Errors  uint64
	Latency *sketch.Histogram
}

// AggregateSLO is one SLO's share of an Aggregate.
type AggregateSLO struct {
	Name string
	// Shape is the fingerprint of what decides the SLO's good and bad
	// events (its objective, threshold, slices and the flow's rules): a
	// gateway merges the counts only into an SLO of the same name and
	// shape.
	Shape uint64
	// Counts are the good/bad counts per slot of an event-based SLO, oldest
	// first; a time-slice SLO has none (the gateway judges its slices from
	// the flow's histograms).
	Counts []SlotCounts
	// Exemplars are the newest bad events (for a time-slice SLO, the
	// newest slower than its threshold), newest first.
	Exemplars []Exemplar
}

// SlotCounts are an SLO's counts of one slot.
type SlotCounts struct {
	Start      int64
	Total, Bad uint64
}

// MergeStats say what Merge did with aggregates beside counting them.
type MergeStats struct {
	// Events were merged into a known flow (TooLate and Future
	// included); Overflow of flows past MaxFlows.
	Events, TooLate, Future, Overflow uint64
	// Misaligned are slots whose width does not divide the gateway's
	// base slot, placed at the start of the base slot holding their start:
	// counted exactly, but up to a slot's width early in time.
	Misaligned uint64
	// Unmatched are events that an SLO of the gateway got no verdict for:
	// the agent sent none of that name and shape (its specs differ).
	Unmatched uint64
}

// Check says whether an aggregate is well formed: what a gateway must know
// before merging one from the network.
func (a *Aggregate) Check() error {
	if a.Flow == "" {
		return fmt.Errorf("aggregate: empty flow name")
	}
	if a.Width <= 0 {
		return fmt.Errorf("aggregate %q: slot width %d is not positive", a.Flow, a.Width)
	}
	if a.TooLate.Errors > a.TooLate.Events {
		return fmt.Errorf("aggregate %q: %d late errors of %d events", a.Flow, a.TooLate.Errors, a.TooLate.Events)
	}
	for _, s := range a.Slots {
		if s.Start%a.Width != 0 {
			return fmt.Errorf("aggregate %q: slot start %d is not a multiple of the width %d", a.Flow, s.Start, a.Width)
		}
		if s.Latency == nil || s.Errors > s.Latency.Count() {
			return fmt.Errorf("aggregate %q: slot %s has more errors than events", a.Flow, time.Unix(0, s.Start).UTC().Format(time.RFC3339))
		}
	}
	for _, s := range a.SLOs {
		for _, c := range s.Counts {
			if c.Start%a.Width != 0 || c.Bad > c.Total {
				return fmt.Errorf("aggregate %q: slo %q: slot %d: %d bad of %d", a.Flow, s.Name, c.Start, c.Bad, c.Total)
			}
		}
	}
	return nil
}

// Merge adds agents' aggregates to the engine at now, as Observe adds
// events: slots are placed by their start (a slot after now at now,
// Stats.Future; one that ended more than the allowed lateness ago in no
// window, Stats.TooLate), the flow's counters, histograms and time slices
// take the slots, and each event-based SLO takes the counts the agent
// judged for it. With Options.Deltas what Merge adds goes into the next
// AppendDelta, so a gateway writes it ahead like its own events.
// Aggregates must pass Check. Stats.Late is not counted for them: which
// events came late is the agents' to know.
func (e *Engine) Merge(now time.Time, aggs []Aggregate) MergeStats {
	var st MergeStats
	nowNs := now.UnixNano()
	oldest := nowNs - int64(e.opts.AllowedLateness)
	var sp sketch.Sparse
	for i := range aggs {
		a := &aggs[i]
		n := a.TooLate.Events
		for _, s := range a.Slots {
			n += s.Latency.Count()
		}
		f := e.flow(a.Flow)
		if f == nil {
			st.Overflow += n
			continue
		}
		st.Events += n
		st.TooLate += a.TooLate.Events
		e.mergeFlow(f, a, nowNs, oldest, &st, &sp)
	}
	e.events.Add(st.Events)
	e.tooLate.Add(st.TooLate)
	e.future.Add(st.Future)
	e.overflow.Add(st.Overflow)
	return st
}

// place says where a slot starting at start goes: at time t, or nowhere
// (in == false) when it ended before oldest.
func place(start, width, now, oldest int64) (t int64, in, future bool) {
	switch {
	case start > now:
		return now, true, true
	case start+width-1 < oldest:
		return start, false, false
	}
	return start, true, false
}

func (e *Engine) mergeFlow(f *flowState, a *Aggregate, now, oldest int64, st *MergeStats, sp *sketch.Sparse) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// What the gateway observed itself goes in first, as at a read; the
	// SLOs move to now first, as Observe moves them, so time slices begin
	// where they would have.
	f.flushStage()
	for _, s := range f.slos {
		s.flush()
		if now >= s.until {
			s.advance(now)
		}
	}
	events, errors := a.TooLate.Events, a.TooLate.Errors
	var placed uint64 // events in the windows, which each SLO must judge
	base := f.lat.base
	aligned := base%a.Width == 0
	for _, s := range f.slos {
		aligned = aligned && s.base%a.Width == 0
	}
	for _, sl := range a.Slots {
		n := sl.Latency.Count()
		events += n
		errors += sl.Errors
		t, in, future := place(sl.Start, a.Width, now, oldest)
		if future {
			st.Future += n
		}
		if !in {
			st.TooLate += n
			continue
		}
		if !aligned {
			st.Misaligned++
		}
		placed += n
		k := floorDiv(t, base)
		f.addMerged(k, sl.Latency, sp)
	}
	f.events.Add(events)
	f.errors.Add(errors)
	if a.Last != 0 {
		last := min(a.Last, now)
		for {
			cur := f.lastEvent.Load()
			if last <= cur || f.lastEvent.CompareAndSwap(cur, last) {
				break
			}
		}
	}
	for _, s := range f.slos {
		as := findAggregateSLO(a.SLOs, s)
		if as == nil {
			if s.slices == nil {
				st.Unmatched += placed
			}
			continue
		}
		for _, ex := range as.Exemplars {
			s.ex.add(ex)
			s.exDirty = true
		}
		if s.slices != nil {
			continue
		}
		for _, c := range as.Counts {
			t, in, _ := place(c.Start, a.Width, now, oldest)
			if !in {
				continue
			}
			k := floorDiv(t, s.base)
			cs := counts{total: c.Total, bad: c.Bad}
			s.addSlot(k, cs)
			s.cum.add(cs)
			if s.pend != nil {
				s.pend.addSlot(k, cs)
			}
		}
	}
	// After the counters: see cut.
	f.markChanged()
}

// addMerged is addSlot for a merged slot k: its latencies go into every
// level and window through sp, at the cost of their non-empty buckets
// (an agent's slot of a quiet flow holds a few values far apart, whose
// range Merge would walk a dozen times), and so does the pending delta;
// the open slices take h.
func (f *flowState) addMerged(k int64, h *sketch.Histogram, sp *sketch.Sparse) {
	h.Sparse(sp)
	l := f.lat
	l.advance(k * l.base)
	for _, lv := range l.levels {
		kl := floorDiv(k, lv.per)
		if kl <= lv.head-lv.n || kl > lv.head {
			continue
		}
		lv.slot(ring(kl, lv.n)).MergeSparse(sp)
		for _, w := range lv.windows {
			if kl > lv.head-w.n {
				w.total.MergeSparse(sp)
				w.dirty = true
			}
		}
	}
	f.addSlot(k, l.base, h, false, f.sliceSLOs)
	if p := f.pend; p != nil {
		p.find(k)
		p.entries[p.cur].h.MergeSparse(sp)
	}
}

// findAggregateSLO returns the part of as for s: same name, same shape.
func findAggregateSLO(as []AggregateSLO, s *sloState) *AggregateSLO {
	for i := range as {
		if as[i].Name == s.spec.Name && as[i].Shape == s.shape {
			return &as[i]
		}
	}
	return nil
}
