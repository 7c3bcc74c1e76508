package slo

import (
	"maps"
	"testing"
	"time"
)

// countedSpecs are an availability, a latency and a time-slice SLO of flow
// f and an availability SLO of counts.
func countedSpecs() []Spec {
	tiers := []Tier{{Name: "fast", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 2}}
	lat := availability("latency", "f", 24*time.Hour, tiers)
	lat.Objective, lat.Threshold = LatencyThreshold, 100*time.Millisecond
	slices := Spec{Name: "slices", Flow: "f", Objective: PercentileSlices, Target: 0.99, Period: 24 * time.Hour,
		Slice: time.Minute, Percentile: 0.99, Threshold: 100 * time.Millisecond, Tiers: tiers}
	return []Spec{availability("avail", "f", 24*time.Hour, tiers), lat, slices, availability("counts", "metric:c", 24*time.Hour, tiers)}
}

func counted(sts []Status) map[string][2]uint64 {
	out := map[string][2]uint64{}
	for _, st := range sts {
		out[st.SLO.Name] = [2]uint64{st.CountedTotal, st.CountedBad}
	}
	return out
}

// TestCountedEvents checks the per-SLO counters: every event in the
// windows, bad as the objective judges it, late ones included and those
// beyond the allowed lateness not (they are in no window); counts as
// given; none for time slices. They only grow, and a snapshot with the
// deltas after it brings them back exactly.
func TestCountedEvents(t *testing.T) {
	opts := Options{Deltas: true, AllowedLateness: 2 * time.Minute}
	e := mustEngine(t, countedSpecs(), opts)
	now := base.Add(time.Hour)
	observe := func(at time.Time, n int, errs, slow int) {
		evs := make([]Event, n)
		for i := range evs {
			evs[i] = ev("f", at, i < errs)
			if i >= n-slow {
				evs[i].Duration = time.Second
			}
		}
		e.Observe(now, evs)
	}
	observe(now, 100, 3, 5)                     // 3 errors, 5 slow ones
	observe(now.Add(-90*time.Second), 10, 1, 0) // late, within the lateness
	observe(now.Add(-time.Hour), 50, 50, 0)     // beyond it: in no window
	e.ObserveCounts(now, []Counts{{Flow: "metric:c", Time: now.UnixNano(), Good: 990, Bad: 10}})
	want := map[string][2]uint64{"avail": {110, 4}, "latency": {110, 9}, "slices": {0, 0}, "counts": {1000, 10}}
	if got := counted(e.Evaluate(now)); !maps.Equal(got, want) {
		t.Fatalf("counted %v, want %v", got, want)
	}
	snap := e.AppendSnapshot(nil, now)

	// More after the snapshot, into a delta.
	now = now.Add(10 * time.Minute)
	observe(now, 20, 2, 0)
	e.ObserveCounts(now, []Counts{{Flow: "metric:c", Time: now.UnixNano(), Good: 5, Bad: 5}})
	delta := e.AppendDelta(nil)
	want = map[string][2]uint64{"avail": {130, 6}, "latency": {130, 11}, "slices": {0, 0}, "counts": {1010, 15}}
	if got := counted(e.Evaluate(now)); !maps.Equal(got, want) {
		t.Fatalf("after the snapshot: counted %v, want %v", got, want)
	}

	// A restart: the snapshot, then the delta.
	r := mustEngine(t, countedSpecs(), opts)
	if _, err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if err := r.ApplyDelta(delta); err != nil {
		t.Fatal(err)
	}
	if got := counted(r.Evaluate(now)); !maps.Equal(got, want) {
		t.Errorf("restored: counted %v, want %v", got, want)
	}

	// A reload that changes targets and tiers keeps them; one that
	// changes the latency threshold (what a bad event is) starts that
	// SLO from 0, as its windows do.
	changed := countedSpecs()
	changed[0].Target = 0.999
	changed[0].Tiers = []Tier{{Name: "slow", Severity: Ticket, Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 3}}
	changed[1].Threshold = 200 * time.Millisecond
	n := mustEngine(t, changed, opts)
	rep, err := n.Restore(e.AppendSnapshot(nil, now))
	if err != nil {
		t.Fatal(err)
	}
	want["latency"] = [2]uint64{0, 0}
	if got := counted(n.Evaluate(now)); !maps.Equal(got, want) {
		t.Errorf("reloaded (report %+v): counted %v, want %v", rep, got, want)
	}
}
