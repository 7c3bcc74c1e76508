package slo

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// TestRestoreRebuildsChangedWindows: SLOs whose tiers, period and target
// changed keep their counts across a restore of a snapshot and a replay of
// the delta after it. Each new window holds what an engine with the new
// spec, fed the same events from the start, holds: exactly for the periods
// (the budget), and for a window whose oldest part only a window with
// coarser slots reaches, at most 1% less (its oldest slot may count early
// and fall out).
func TestRestoreRebuildsChangedWindows(t *testing.T) {
	week := 7 * 24 * time.Hour
	before := availability("a", "f", week, nil) // the default tiers, scaled to 7 d
	lat := Spec{Name: "l", Flow: "f", Objective: LatencyThreshold, Threshold: 100 * time.Millisecond,
		Target: 0.99, Period: 28 * 24 * time.Hour, MinEvents: 1}
	after := before
	after.Target = 0.995
	after.Tiers = []Tier{
		{Name: "fast", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 10},
		{Name: "slow", Severity: Ticket, Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 2},
	}
	latAfter := lat
	latAfter.Period = 14 * 24 * time.Hour

	old := mustEngine(t, []Spec{before, lat}, Options{Deltas: true})
	fresh := mustEngine(t, []Spec{after, latAfter}, Options{})
	rng := rand.New(rand.NewPCG(11, 3))
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	snapAt, end := start.Add(60*time.Hour), start.Add(72*time.Hour)
	var snap []byte
	for now := start; now.Before(end); now = now.Add(time.Duration(20+rng.IntN(40)) * time.Second) {
		if snap == nil && !now.Before(snapAt) {
			old.Evaluate(now)
			snap = old.AppendSnapshot(nil, now)
		}
		e := Event{Flow: "f", End: now.UnixNano(), Duration: time.Duration(rng.IntN(200)) * time.Millisecond, Error: rng.IntN(50) == 0}
		old.Observe(now, []Event{e})
		fresh.Observe(now, []Event{e})
		if now.Minute() == 0 && now.Second() < 60 {
			old.Evaluate(now)
			fresh.Evaluate(now)
		}
	}
	delta := old.AppendDelta(nil)

	restored := mustEngine(t, []Spec{after, latAfter}, Options{Deltas: true})
	rep, err := restored.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.Rebuilt) != "[a l]" || len(rep.Changed) != 0 || rep.SLOs != 2 {
		t.Fatalf("report %+v, want a and l rebuilt", rep)
	}
	if err := restored.ApplyDelta(delta); err != nil {
		t.Fatal(err)
	}
	got, want := restored.Evaluate(end), fresh.Evaluate(end)
	for i := range want {
		g, w := got[i], want[i]
		same := func(what string, a, b WindowStats, exact bool) {
			off := func(x, y uint64) bool { return x > y || !exact && y-x > y/100 || exact && x != y }
			if off(a.Total, b.Total) || off(a.Bad, b.Bad) {
				t.Errorf("%s %s %v: %d bad of %d, want %d of %d", g.SLO.Name, what, b.Window, a.Bad, a.Total, b.Bad, b.Total)
			}
			if b.Total == 0 {
				t.Errorf("%s %s %v: empty, the test shows nothing", g.SLO.Name, what, b.Window)
			}
		}
		same("period", g.Period, w.Period, true)
		for j := range w.Tiers {
			same(w.Tiers[j].Tier.Name+" long", g.Tiers[j].Long, w.Tiers[j].Long, false)
			same(w.Tiers[j].Tier.Name+" short", g.Tiers[j].Short, w.Tiers[j].Short, false)
		}
	}
}

// TestRebinFromCoarserSlots: a window rebuilt from one whose slots are
// wider puts each old slot in the new slot holding its start, and leaves
// out what falls before the new window.
func TestRebinFromCoarserSlots(t *testing.T) {
	src := newWindowRes(time.Hour, int64(10*time.Minute))
	src.head = 100
	src.headStart = 100 * src.res
	for j := int64(95); j <= 100; j++ {
		src.slotRing()[ring(j, src.n)] = counts{total: uint64(j - 94), bad: 1}
		src.sum.add(src.slotAt(ring(j, src.n)))
	}
	w := newWindowRes(30*time.Minute, int64(time.Minute))
	w.rebin([]*window{src})
	// w covers minutes 971..1000 (its head, 1000, is src slot 100's start):
	// src slots 98, 99 and 100 start at minutes 980, 990 and 1000.
	if w.head != 1000 || w.sum != (counts{total: 4 + 5 + 6, bad: 3}) {
		t.Fatalf("head %d sum %+v, want 1000 and 15 of which 3 bad", w.head, w.sum)
	}
	if c := w.slotAt(ring(980, w.n)); c.total != 4 {
		t.Errorf("minute 980 holds %+v, want slot 98's 4", c)
	}
}
