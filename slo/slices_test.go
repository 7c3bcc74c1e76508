package slo

import (
	"testing"
	"time"
)

// sliceSpec is "p99 of each 1 m slice ≤ 300 ms on 90% of slices", with one
// tier whose windows hold 10 and 5 slices.
func sliceSpec(empty EmptySlicePolicy) Spec {
	return Spec{
		Name: "p99", Flow: "f", Objective: PercentileSlices, Threshold: 300 * time.Millisecond,
		Percentile: 0.99, Slice: time.Minute, EmptySlices: empty, Target: 0.9, Period: 24 * time.Hour,
		Tiers:     []Tier{{Name: "t", Severity: Page, Long: 10 * time.Minute, Short: 5 * time.Minute, Factor: 1.5}},
		MinEvents: 10,
	}
}

// sliceEvents returns n events spread over the minute starting at start, of
// which slow take 301 ms and the rest 100 ms.
func sliceEvents(start time.Time, n, slow int) []Event { return sliceEventsOf("f", start, n, slow) }

func sliceEventsOf(flow string, start time.Time, n, slow int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		d := 100 * time.Millisecond
		if i < slow {
			d = 301 * time.Millisecond
		}
		evs[i] = Event{Flow: flow, End: start.Add(time.Duration(i) * time.Minute / time.Duration(n)).UnixNano(), Duration: d}
	}
	return evs
}

// TestSliceVerdictsAndBurn computes a percentile SLO by hand. Slices are 1 m
// and count from their end, at their last instant. p99 of 100 events is the
// 99th smallest: one slow event leaves it at 100 ms (good), two make it
// 301 ms (bad).
func TestSliceVerdictsAndBurn(t *testing.T) {
	spec := sliceSpec(EmptyGood)
	spec.MinEvents = 1000 // requests: ten slices of 100
	e := mustEngine(t, []Spec{spec}, Options{AllowedLateness: time.Minute})
	e.Evaluate(base) // warm by the end
	// Slices 0..9 of the hour at base; 7 and 8 have two slow events.
	for k := range 10 {
		slow := 1
		if k == 7 || k == 8 {
			slow = 2
		}
		start := base.Add(time.Duration(k) * time.Minute)
		e.Observe(start.Add(time.Minute-time.Nanosecond), sliceEvents(start, 100, slow))
	}
	// At 10:00.5 slices 0..9 have ended: all ten are in the 10 m window
	// [0:10, 10:00.5] (10 s slots), which holds the last instants
	// 0:59.999… to 9:59.999…; the 5 m window [5:05, 10:00.5] holds slices
	// 5..9.
	now := base.Add(10*time.Minute + 500*time.Millisecond)
	st := e.Evaluate(now)[0]
	ts := st.Tiers[0]
	// Long: 2 bad of 10, burn (2/10)/0.1 = 2. Short: 2 of 5, burn 4.
	if ts.Long.Total != 10 || ts.Long.Bad != 2 || ts.Long.Events != 1000 || !near(ts.Long.Burn, 2) {
		t.Errorf("long = %+v, want 2 bad of 10 slices (1000 requests), burn 2", ts.Long)
	}
	if ts.Short.Total != 5 || ts.Short.Bad != 2 || ts.Short.Events != 500 || !near(ts.Short.Burn, 4) {
		t.Errorf("short = %+v, want 2 bad of 5 slices (500 requests), burn 4", ts.Short)
	}
	if !ts.Enough || !ts.Firing {
		t.Errorf("tier enough %v firing %v, want both: 1000 requests meet min 1000, 2 and 4 exceed 1.5", ts.Enough, ts.Firing)
	}
	if st.Period.Total != 10 || st.Period.Bad != 2 || !near(st.BudgetLeft, -1) {
		t.Errorf("period %+v budget left %v, want 2 of 10 and 1-2 = -1", st.Period, st.BudgetLeft)
	}
	// Slow events are the exemplars: the newest three of the 12 slow.
	if len(st.Exemplars) != 3 || st.Exemplars[0].Duration != 301*time.Millisecond {
		t.Errorf("exemplars = %+v, want three 301 ms events", st.Exemplars)
	}

	// One slice earlier (at 9:59.5, slice 9 still in progress) the long
	// window holds 9 slices, 900 requests: too few for MinEvents 1000.
	e2 := mustEngine(t, []Spec{spec}, Options{AllowedLateness: time.Minute})
	e2.Evaluate(base)
	for k := range 10 {
		start := base.Add(time.Duration(k) * time.Minute)
		e2.Observe(start.Add(time.Minute-time.Nanosecond), sliceEvents(start, 100, 2))
	}
	ts = e2.Evaluate(base.Add(9*time.Minute + 59500*time.Millisecond))[0].Tiers[0]
	if ts.Long.Total != 9 || ts.Long.Bad != 9 || ts.Long.Events != 900 || ts.Enough || ts.Firing {
		t.Errorf("with slice 9 in progress: long %+v enough %v firing %v, want 9 bad of 9 (900 requests), not enough, not firing", ts.Long, ts.Enough, ts.Firing)
	}
}

func TestEmptySlices(t *testing.T) {
	tests := []struct {
		policy             EmptySlicePolicy
		wantTotal, wantBad uint64
	}{
		{EmptyGood, 4, 1},
		{EmptyBad, 4, 3},
		{EmptySkip, 2, 1},
	}
	for _, tc := range tests {
		e := mustEngine(t, []Spec{sliceSpec(tc.policy)}, Options{AllowedLateness: time.Minute})
		// The engine starts at base (slice 0); slices 1 and 2 are empty.
		e.Observe(base.Add(30*time.Second), sliceEvents(base, 10, 0))
		e.Observe(base.Add(3*time.Minute+30*time.Second), sliceEvents(base.Add(3*time.Minute), 10, 10))
		// Slices 0..3 have ended by 4:30.
		p := e.Evaluate(base.Add(4*time.Minute + 30*time.Second))[0].Period
		if p.Total != tc.wantTotal || p.Bad != tc.wantBad {
			t.Errorf("policy %d: period %d bad of %d, want %d of %d", tc.policy, p.Bad, p.Total, tc.wantBad, tc.wantTotal)
		}
	}
}

// TestSliceLateEvents: an event within the allowed lateness still changes
// its slice's verdict, counted already; one beyond it cannot (the slice is
// final).
func TestSliceLateEvents(t *testing.T) {
	e := mustEngine(t, []Spec{sliceSpec(EmptyGood)}, Options{AllowedLateness: time.Minute})
	e.Observe(base.Add(59*time.Second), sliceEvents(base, 100, 1)) // slice 0: good so far
	// Slice 0 has ended at 1:00: it counts, good.
	if p := e.Evaluate(base.Add(90 * time.Second))[0].Period; p.Total != 1 || p.Bad != 0 || p.Events != 100 {
		t.Errorf("at 1:30: period %+v, want slice 0 good with 100 requests", p)
	}
	// At 1:59 a second slow event of slice 0, ended at 0:59.5, arrives
	// within the minute of lateness: the slice turns bad.
	e.Observe(base.Add(time.Minute+59*time.Second), []Event{{Flow: "f", End: base.Add(59500 * time.Millisecond).UnixNano(), Duration: time.Second}})
	if p := e.Evaluate(base.Add(time.Minute + 59*time.Second))[0].Period; p.Total != 1 || p.Bad != 1 || p.Events != 101 {
		t.Errorf("at 1:59: period %+v, want slice 0 bad with 101 requests", p)
	}
	// Slice 0 closes at 2:00; at 2:01 an event ended at 0:59.9 is too late
	// and could not have changed it either way. Slice 1 has ended empty
	// (good).
	e.Observe(base.Add(2*time.Minute+time.Second), []Event{{Flow: "f", End: base.Add(59900 * time.Millisecond).UnixNano(), Duration: time.Second}})
	p := e.Evaluate(base.Add(2*time.Minute + time.Second))[0].Period
	if p.Total != 2 || p.Bad != 1 || p.Events != 101 {
		t.Errorf("period %+v, want slice 0 bad (101 requests), slice 1 good and empty", p)
	}
	if st := e.Stats(); st.TooLate != 1 {
		t.Errorf("too late = %d, want 1", st.TooLate)
	}
}
