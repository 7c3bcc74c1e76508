package slo

import (
	"testing"
	"time"
)

// Alert quality on the injected clock: warm-up, and time-slice SLOs that
// page when their arithmetic says, counting requests for the guard.

// drive observes rps events a second from from until to, each second's
// events at the end of that second, then evaluates; gen makes the i-th
// event (counted from from) ending at t, and each sees every evaluation:
// it returns false to stop.
func drive(e *Engine, from, to time.Time, rps int, gen func(i int, t time.Time) Event, each func(now time.Time, st []Status) bool) {
	i := 0
	evs := make([]Event, rps)
	for sec := from; sec.Before(to); sec = sec.Add(time.Second) {
		for j := range evs {
			evs[j] = gen(i, sec.Add(time.Duration(j)*time.Second/time.Duration(rps)))
			i++
		}
		now := sec.Add(time.Second)
		e.Observe(now, evs)
		if !each(now, e.Evaluate(now)) {
			return
		}
	}
}

func tierNamed(t *testing.T, st Status, name string) TierStatus {
	t.Helper()
	for _, ts := range st.Tiers {
		if ts.Tier.Name == name {
			return ts
		}
	}
	t.Fatalf("SLO %s has no tier %s", st.SLO.Name, name)
	return TierStatus{}
}

// burning2x is 10 requests a second of which one in 500 fails: twice the
// budget of a 99.9% target.
func burning2x(i int, t time.Time) Event { return ev("f", t, i%500 == 0) }

// TestWarmUpTicketSlow: a cold start burning at 2x gives ticket-slow
// (3d/6h at 1x, warm-up 72m at a 30 d period) burn rates above its factor
// in both windows from the first second, and it fires only once 72
// minutes have been observed; no other tier fires.
func TestWarmUpTicketSlow(t *testing.T) {
	spec := Spec{Name: "s", Flow: "f", Objective: Availability, Target: 0.999, Period: DefaultPeriod, MinEvents: DefaultMinEvents}
	e := mustEngine(t, []Spec{spec}, Options{})
	t0 := base
	e.Evaluate(t0)
	var fired time.Duration
	drive(e, t0, t0.Add(80*time.Minute), 10, burning2x, func(now time.Time, st []Status) bool {
		observed := now.Sub(t0)
		for _, ts := range st[0].Tiers {
			if ts.Tier.Name != "ticket-slow" {
				if ts.Firing {
					t.Fatalf("at %v: %s fires at a burn of %.2f", observed, ts.Tier.Name, ts.Long.Burn)
				}
				continue
			}
			if ts.Tier.WarmUp != 72*time.Minute {
				t.Fatalf("ticket-slow warm-up %v, want 72m", ts.Tier.WarmUp)
			}
			if !ts.Enough || ts.Long.Burn <= 1 || ts.Short.Burn <= 1 {
				t.Fatalf("at %v: %+v, want enough events and both burns above 1", observed, ts)
			}
			warming := observed < 72*time.Minute
			if ts.WarmingUp != warming || ts.Firing == warming || ts.WarmUpLeft != max(72*time.Minute-observed, 0) {
				t.Fatalf("at %v: warming up %v (%v left), firing %v; want warming up %v", observed, ts.WarmingUp, ts.WarmUpLeft, ts.Firing, warming)
			}
			if ts.Firing && fired == 0 {
				fired = observed
			}
		}
		return true
	})
	if fired != 72*time.Minute {
		t.Fatalf("ticket-slow fired at %v, want 72m", fired)
	}
}

// TestWarmUpPageFast: at a 100% outage from the first evaluation,
// page-fast (warm-up 1m) fires once a minute has been observed: at 60 s,
// not at 59 s.
func TestWarmUpPageFast(t *testing.T) {
	spec := Spec{Name: "s", Flow: "f", Objective: Availability, Target: 0.999, Period: DefaultPeriod, MinEvents: DefaultMinEvents}
	e := mustEngine(t, []Spec{spec}, Options{})
	t0 := base.Add(17 * time.Second) // not on a slot boundary
	e.Evaluate(t0)
	var fired time.Duration
	drive(e, t0, t0.Add(2*time.Minute), 10, func(_ int, at time.Time) Event { return ev("f", at, true) }, func(now time.Time, st []Status) bool {
		ts := tierNamed(t, st[0], "page-fast")
		if now.Sub(t0) == 59*time.Second && (!ts.WarmingUp || ts.WarmUpLeft != time.Second || ts.Firing) {
			t.Errorf("at 59 s: %+v, want warming up, 1 s left, not firing", ts)
		}
		if ts.Firing {
			fired = now.Sub(t0)
			return false
		}
		return true
	})
	if fired != 60*time.Second {
		t.Fatalf("page-fast fired %v after the first evaluation, want 60 s", fired)
	}
}

// TestWarmUpSurvivesRestart: an engine restarted from a snapshot taken
// after the warm-up, or from its deltas alone, has observed the SLO since
// the first evaluation and fires at once; an SLO the restart adds warms up
// from its own first evaluation, however old the engine's is.
func TestWarmUpSurvivesRestart(t *testing.T) {
	spec := Spec{Name: "s", Flow: "f", Objective: Availability, Target: 0.999, Period: DefaultPeriod, MinEvents: DefaultMinEvents}
	opts := Options{Deltas: true}
	a := mustEngine(t, []Spec{spec}, opts)
	t0 := base
	a.Evaluate(t0)
	var snap []byte
	var deltas, all [][]byte
	drive(a, t0, t0.Add(80*time.Minute), 10, burning2x, func(now time.Time, _ []Status) bool {
		d := a.AppendDelta(nil)
		all = append(all, d)
		if snap != nil {
			deltas = append(deltas, d)
		}
		if now.Equal(t0.Add(76 * time.Minute)) {
			snap = a.AppendSnapshot(nil, now)
		}
		return true
	})
	now := t0.Add(80 * time.Minute)
	if ts := tierNamed(t, a.Evaluate(now)[0], "ticket-slow"); !ts.Firing {
		t.Fatalf("uninterrupted: ticket-slow %+v, want firing", ts)
	}

	added := availability("added", "f", DefaultPeriod, nil)
	restart := func(specs []Spec, snap []byte, deltas [][]byte) *Engine {
		e := mustEngine(t, specs, opts)
		if snap != nil {
			if _, err := e.Restore(snap); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range deltas {
			if err := e.ApplyDelta(d); err != nil {
				t.Fatal(err)
			}
		}
		return e
	}
	for name, e := range map[string]*Engine{
		"snapshot and deltas": restart([]Spec{spec}, snap, deltas),
		"deltas only":         restart([]Spec{spec}, nil, all),
		"with an added SLO":   restart([]Spec{spec, added}, snap, deltas),
	} {
		st := e.Evaluate(now)
		if ts := tierNamed(t, st[0], "ticket-slow"); !ts.Firing || ts.WarmingUp {
			t.Errorf("%s: ticket-slow %+v, want firing at once", name, ts)
		}
		if len(st) < 2 {
			continue
		}
		for _, ts := range st[1].Tiers {
			if !ts.WarmingUp || ts.WarmUpLeft != ts.Tier.WarmUp || ts.Firing {
				t.Errorf("%s: added SLO's %s: %+v, want warming up from now", name, ts.Tier.Name, ts)
			}
		}
	}
}

// pctSpec is the time-slice SLO: p99 of each 1 m slice ≤ 300 ms
// on 99.5% of slices over 30 d, with the default tiers and guard.
func pctSpec() Spec {
	return Spec{
		Name: "p99", Flow: "f", Objective: PercentileSlices, Threshold: 300 * time.Millisecond, Percentile: 0.99,
		Slice: time.Minute, Target: 0.995, Period: DefaultPeriod, MinEvents: DefaultMinEvents,
	}
}

// slowFrom makes an event that takes 100 ms, or in a bad minute (at or
// after from, before until) one in ten takes 2 s: p99 2 s.
func slowFrom(t0 time.Time, from, until int) func(i int, t time.Time) Event {
	return func(i int, t time.Time) Event {
		m := int(t.Sub(t0) / time.Minute)
		d := 100 * time.Millisecond
		if m >= from && m < until && i%10 == 0 {
			d = 2 * time.Second
		}
		return Event{Flow: "f", End: t.UnixNano(), Duration: d}
	}
}

// TestSlicePageTiming: page-fast (1h/5m at 14.4x; a budget of 0.5% of
// slices) fires at the end of the slice whose verdict makes both windows
// burn above 14.4 by the SLO's own arithmetic, not AllowedLateness later.
// At a slice's end the 1 h window (1 m slots) holds the last 59 slices, or
// all of them on a younger window, and the 5 m window (5 s slots) the last
// five.
func TestSlicePageTiming(t *testing.T) {
	const factor, budget = 14.4, 0.005
	burns := func(bad, held int) bool { return float64(bad)/float64(held)/budget > factor }
	tests := []struct {
		name string
		good int // good minutes before the breach
		// bad is how many bad minutes the arithmetic needs: the first b
		// with b of min(good+b, 59) and min(b, 5) of min(good+b, 5) both
		// above the factor.
		bad int
	}{
		// 5/59 = 8.5% of slices, 17x; 4/59 is 13.6x.
		{"an hour of good slices held", 70, 5},
		// 1/4 of slices, 50x in both windows: the first bad slice pages.
		{"three good minutes", 3, 1},
		// 1/13 is 15.4x, 1/14 14.3x: the edge of a young window.
		{"twelve good minutes", 12, 1},
		{"thirteen good minutes", 13, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for b := 1; ; b++ {
				held := min(tc.good+b, 59)
				if burns(b, held) && burns(min(b, 5), min(tc.good+b, 5)) {
					if b != tc.bad {
						t.Fatalf("the arithmetic needs %d bad minutes, the table says %d", b, tc.bad)
					}
					break
				}
			}
			e := mustEngine(t, []Spec{pctSpec()}, Options{})
			t0 := base
			e.Evaluate(t0)
			want := t0.Add(time.Duration(tc.good+tc.bad) * time.Minute)
			var fired time.Time
			drive(e, t0, want.Add(5*time.Minute), 10, slowFrom(t0, tc.good, 1<<30), func(now time.Time, st []Status) bool {
				if ts := tierNamed(t, st[0], "page-fast"); ts.Firing {
					fired = now
					held := min(tc.good+tc.bad, 59)
					if ts.Long.Total != uint64(held) || ts.Long.Bad != uint64(min(tc.bad, held)) || ts.Long.Events != uint64(held*600) ||
						ts.Short.Total != uint64(min(held, 5)) || ts.Short.Bad != uint64(min(tc.bad, 5)) {
						t.Errorf("fired with long %+v short %+v, want %d bad of %d slices (%d requests), %d of %d",
							ts.Long, ts.Short, tc.bad, held, held*600, min(tc.bad, 5), min(held, 5))
					}
					return false
				}
				return true
			})
			if !fired.Equal(want) {
				t.Fatalf("page-fast fired at %v, want %v: the end of bad minute %d", fired.Sub(t0), want.Sub(t0), tc.bad)
			}
		})
	}
}

// TestSliceSingleBadMinute: one bad minute among an hour of good ones
// burns the 5 m window at 40x (1 of 5 slices; 50x, 1 of 4, in the last 5 s
// of a minute, when the window's 4m55s and a slot no longer reach the
// oldest slice's last instant), but 1/59 of the hour is 3.4x: page-fast
// stays quiet.
func TestSliceSingleBadMinute(t *testing.T) {
	e := mustEngine(t, []Spec{pctSpec()}, Options{})
	t0 := base
	e.Evaluate(t0)
	var shortBurn float64
	drive(e, t0, t0.Add(80*time.Minute), 10, slowFrom(t0, 70, 71), func(now time.Time, st []Status) bool {
		ts := tierNamed(t, st[0], "page-fast")
		if ts.Firing {
			t.Fatalf("at %v page-fast fires: %+v", now.Sub(t0), ts)
		}
		shortBurn = max(shortBurn, ts.Short.Burn)
		return true
	})
	if !near(shortBurn, 50) {
		t.Errorf("short window burnt at most %v, want 50 (1 of 4 slices)", shortBurn)
	}
}

// TestSliceGuardCountsRequests: min_events 100 at 10 requests a second is
// met by the first slice (600 requests), not after 100 slices.
func TestSliceGuardCountsRequests(t *testing.T) {
	spec := pctSpec()
	spec.MinEvents = 100
	e := mustEngine(t, []Spec{spec}, Options{})
	t0 := base
	e.Evaluate(t0)
	drive(e, t0, t0.Add(70*time.Second), 10, slowFrom(t0, 0, 1<<30), func(now time.Time, st []Status) bool {
		ts := tierNamed(t, st[0], "page-fast")
		switch now.Sub(t0) {
		case 59 * time.Second:
			if ts.Enough || ts.Long.Events != 0 {
				t.Errorf("at 0:59, slice 0 in progress: %+v, want nothing judged, not enough", ts)
			}
		case 60 * time.Second:
			if !ts.Enough || !ts.Firing || ts.Long.Total != 1 || ts.Long.Events != 600 {
				t.Errorf("at 1:00: %+v, want slice 0 judged bad with 600 requests, enough, firing", ts)
			}
		}
		return true
	})
}

// TestSliceVerdictRevised: a slice counts at its end; late events (within
// the allowed lateness) that change it recount it exactly, in every window
// and the calendar period, requests included.
func TestSliceVerdictRevised(t *testing.T) {
	rolling := pctSpec()
	cal := pctSpec()
	cal.Name, cal.Period, cal.Calendar = "cal", 0, &Calendar{Unit: Month}
	skip := pctSpec()
	skip.Name, skip.EmptySlices = "skip", EmptySkip
	skip.Flow = "g"
	e := mustEngine(t, []Spec{rolling, cal, skip}, Options{})
	t0 := base
	e.Evaluate(t0)
	// Slice 0 of f: 100 requests, 2 slow: p99 slow, bad. g: nothing.
	e.Observe(t0.Add(59*time.Second), sliceEvents(t0, 100, 2))
	check := func(at time.Duration, want [3]WindowStats) {
		t.Helper()
		st := e.Evaluate(t0.Add(at))
		for i, s := range st {
			got := []WindowStats{s.Period, s.Tiers[0].Long, s.Tiers[0].Short}
			for j, w := range got {
				w.Window, w.Burn = 0, 0
				if w != want[i] {
					t.Errorf("at %v, %s window %d: %+v, want %+v", at, s.SLO.Name, j, w, want[i])
				}
			}
		}
	}
	check(time.Minute, [3]WindowStats{{Total: 1, Bad: 1, Events: 100}, {Total: 1, Bad: 1, Events: 100}, {}})
	// Late at 1:30: 100 fast requests of slice 0 make its p99 fast (2 slow
	// of 200); g's first request, at 0:45, makes its slice count.
	e.Observe(t0.Add(90*time.Second), append(sliceEvents(t0, 100, 0), Event{Flow: "g", End: t0.Add(45 * time.Second).UnixNano(), Duration: time.Millisecond}))
	check(90*time.Second, [3]WindowStats{{Total: 1, Events: 200}, {Total: 1, Events: 200}, {Total: 1, Events: 1}})
	// And back: 3 more slow ones make it bad again (5 of 203).
	e.Observe(t0.Add(119*time.Second), sliceEvents(t0, 3, 3))
	check(119*time.Second, [3]WindowStats{{Total: 1, Bad: 1, Events: 203}, {Total: 1, Bad: 1, Events: 203}, {Total: 1, Events: 1}})
	// Past the lateness (slice 0 closed at 3:00), nothing changes it;
	// slices 1 and 2 have ended empty (good for f, left out for g).
	e.Observe(t0.Add(181*time.Second), sliceEvents(t0, 100, 0))
	check(181*time.Second, [3]WindowStats{{Total: 3, Bad: 1, Events: 203}, {Total: 3, Bad: 1, Events: 203}, {Total: 1, Events: 1}})
	if st := e.Stats(); st.TooLate != 100 {
		t.Errorf("too late %d, want 100", st.TooLate)
	}
}
