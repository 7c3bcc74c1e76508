package slo

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return loc
}

func calendarSpec(c *Calendar) Spec {
	return Spec{Name: "cal", Flow: "f", Objective: Availability, Target: 0.99, Calendar: c, MinEvents: 1}
}

// TestCalendarMonthBoundary: the budget of a month in Berlin resets at
// local midnight of the 1st (23:00 UTC the day before), and a late event of
// the old month does not count in the new one.
func TestCalendarMonthBoundary(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	e := mustEngine(t, []Spec{calendarSpec(&Calendar{Unit: Month, Location: berlin})}, Options{})
	midnight := time.Date(2026, time.November, 1, 0, 0, 0, 0, berlin)
	if want := time.Date(2026, time.October, 31, 23, 0, 0, 0, time.UTC); !midnight.Equal(want) {
		t.Fatalf("midnight = %v, want %v", midnight, want)
	}
	before := midnight.Add(-2 * time.Second)
	e.Observe(before, []Event{ev("f", before, true), ev("f", before, false)})
	st := e.Evaluate(midnight.Add(-time.Nanosecond))[0]
	if st.Period.Total != 2 || st.Period.Bad != 1 {
		t.Errorf("October: period %d bad of %d, want 1 of 2", st.Period.Bad, st.Period.Total)
	}
	// October 2026 in Berlin is 31 days and the hour DST gives back.
	octStart := time.Date(2026, time.October, 1, 0, 0, 0, 0, berlin)
	if !st.PeriodStart.Equal(octStart) || st.PeriodLength != 31*24*time.Hour+time.Hour || st.Period.Window != st.PeriodLength {
		t.Errorf("October: start %v length %v window %v, want %v and 745h", st.PeriodStart, st.PeriodLength, st.Period.Window, octStart)
	}

	after := midnight.Add(time.Second)
	e.Observe(after, []Event{ev("f", after, false)})
	// Within the allowed lateness, an event that ended a second before
	// midnight arrives after it: it belongs to October.
	e.Observe(midnight.Add(30*time.Second), []Event{ev("f", midnight.Add(-time.Second), true)})
	st = e.Evaluate(midnight.Add(time.Minute))[0]
	if st.Period.Total != 1 || st.Period.Bad != 0 || st.BudgetLeft != 1 {
		t.Errorf("November: period %d bad of %d, budget left %v, want 0 of 1 and 1", st.Period.Bad, st.Period.Total, st.BudgetLeft)
	}
	if !st.PeriodStart.Equal(midnight) || st.PeriodLength != 30*24*time.Hour {
		t.Errorf("November: start %v length %v, want %v and 30 d", st.PeriodStart, st.PeriodLength, midnight)
	}
	// Tiers stay rolling, from the nominal 30 d period: the 1 h window of
	// page-fast still holds October's events.
	if ts := st.Tiers[0]; ts.Tier.Name != "page-fast" || ts.Tier.Long != time.Hour || ts.Long.Total != 4 || ts.Long.Bad != 2 {
		t.Errorf("page-fast = %+v, want the 1 h window with 2 bad of 4", ts)
	}
	if st.SLO.Period != 30*24*time.Hour {
		t.Errorf("spec period %v, want the nominal 30 d", st.SLO.Period)
	}
}

func TestCalendarPeriodLengths(t *testing.T) {
	berlin := mustZone(t, "Europe/Berlin")
	newYork := mustZone(t, "America/New_York")
	day := 24 * time.Hour
	tests := []struct {
		name   string
		cal    Calendar
		at     time.Time
		start  time.Time
		length time.Duration
	}{
		{"February", Calendar{Unit: Month}, time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 28 * day},
		{"leap February", Calendar{Unit: Month}, time.Date(2028, 2, 29, 23, 0, 0, 0, time.UTC), time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC), 29 * day},
		{"March in Berlin", Calendar{Unit: Month, Location: berlin}, time.Date(2026, 3, 31, 23, 59, 0, 0, berlin), time.Date(2026, 3, 1, 0, 0, 0, 0, berlin), 31*day - time.Hour},
		{"week from Monday", Calendar{Unit: Week, WeekStart: time.Monday}, time.Date(2026, 11, 8, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), 7 * day},
		// 2026-11-01 is a Sunday in New York and DST ends that night.
		{"week from Sunday over DST", Calendar{Unit: Week, Location: newYork, WeekStart: time.Sunday}, time.Date(2026, 11, 1, 0, 0, 1, 0, newYork), time.Date(2026, 11, 1, 0, 0, 0, 0, newYork), 7*day + time.Hour},
		{"Saturday before", Calendar{Unit: Week, Location: newYork, WeekStart: time.Sunday}, time.Date(2026, 10, 31, 23, 59, 59, 0, newYork), time.Date(2026, 10, 25, 0, 0, 0, 0, newYork), 7 * day},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cal := tc.cal
			e := mustEngine(t, []Spec{calendarSpec(&cal)}, Options{})
			st := e.Evaluate(tc.at)[0]
			if !st.PeriodStart.Equal(tc.start) || st.PeriodLength != tc.length {
				t.Errorf("start %v length %v, want %v and %v", st.PeriodStart, st.PeriodLength, tc.start, tc.length)
			}
		})
	}
}

// TestCalendarExhaustionUsesPeriodLength: in a 28-day February, half a
// budget left at burn 1 lasts 14 days.
func TestCalendarExhaustionUsesPeriodLength(t *testing.T) {
	s := calendarSpec(&Calendar{Unit: Month})
	s.Tiers = []Tier{}
	s.ExhaustionAlerts = []ExhaustionAlert{{Window: 24 * time.Hour, Within: 15 * 24 * time.Hour}}
	e := mustEngine(t, []Spec{s}, Options{AllowedLateness: time.Hour})
	now := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	// 1% bad over the day: burn 1 in the day; the same over the month so
	// far (one day) would leave nothing, so add 1,000 good events a day
	// earlier in the month: 10 bad of 2,000 is half the budget.
	e.Observe(now.Add(-23*time.Hour), spread("f", now.Add(-23*time.Hour), 10*time.Minute, 1000, 0))
	e.Observe(now, spread("f", now, 30*time.Minute, 1000, 10))
	st := e.Evaluate(now)[0]
	c := st.Conditions[0]
	if !near(st.BudgetLeft, 0.5) || !near(c.Burn, 0.5) {
		t.Fatalf("budget left %v burn %v, want 0.5 and 0.5 (10 bad of 2,000 in the day)", st.BudgetLeft, c.Burn)
	}
	// 0.5 / 0.5 × 28 d = 28 d: not within 15 d.
	if want := (28 * 24 * time.Hour).Seconds(); c.Value < want-1 || c.Value > want+1 || c.Firing {
		t.Errorf("time to exhaustion %v s firing %v, want 28 d, not firing", c.Value, c.Firing)
	}
}
