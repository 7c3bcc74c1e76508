package slo

import "time"

// calendarWindow counts a calendar period's budget: from the start of the
// current month or week in its zone to now, exact to the SLO's base slot,
// and empty again at each boundary. Counts are a plain sum, not a ring: the
// period only grows until it resets.
type calendarWindow struct {
	unit      CalendarUnit
	loc       *time.Location
	weekStart time.Weekday
	base      int64
	// start and end bound the current period; firstFull is the first base
	// slot boundary at or after start. An event counts when its base slot
	// starts at or after firstFull, so a period boundary that is not on a
	// slot boundary (a zone offset finer than the base) leaves out the
	// partial slot, like a rolling window leaves out its oldest edge, and an
	// event and a delta of the same slot agree.
	start, end, firstFull int64
	sum                   counts
	// events are the requests of a time-slice SLO's judged slices in the
	// period (see windowEvents); slices says the SLO has them.
	events uint64
	slices bool
}

func newCalendarWindow(c *Calendar, base int64) *calendarWindow {
	loc := c.Location
	if loc == nil {
		loc = time.UTC
	}
	return &calendarWindow{unit: c.Unit, loc: loc, weekStart: c.WeekStart, base: base}
}

// bounds returns the calendar period holding now: [start, end). time.Date
// normalises month lengths and DST, so a March in Berlin is 31 days less an
// hour long.
func (c *calendarWindow) bounds(now int64) (start, end int64) {
	t := time.Unix(0, now).In(c.loc)
	y, m, d := t.Date()
	var s, e time.Time
	switch c.unit {
	case Week:
		back := (int(t.Weekday()) - int(c.weekStart) + 7) % 7
		s = time.Date(y, m, d-back, 0, 0, 0, 0, c.loc)
		e = time.Date(y, m, d-back+7, 0, 0, 0, 0, c.loc)
	default:
		s = time.Date(y, m, 1, 0, 0, 0, 0, c.loc)
		e = time.Date(y, m+1, 1, 0, 0, 0, 0, c.loc)
	}
	return s.UnixNano(), e.UnixNano()
}

// advance starts a new period, empty, once now reaches the current one's end.
// Time does not run backwards here: an earlier now changes nothing.
func (c *calendarWindow) advance(now int64) {
	if now < c.end {
		return
	}
	c.start, c.end = c.bounds(now)
	c.firstFull = -floorDiv(-c.start, c.base) * c.base
	c.sum = counts{}
	c.events = 0
}

// add counts an event (or a judged slice) at time t, at or before now.
func (c *calendarWindow) add(t int64, n counts) {
	if t >= c.firstFull {
		c.sum.add(n)
	}
}

// reviseSlice replaces a judged slice's counts old, counted at time t, with
// new (see window.reviseSlice). A slice counted in an earlier period
// (t before firstFull) is left out of this one either way.
func (c *calendarWindow) reviseSlice(t int64, old, new sliceCount) {
	if t >= c.firstFull {
		c.sum.sub(old.n)
		c.sum.add(new.n)
		c.events += new.events - old.events
	}
}

// addSlot adds the counts of the base slot k.
func (c *calendarWindow) addSlot(k int64, n counts) {
	if k*c.base < c.firstFull || k*c.base >= c.end {
		return
	}
	c.sum.add(n)
}

func (c *calendarWindow) stats(budget float64) WindowStats {
	events := c.sum.total
	if c.slices {
		events = c.events
	}
	return WindowStats{Window: time.Duration(c.end - c.start), Total: c.sum.total, Bad: c.sum.bad, Events: events, Burn: burnRate(c.sum, budget)}
}
