package slo

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// countSpecs are an availability SLO with rolling windows and a calendar
// one on the same flow, so counts reach rings and a calendar period.
func countSpecs() []Spec {
	tiers := []Tier{{Name: "fast", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 2, WarmUp: time.Minute}}
	return []Spec{
		availability("rolling", "metric:a", 24*time.Hour, tiers),
		{Name: "month", Flow: "metric:a", Objective: Availability, Target: 0.999, Calendar: &Calendar{Unit: Month}, MinEvents: 1},
	}
}

// windowCounts lists the window counts of every SLO and tier, which must
// agree between two engines.
func windowCounts(sts []Status) [][3]uint64 {
	var out [][3]uint64
	for _, st := range sts {
		out = append(out, [3]uint64{uint64(st.Period.Window), st.Period.Total, st.Period.Bad})
		for _, t := range st.Tiers {
			out = append(out, [3]uint64{uint64(t.Long.Window), t.Long.Total, t.Long.Bad})
			out = append(out, [3]uint64{uint64(t.Short.Window), t.Short.Total, t.Short.Bad})
		}
	}
	return out
}

func TestCountsAreEvents(t *testing.T) {
	// The same traffic as events and as counts, in and out of order and
	// with late slots, gives the same windows and flow counters.
	r := rand.New(rand.NewPCG(1, 2))
	byEvents := mustEngine(t, countSpecs(), Options{AllowedLateness: time.Minute})
	byCounts := mustEngine(t, countSpecs(), Options{AllowedLateness: time.Minute})
	now := base
	for step := range 500 {
		now = now.Add(time.Duration(r.IntN(20)) * time.Second)
		at := now.Add(-time.Duration(r.IntN(90)) * time.Second) // some beyond the lateness
		if step%7 == 0 {
			at = now.Add(30 * time.Second) // future: clamped
		}
		good, bad := uint64(r.IntN(50)), uint64(r.IntN(5))
		var evs []Event
		for i := uint64(0); i < good+bad; i++ {
			evs = append(evs, ev("metric:a", at, i < bad))
		}
		byEvents.Observe(now, evs)
		byCounts.ObserveCounts(now, []Counts{{Flow: "metric:a", Time: at.UnixNano(), Good: good, Bad: bad}})
		if step%50 == 0 {
			if a, b := windowCounts(byEvents.Evaluate(now)), windowCounts(byCounts.Evaluate(now)); !reflect.DeepEqual(a, b) {
				t.Fatalf("step %d: windows differ:\nevents %v\ncounts %v", step, a, b)
			}
		}
	}
	if a, b := windowCounts(byEvents.Evaluate(now)), windowCounts(byCounts.Evaluate(now)); !reflect.DeepEqual(a, b) {
		t.Fatalf("windows differ:\nevents %v\ncounts %v", a, b)
	}
	if a, b := byEvents.Stats(), byCounts.Stats(); a != b {
		t.Fatalf("stats differ:\nevents %+v\ncounts %+v", a, b)
	}
	if a, b := byEvents.Flows(), byCounts.Flows(); !reflect.DeepEqual(a, b) {
		t.Fatalf("flows differ: %+v vs %+v", a, b)
	}
	st := byCounts.Stats()
	if st.TooLate == 0 || st.Future == 0 || st.Late == 0 {
		t.Fatalf("the traffic should exercise late, too late and future counts: %+v", st)
	}
}

func TestCountsEdgeCases(t *testing.T) {
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Minute, Short: time.Minute, Factor: 1}}
	tests := []struct {
		name           string
		cs             []Counts
		wantTotal      uint64
		wantBad        uint64
		wantOverflowed uint64
	}{
		{"nothing", []Counts{{Flow: "f", Time: base.UnixNano()}}, 0, 0, 0},
		{"weights add", []Counts{{Flow: "f", Time: base.UnixNano(), Good: 7, Bad: 3}, {Flow: "f", Time: base.UnixNano(), Good: 1}}, 11, 3, 0},
		{"unknown flow past the cap", []Counts{{Flow: "other", Time: base.UnixNano(), Good: 5, Bad: 1}}, 0, 0, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// One flow without SLOs fits (MaxFlows 1): filler takes it,
			// so "other" overflows.
			e := mustEngine(t, []Spec{availability("s", "f", 24*time.Hour, tiers)}, Options{MaxFlows: 1})
			e.ObserveCounts(base, []Counts{{Flow: "filler", Time: base.UnixNano(), Good: 1}})
			e.ObserveCounts(base, tc.cs)
			got := tier0(e, base).Long
			if got.Total != tc.wantTotal || got.Bad != tc.wantBad {
				t.Fatalf("total/bad = %d/%d, want %d/%d", got.Total, got.Bad, tc.wantTotal, tc.wantBad)
			}
			if o := e.Stats().Overflow; o != tc.wantOverflowed {
				t.Fatalf("overflow = %d, want %d", o, tc.wantOverflowed)
			}
		})
	}
}

func TestCountsSkipTimeSlices(t *testing.T) {
	// A time-slice SLO judges latencies, which counts do not carry: its
	// windows stay empty while the flow's counters take the counts.
	spec := Spec{Name: "p99", Flow: "f", Objective: PercentileSlices, Threshold: 300 * time.Millisecond, Percentile: 0.99,
		Slice: time.Minute, EmptySlices: EmptySkip, Target: 0.9, Period: 24 * time.Hour, MinEvents: 1,
		Tiers: []Tier{{Name: "t", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 2}}}
	e := mustEngine(t, []Spec{spec}, Options{})
	e.ObserveCounts(base, []Counts{{Flow: "f", Time: base.UnixNano(), Good: 10, Bad: 10}})
	st := e.Evaluate(base.Add(10 * time.Minute))[0]
	if st.Period.Total != 0 {
		t.Fatalf("slices counted %d from counts", st.Period.Total)
	}
	if fs := e.Flows(); len(fs) != 1 || fs[0].Events != 20 || fs[0].Errors != 10 {
		t.Fatalf("flow counters %+v, want 20 events, 10 errors", fs)
	}
}

func TestCountsSurviveDeltasAndSnapshots(t *testing.T) {
	// What ObserveCounts adds is in the deltas and snapshots: an engine
	// restored from a snapshot plus the deltas after it has the windows
	// of the engine that never stopped.
	r := rand.New(rand.NewPCG(3, 4))
	orig := mustEngine(t, countSpecs(), Options{Deltas: true})
	now := base
	var snap []byte
	var deltas [][]byte
	for step := range 300 {
		now = now.Add(time.Duration(1+r.IntN(30)) * time.Second)
		orig.ObserveCounts(now, []Counts{{Flow: "metric:a", Time: now.Add(-time.Duration(r.IntN(60)) * time.Second).UnixNano(),
			Good: uint64(r.IntN(100)), Bad: uint64(r.IntN(3))}})
		switch {
		case step == 100:
			snap = orig.AppendSnapshot(nil, now)
			deltas = nil
		case step%3 == 0:
			deltas = append(deltas, orig.AppendDelta(nil))
		}
	}
	deltas = append(deltas, orig.AppendDelta(nil))
	restored := mustEngine(t, countSpecs(), Options{Deltas: true})
	if _, err := restored.Restore(snap); err != nil {
		t.Fatal(err)
	}
	for _, d := range deltas {
		if err := restored.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := windowCounts(orig.Evaluate(now)), windowCounts(restored.Evaluate(now)); !reflect.DeepEqual(a, b) {
		t.Fatalf("restored windows differ:\norig     %v\nrestored %v", a, b)
	}
	if a, b := orig.Flows(), restored.Flows(); !reflect.DeepEqual(a, b) {
		t.Fatalf("restored flows differ: %+v vs %+v", a, b)
	}
	if got := orig.Evaluate(now)[0].Period.Total; got == 0 {
		t.Fatal("nothing counted")
	}
}
