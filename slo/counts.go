package slo

import "time"

// Counts are events a producer counted rather than saw one by one: Good
// good and Bad bad events of a flow at one time. Metric SLIs give them (a
// counter's increase between two data points), as would anything that
// pre-aggregates. They carry no latency and no trace: they add to the
// flow's and its SLOs' counts exactly as Good+Bad events would, and to
// nothing that needs a latency (percentiles, time slices) or an exemplar.
type Counts struct {
	Flow string
	// Time is when the events happened, in Unix nanoseconds: a data
	// point's time.
	Time      int64
	Good, Bad uint64
}

// ObserveCounts counts weighted events observed at now, placed by their
// time like Observe's events: after now clamped to now (Stats.Future),
// older than the allowed lateness kept out of the windows
// (Stats.TooLate). Engine counters and flow counters add Good+Bad events
// and Bad errors, so deltas, snapshots and replays carry them as they
// carry events. Every event-based SLO of the flow counts the Bad events
// bad and the Good ones good, whatever its objective (a producer of counts
// judged them already); a time-slice SLO, which needs latencies, counts
// none of them.
func (e *Engine) ObserveCounts(now time.Time, cs []Counts) {
	nowNs := now.UnixNano()
	oldest := nowNs - int64(e.opts.AllowedLateness)
	var events, late, tooLate, future, overflow uint64
	for i := range cs {
		c := &cs[i]
		n := c.Good + c.Bad
		if n == 0 {
			continue
		}
		f := e.flow(c.Flow)
		if f == nil {
			overflow += n
			continue
		}
		events += n
		t := c.Time
		switch {
		case t > nowNs:
			future += n
			t = nowNs
		case t < oldest:
			tooLate += n
		}
		f.events.Add(n)
		f.errors.Add(c.Bad)
		for {
			cur := f.lastEvent.Load()
			if t <= cur || f.lastEvent.CompareAndSwap(cur, t) {
				break
			}
		}
		if t >= oldest {
			f.mu.Lock()
			wasLate := false
			for _, s := range f.slos {
				if s.observeCounts(nowNs, t, counts{total: n, bad: c.Bad}) {
					wasLate = true
				}
			}
			f.mu.Unlock()
			if wasLate {
				late += n
			}
		}
		// After the counters: see cut.
		f.markChanged()
	}
	e.events.Add(events)
	e.late.Add(late)
	e.tooLate.Add(tooLate)
	e.future.Add(future)
	e.overflow.Add(overflow)
}

// observeCounts adds c, events at time t, to the SLO as observe adds one
// event; it reports whether they were late. f.mu must be held.
func (s *sloState) observeCounts(now, t int64, c counts) (late bool) {
	if now >= s.until {
		s.advance(now)
	}
	if s.slices != nil {
		return false
	}
	s.cum.add(c)
	switch {
	case s.stage.total > 0 && t >= s.stageStart && t-s.stageStart < s.base:
	case s.stage.total == 0 || t >= s.stageStart+s.base:
		s.flush()
		s.stageK = floorDiv(t, s.base)
		s.stageStart = s.stageK * s.base
	default:
		// Older than the staged slot: straight into the windows, the
		// calendar period and the pending delta.
		s.addSlot(floorDiv(t, s.base), c)
		if s.pend != nil {
			s.pend.add(t, c)
		}
		return t < s.recent
	}
	s.stage.add(c)
	return t < s.recent
}
