package slo

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// scaleOutSpecs are an event-based availability and latency SLO on one
// flow and a time-slice SLO on another; a third flow has no SLO.
func scaleOutSpecs() []Spec {
	slice := sliceSpec(EmptySkip)
	slice.Flow = "search"
	return []Spec{
		{Name: "checkout-avail", Flow: "checkout", Objective: Availability, Target: 0.99, Period: 30 * 24 * time.Hour},
		{Name: "checkout-fast", Flow: "checkout", Objective: LatencyThreshold, Threshold: 200 * time.Millisecond, Target: 0.95, Period: 30 * 24 * time.Hour},
		slice,
	}
}

// scaleOutEvents are n events over span before end, some late, a few
// beyond the allowed lateness and a few in the future, on three flows.
func scaleOutEvents(r *rand.Rand, end time.Time, span time.Duration, n int) [][]Event {
	var batches [][]Event
	for at := end.Add(-span); at.Before(end); at = at.Add(time.Second) {
		var b []Event
		for range n * int(time.Second) / int(span) {
			t := at.Add(-time.Duration(r.Int64N(int64(90 * time.Second))))
			switch r.IntN(100) {
			case 0:
				t = at.Add(-10 * time.Minute) // too late
			case 1:
				t = at.Add(3 * time.Second) // future
			}
			flow := [...]string{"checkout", "search", "browse"}[r.IntN(3)]
			d := time.Duration(r.ExpFloat64() * float64(80*time.Millisecond))
			e := Event{Flow: flow, End: t.UnixNano(), Duration: d, Error: r.IntN(50) == 0}
			e.TraceID[0], e.TraceID[1] = byte(len(batches)), byte(len(b))
			b = append(b, e)
		}
		batches = append(batches, b)
	}
	return batches
}

// TestMergeEqualsObserve feeds one engine every event and two
// aggregators (two agents) half each, cut every 5 s and merged into a
// second engine: statuses, flow counts and percentiles are equal, and so
// is a third engine that replays the second's deltas (a gateway's WAL).
func TestMergeEqualsObserve(t *testing.T) {
	opts := Options{Deltas: true}
	direct := mustEngine(t, scaleOutSpecs(), opts)
	gateway := mustEngine(t, scaleOutSpecs(), opts)
	replayed := mustEngine(t, scaleOutSpecs(), opts)
	agents := [2]*Aggregator{NewAggregator(mustEngine(t, scaleOutSpecs(), Options{})), NewAggregator(mustEngine(t, scaleOutSpecs(), Options{}))}
	if w := agents[0].Width(); w != 5*time.Second {
		t.Fatalf("width = %v, want 5s (the gcd of the default tiers' base slots)", w)
	}
	r := rand.New(rand.NewPCG(1, 2))
	end := base.Add(20 * time.Minute)
	batches := scaleOutEvents(r, end, 20*time.Minute, 40_000)
	// A single daemon begins time slices with the slice of the first event
	// it sees, a gateway with that of its first merge: make them one.
	batches[0] = append([]Event{{Flow: "search", End: base.Add(time.Second).UnixNano()}}, batches[0]...)
	now := end.Add(-20 * time.Minute)
	var merged MergeStats
	for i, b := range batches {
		now = now.Add(time.Second)
		direct.Observe(now, b)
		half := len(b) / 2
		agents[0].Add(now, b[:half])
		agents[1].Add(now, b[half:])
		if i%5 == 4 {
			var aggs []Aggregate
			for _, a := range agents {
				aggs = a.Cut(aggs)
			}
			for _, ag := range aggs {
				if err := ag.Check(); err != nil {
					t.Fatal(err)
				}
			}
			st := gateway.Merge(now, aggs)
			merged.Events += st.Events
			merged.Misaligned += st.Misaligned
			merged.Unmatched += st.Unmatched
			if err := replayed.ApplyDelta(gateway.AppendDelta(nil)); err != nil {
				t.Fatal(err)
			}
		}
		if i%60 == 59 {
			direct.Evaluate(now)
			gateway.Evaluate(now)
			replayed.Evaluate(now)
		}
	}
	if merged.Misaligned != 0 || merged.Unmatched != 0 {
		t.Fatalf("merge stats %+v: want nothing misaligned or unmatched", merged)
	}
	if ds := direct.Stats(); merged.Events != ds.Events {
		t.Fatalf("merged %d events, observed %d", merged.Events, ds.Events)
	}
	for name, e := range map[string]*Engine{"gateway": gateway, "replayed": replayed} {
		if got, want := e.Flows(), direct.Flows(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s flows %+v, want %+v", name, got, want)
		}
		if got, want := e.Stats().TooLate, direct.Stats().TooLate; got != want {
			t.Errorf("%s too late %d, want %d", name, got, want)
		}
		got, want := e.Evaluate(now), direct.Evaluate(now)
		for i := range want {
			if !reflect.DeepEqual(statusWindows(got[i]), statusWindows(want[i])) {
				t.Errorf("%s %s: windows %+v, want %+v", name, want[i].SLO.Name, statusWindows(got[i]), statusWindows(want[i]))
			}
			if got[i].CountedTotal != want[i].CountedTotal || got[i].CountedBad != want[i].CountedBad {
				t.Errorf("%s %s: counted %d/%d, want %d/%d", name, want[i].SLO.Name, got[i].CountedBad, got[i].CountedTotal,
					want[i].CountedBad, want[i].CountedTotal)
			}
		}
		for _, flow := range []string{"checkout", "search", "browse"} {
			if got, want := e.FlowPercentiles(flow, now), direct.FlowPercentiles(flow, now); !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s percentiles %+v, want %+v", name, flow, got, want)
			}
		}
	}
	if got := gateway.Evaluate(now)[0]; got.Period.Total == 0 || got.Period.Bad == 0 {
		t.Fatalf("period %+v: the test should count good and bad events", got.Period)
	}
}

// statusWindows are a status's exact counts: the period's and every tier
// window's.
func statusWindows(s Status) []WindowStats {
	out := []WindowStats{s.Period}
	for _, t := range s.Tiers {
		out = append(out, t.Long, t.Short)
	}
	return out
}

// TestMergeChecks: a gateway merges only what is well formed, only into
// SLOs of the same shape, and says where a slot width does not fit.
func TestMergeChecks(t *testing.T) {
	now := base.Add(time.Hour)
	e := mustEngine(t, scaleOutSpecs(), Options{})
	agent := NewAggregator(mustEngine(t, scaleOutSpecs(), Options{}))
	agent.Add(now, []Event{{Flow: "checkout", End: now.UnixNano(), Duration: time.Second, Error: true}})
	aggs := agent.Cut(nil)
	if len(aggs) != 1 || len(aggs[0].SLOs) != 2 || aggs[0].SLOs[1].Counts[0].Bad != 1 || len(aggs[0].SLOs[1].Exemplars) != 1 {
		t.Fatalf("cut %+v: want one flow, two SLOs, a bad event and its exemplar", aggs)
	}
	if again := agent.Cut(nil); len(again) != 0 {
		t.Fatalf("a second cut has %d aggregates, want none", len(again))
	}
	bad := aggs[0]
	bad.Slots = []AggregateSlot{{Start: bad.Slots[0].Start + 1, Latency: bad.Slots[0].Latency}}
	if bad.Check() == nil {
		t.Fatal("a slot off its width's grid passed Check")
	}
	// Another threshold is another shape: its counts are not merged.
	ag := aggs[0]
	ag.SLOs = []AggregateSLO{ag.SLOs[0], ag.SLOs[1]}
	ag.SLOs[1].Shape++
	st := e.Merge(now, []Aggregate{ag})
	if st.Unmatched != 1 || st.Events != 1 {
		t.Fatalf("stats %+v: want 1 event, unmatched by one SLO", st)
	}
	if got := e.Evaluate(now)[1].Period.Total; got != 0 {
		t.Fatalf("the latency SLO counted %d events of another shape", got)
	}
	// Events too late for the windows need no verdict.
	late := Aggregate{Flow: "checkout", Width: aggs[0].Width, TooLate: AggregateCounts{Events: 4, Errors: 1}, Last: now.UnixNano()}
	if st := e.Merge(now, []Aggregate{late}); st.Unmatched != 0 || st.TooLate != 4 || st.Events != 4 {
		t.Fatalf("stats %+v: want 4 events too late, none unmatched", st)
	}
	// A width that does not divide the base slots is placed, and said.
	ag = aggs[0]
	ag.Width = 3 * int64(time.Second)
	ag.Slots = []AggregateSlot{{Start: 3 * int64(time.Second) * (now.UnixNano() / (3 * int64(time.Second))), Latency: ag.Slots[0].Latency}}
	ag.SLOs = nil
	if st := e.Merge(now, []Aggregate{ag}); st.Misaligned != 1 {
		t.Fatalf("stats %+v: want one misaligned slot", st)
	}
	// A 2 h period cuts its windows into slots of odd widths, whose
	// common divisor is a few nanoseconds: the agent's slots stay 100 ms.
	odd := NewAggregator(mustEngine(t, []Spec{{Name: "s", Flow: "f", Objective: Availability, Target: 0.99, Period: 2 * time.Hour}}, Options{}))
	if w := odd.Width(); w != 100*time.Millisecond {
		t.Fatalf("width for a 2h period = %v, want 100ms", w)
	}
}
