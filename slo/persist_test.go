package slo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// persistSpecs exercise every kind of state: rolling windows whose widths
// do not share a round base (a 7 d period scales the default tiers to 70 s
// and 14 m), latency and availability objectives, time slices, calendar
// periods in two zones, and every alert condition.
func persistSpecs(t testing.TB) []Spec {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	return []Spec{
		{Name: "avail", Flow: "f1", Objective: Availability, Target: 0.99, Period: 7 * 24 * time.Hour, MinEvents: 5},
		{
			Name: "lat", Flow: "f1", Objective: LatencyThreshold, Threshold: 200 * time.Millisecond, Target: 0.95,
			Period: 30 * 24 * time.Hour, MinEvents: 10,
			BudgetAlerts:     []BudgetAlert{{Consumed: 0.5}},
			ExhaustionAlerts: []ExhaustionAlert{{Window: time.Hour, Within: 24 * time.Hour}},
			NoData:           30 * time.Minute,
		},
		{
			Name: "p99", Flow: "f2", Objective: PercentileSlices, Threshold: 300 * time.Millisecond, Percentile: 0.99,
			Slice: time.Minute, EmptySlices: EmptyBad, Target: 0.9, Period: 24 * time.Hour, MinEvents: 3,
			Tiers:            []Tier{{Name: "t", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 2}},
			ExhaustionAlerts: []ExhaustionAlert{{Window: 6 * time.Hour, Within: 12 * time.Hour}},
		},
		{Name: "cal", Flow: "f2", Objective: Availability, Target: 0.999, Calendar: &Calendar{Unit: Month, Location: berlin}, MinEvents: 5, BudgetAlerts: []BudgetAlert{{Consumed: 0.2}}},
		{Name: "week", Flow: "f3", Objective: LatencyThreshold, Threshold: 100 * time.Millisecond, Target: 0.9, Calendar: &Calendar{Unit: Week, Location: newYork, WeekStart: time.Sunday}, NoData: time.Hour},
	}
}

var persistFlows = []string{"f1", "f2", "f3", "f4", "f5"}

// traffic drives an engine with random events, evaluations, deltas and
// one snapshot, and records what a restarted engine would be given.
type traffic struct {
	r      *rand.Rand
	now    time.Time
	snap   []byte
	deltas [][]byte // after snap, or all of them when snapAt < 0
}

func (tr *traffic) step(t testing.TB, e *Engine, lateness time.Duration) {
	r := tr.r
	switch r.IntN(40) {
	case 0:
		tr.now = tr.now.Add(time.Duration(r.Int64N(int64(8 * time.Hour)))) // a gap
	default:
		tr.now = tr.now.Add(time.Duration(r.Int64N(int64(90 * time.Second))))
	}
	evs := make([]Event, r.IntN(30))
	for i := range evs {
		flow := persistFlows[r.IntN(len(persistFlows))]
		if r.IntN(5) == 0 {
			flow = "f3" // f3 goes quiet when others talk: no-data
		}
		at := tr.now.Add(-time.Duration(r.Int64N(int64(lateness + time.Minute))))
		if r.IntN(40) == 0 {
			at = tr.now.Add(time.Duration(r.Int64N(int64(time.Minute))))
		}
		d := lognormalMix(r)
		if flow == "f2" && r.IntN(3) == 0 {
			d = bimodalMix(r)
		}
		evs[i] = Event{Flow: flow, End: at.UnixNano(), Duration: d, Error: r.IntN(30) == 0}
		evs[i].TraceID[0], evs[i].TraceID[1] = byte(r.Uint32()), byte(r.Uint32())
	}
	slices.SortFunc(evs, func(a, b Event) int { return cmpString(a.Flow, b.Flow) }) // batches by flow, like a producer
	e.Observe(tr.now, evs)
	if r.IntN(6) == 0 {
		e.Evaluate(tr.now)
	}
	if r.IntN(4) == 0 && tr.snap != nil {
		tr.deltas = append(tr.deltas, e.AppendDelta(nil))
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// comparable strips what differs between engines by construction: the
// specs are each engine's own copies.
func comparable(sts []Status) []Status {
	out := slices.Clone(sts)
	for i := range out {
		out[i].SLO = nil
	}
	return out
}

// sameState fails unless the restored engines evaluate like a, at now and
// later (in lockstep: windows only move forward).
func sameState(t *testing.T, now time.Time, a *Engine, restored ...*Engine) {
	t.Helper()
	for _, at := range []time.Duration{0, time.Minute, 10 * time.Minute, 3 * time.Hour, 50 * time.Hour} {
		when := now.Add(at)
		sa := comparable(a.Evaluate(when))
		for n, b := range restored {
			sb := comparable(b.Evaluate(when))
			for i := range sa {
				if !reflect.DeepEqual(sa[i], sb[i]) {
					t.Fatalf("engine %d at now+%v, SLO %s differs:\nuninterrupted %+v\nrestored      %+v", n, at, a.slos[i].spec.Name, sa[i], sb[i])
				}
			}
		}
		for _, f := range persistFlows {
			pa := a.FlowPercentiles(f, when)
			la, oka := a.LastEvent(f)
			for n, b := range restored {
				if pb := b.FlowPercentiles(f, when); !reflect.DeepEqual(pa, pb) {
					t.Fatalf("engine %d at now+%v, flow %s percentiles differ:\n%+v\n%+v", n, at, f, pa, pb)
				}
				if lb, okb := b.LastEvent(f); !la.Equal(lb) || oka != okb {
					t.Fatalf("engine %d: flow %s last event %v %v, restored %v %v", n, f, la, oka, lb, okb)
				}
			}
		}
	}
	for n, b := range restored {
		if fa, fb := a.Flows(), b.Flows(); !reflect.DeepEqual(fa, fb) {
			t.Fatalf("engine %d: flows %+v, restored %+v", n, fa, fb)
		}
		if sa, sb := a.Stats(), b.Stats(); sa != sb {
			t.Fatalf("engine %d: stats %+v, restored %+v", n, sa, sb)
		}
	}
}

// internals renders what every SLO's windows, calendar period and time
// slices hold, for comparing engines without a snapshot (which would close
// the uninterrupted engine's delta).
func internals(e *Engine) []string {
	var out []string
	for _, s := range e.slos {
		var b strings.Builder
		fmt.Fprintf(&b, "%s since %d\n", s.spec.Name, s.since)
		for _, w := range s.windows {
			slots := w.slots
			if slots == nil { // a ring not allocated yet holds zeros
				slots = make([]counts, w.n)
			}
			fmt.Fprintf(&b, "window %v head %d sum %v slots %v", w.dur, w.head, w.sum, slots)
			if w.ev != nil {
				fmt.Fprintf(&b, " events %d %v", w.ev.sum, w.ev.slots)
			}
			b.WriteString("\n")
		}
		if c := s.cal; c != nil {
			fmt.Fprintf(&b, "calendar [%d, %d) %v events %d\n", c.start, c.end, c.sum, c.events)
		}
		if c := s.slices; c != nil {
			fmt.Fprintf(&b, "slices born %v next %d judged %d dirty %v:", c.born, c.next, c.judged, c.dirty)
			m := int64(len(c.open))
			for k := c.next; k < c.next+m; k++ {
				i := ring(k, m)
				fmt.Fprintf(&b, " %d %+v %d %+v;", k, c.verdicts[i], c.open[i].Count(), c.tallies[i])
			}
		}
		out = append(out, b.String())
	}
	return out
}

// sameNow fails unless the restarted engine evaluates like a at now, and
// its SLOs hold what a's do. Both are read at now, as every evaluation
// reads.
func sameNow(t *testing.T, now time.Time, a, b *Engine, what string) {
	t.Helper()
	sa, sb := comparable(a.Evaluate(now)), comparable(b.Evaluate(now))
	for i := range sa {
		if !reflect.DeepEqual(sa[i], sb[i]) {
			t.Fatalf("%s: SLO %s differs:\nuninterrupted %+v\nrestarted     %+v", what, a.slos[i].spec.Name, sa[i], sb[i])
		}
	}
	ia, ib := internals(a), internals(b)
	for i := range ia {
		if ia[i] != ib[i] {
			t.Fatalf("%s: SLO state differs:\nuninterrupted %s\nrestarted     %s", what, ia[i], ib[i])
		}
	}
	if sa, sb := a.Stats(), b.Stats(); sa != sb {
		t.Fatalf("%s: stats %+v, restarted %+v", what, sa, sb)
	}
}

// TestDeltaReplayMatchesUninterrupted is the property the WAL rests on:
// Restore of a snapshot taken at T and ApplyDelta of every delta after it
// give the state of an engine that never stopped, over days of random
// traffic with late, too late and future events, quiet gaps, calendar
// boundaries, and evaluations in between (which move the uninterrupted
// engine's windows but must not matter). A kill may come at any point:
// after any delta, an engine restarted from what the log holds then
// (the snapshot and the deltas after it, or every delta before the
// snapshot is written) evaluates like the uninterrupted one, provisional
// slice verdicts and all.
func TestDeltaReplayMatchesUninterrupted(t *testing.T) {
	const lateness = 2 * time.Minute
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			specs := persistSpecs(t)
			opts := Options{Deltas: true, AllowedLateness: lateness}
			a := mustEngine(t, specs, opts)
			// Start near a month end in Berlin, so that the run crosses it.
			tr := &traffic{r: rand.New(rand.NewPCG(seed, 99)), now: time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC)}
			steps := 3000
			snapAt := tr.r.IntN(steps / 2)
			var all [][]byte // every delta from the start
			for i := range steps {
				if i == snapAt {
					var d []byte
					if seed%2 == 0 {
						d, tr.snap = a.AppendDelta(nil), a.AppendSnapshot(nil, tr.now)
					} else {
						d, tr.snap = a.AppendDeltaAndSnapshot(nil, nil, tr.now)
					}
					all = append(all, d)
				}
				// A kill right after a delta: everything a observed is in
				// the log, which b restarts from.
				kill := func(what string) {
					b := mustEngine(t, specs, opts)
					log := all
					if tr.snap != nil {
						if _, err := b.Restore(tr.snap); err != nil {
							t.Fatal(err)
						}
						log = tr.deltas
					}
					for _, d := range log {
						if err := b.ApplyDelta(d); err != nil {
							t.Fatal(err)
						}
					}
					sameNow(t, tr.now, a, b, what)
				}
				before := len(tr.deltas)
				if tr.snap == nil && tr.r.IntN(4) == 0 {
					all = append(all, a.AppendDelta(nil))
					if i%13 == 0 {
						kill(fmt.Sprintf("killed before step %d, no snapshot", i))
					}
				}
				tr.step(t, a, lateness)
				all = append(all, tr.deltas[before:]...)
				if len(tr.deltas) > before && i%23 == 0 {
					kill(fmt.Sprintf("killed after step %d", i))
				}
			}
			last := a.AppendDelta(nil)
			tr.deltas = append(tr.deltas, last)
			all = append(all, last)

			b := mustEngine(t, specs, opts)
			rep, err := b.Restore(tr.snap)
			if err != nil {
				t.Fatal(err)
			}
			if rep.SLOs != len(specs) || len(rep.Changed)+len(rep.Removed)+len(rep.New)+len(rep.LatencyReset) != 0 {
				t.Fatalf("report %+v, want every SLO restored", rep)
			}
			for _, d := range tr.deltas {
				if err := b.ApplyDelta(d); err != nil {
					t.Fatal(err)
				}
			}
			// A log replayed from its start: deltas the snapshot holds are
			// skipped.
			for _, d := range all {
				if err := b.ApplyDelta(d); err != nil {
					t.Fatal(err)
				}
			}
			// A daemon that never took a snapshot replays every delta into a
			// new engine.
			c := mustEngine(t, specs, opts)
			for _, d := range all {
				if err := c.ApplyDelta(d); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%d deltas after the snapshot (%d bytes), %d in all, snapshot %d bytes",
				len(tr.deltas), totalLen(tr.deltas), len(all), len(tr.snap))
			sameNow(t, tr.now, a, b, "restored")
			sameNow(t, tr.now, a, c, "replayed")
			sa, sb, sc := a.AppendSnapshot(nil, tr.now), b.AppendSnapshot(nil, tr.now), c.AppendSnapshot(nil, tr.now)
			if !bytes.Equal(sa, sb) || !bytes.Equal(sa, sc) {
				t.Errorf("snapshots of the uninterrupted and the restored engines differ (%d, %d and %d bytes)", len(sa), len(sb), len(sc))
			}
			sameState(t, tr.now, a, b, c)
		})
	}
}

func totalLen(bs [][]byte) int {
	n := 0
	for _, b := range bs {
		n += len(b)
	}
	return n
}

func TestDeltaSequence(t *testing.T) {
	specs := persistSpecs(t)
	a := mustEngine(t, specs, Options{Deltas: true})
	now := base
	var ds [][]byte
	for i := range 4 {
		now = now.Add(time.Minute)
		a.Observe(now, []Event{{Flow: "f1", End: now.UnixNano(), Duration: time.Duration(i+1) * time.Millisecond, Error: true}})
		ds = append(ds, a.AppendDelta(nil))
	}
	b := mustEngine(t, specs, Options{Deltas: true})
	if err := b.ApplyDelta(ds[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyDelta(ds[2]); !errors.Is(err, ErrDeltaGap) {
		t.Fatalf("skipping delta 2: error %v, want ErrDeltaGap", err)
	}
	if err := b.ApplyDelta(ds[1]); err != nil { // older than the last applied: skipped
		t.Fatal(err)
	}
	if err := b.ApplyDelta(ds[3]); err != nil {
		t.Fatal(err)
	}
	if got := b.Evaluate(now)[1].Period.Total; got != 3 {
		t.Errorf("after deltas 1, 3, 4: %d events, want 3", got)
	}
	// A restored engine continues the sequence.
	now = now.Add(time.Minute)
	b.Observe(now, []Event{{Flow: "f1", End: now.UnixNano()}})
	next := b.AppendDelta(nil)
	c := mustEngine(t, specs, Options{Deltas: true})
	for _, d := range append(ds, next) {
		if err := c.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Evaluate(now)[1].Period.Total; got != 5 {
		t.Errorf("after all five deltas: %d events, want 5", got)
	}
}

// TestRestoreSpecChanges: state follows SLO names, and only into an SLO of
// the same shape.
func TestRestoreSpecChanges(t *testing.T) {
	specs := persistSpecs(t)
	a := mustEngine(t, specs, Options{})
	now := base
	for _, f := range persistFlows {
		a.Observe(now, []Event{{Flow: f, End: now.UnixNano(), Duration: 50 * time.Millisecond, Error: true}})
	}
	a.Evaluate(now)
	snap := a.AppendSnapshot(nil, now)

	changed := slices.Clone(specs)
	changed[0].Tiers = DefaultTiers(24 * time.Hour)                      // other windows: rebuilt
	changed[1].BudgetAlerts = nil                                        // alerts do not shape state: kept
	changed[1].NoData = time.Hour                                        // nor does no-data
	changed[2].Source = 7                                                // another flow definition: dropped
	changed[3].Target = 0.99                                             // target: kept
	changed = slices.Delete(changed, 4, 5)                               // "week" removed
	changed = append(changed, availability("new", "f4", time.Hour, nil)) // new, on a flow with state
	b := mustEngine(t, changed, Options{})
	rep, err := b.Restore(snap)
	if err != nil {
		t.Fatal(err)
	}
	want := RestoreReport{
		At: time.Unix(0, now.UnixNano()), SLOs: 3, Flows: 5,
		Changed: []string{changed[2].Name}, Rebuilt: []string{"avail"}, Removed: []string{"week"}, New: []string{"new"},
		// Their percentile windows changed with their SLOs' tiers: f1's
		// avail has other tiers, f3 lost its SLO, f4 gained one.
		LatencyReset: []string{"f1", "f3", "f4"},
	}
	if !reflect.DeepEqual(rep, want) {
		t.Fatalf("report\n%+v, want\n%+v", rep, want)
	}
	st := b.Evaluate(now)
	if st[0].Period.Total != 1 || st[1].Period.Total != 1 || st[1].Period.Bad != 1 || st[2].Period.Total != 0 {
		t.Errorf("avail %+v lat %+v %s %+v: want avail rebuilt, lat restored, %s empty", st[0].Period, st[1].Period,
			changed[2].Name, st[2].Period, changed[2].Name)
	}
	if fl := b.Flows(); len(fl) != 5 || fl[3].Flow != "f4" || fl[3].Events != 1 {
		t.Errorf("flows %+v: counters restored for every flow", fl)
	}
	if last, ok := b.LastEvent("f3"); !ok || !last.Equal(now) {
		t.Errorf("f3 last event %v %v: restored even though its SLO is gone", last, ok)
	}
}

func TestRestoreRejectsCorruptInput(t *testing.T) {
	specs := persistSpecs(t)
	a := mustEngine(t, specs, Options{Deltas: true})
	now := base
	a.Observe(now, []Event{{Flow: "f1", End: now.UnixNano(), Duration: time.Millisecond}, {Flow: "f2", End: now.UnixNano(), Duration: time.Second}})
	a.Evaluate(now)
	snap := a.AppendSnapshot(nil, now)
	now = now.Add(time.Minute)
	a.Observe(now, []Event{{Flow: "f2", End: now.UnixNano(), Duration: time.Second, Error: true}})
	delta := a.AppendDelta(nil)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"magic", append([]byte("xxxx"), snap[4:]...)},
		{"version", append([]byte{'b', 'w', 's', 'n', encodingVersion + 1}, snap[5:]...)},
		{"truncated", snap[:len(snap)/2]},
		{"trailing", append(slices.Clone(snap), 0)},
		{"flipped byte", func() []byte { c := slices.Clone(snap); c[len(c)/2] ^= 1; return c }()},
		{"trailing, resealed", withChecksum(append(slices.Clone(snap[:len(snap)-4]), 0, 0, 0, 0, 0))},
		{"version, resealed", withChecksum(append([]byte{'b', 'w', 's', 'n', encodingVersion + 1}, snap[5:]...))},
		{"version 0, resealed", withChecksum(append([]byte("bwsn\x00"), snap[5:]...))},
		{"delta as snapshot", delta},
	}
	for _, tc := range tests {
		b := mustEngine(t, specs, Options{})
		if _, err := b.Restore(tc.data); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%s: error %v, want ErrCorruptState", tc.name, err)
		}
		if st := b.Evaluate(now)[0]; st.Period.Total != 0 {
			t.Errorf("%s: a failed restore changed the engine", tc.name)
		}
	}
	b := mustEngine(t, specs, Options{})
	for _, bad := range [][]byte{nil, snap, delta[:len(delta)-1], append(slices.Clone(delta), 1)} {
		if err := b.ApplyDelta(bad); !errors.Is(err, ErrCorruptState) {
			t.Errorf("delta of %d bytes: error %v, want ErrCorruptState", len(bad), err)
		}
	}
}

// withChecksum replaces the last four bytes of b with the CRC-32C of the
// rest, as AppendSnapshot ends a snapshot.
func withChecksum(b []byte) []byte {
	if len(b) < 4 {
		return b
	}
	body := b[:len(b)-4]
	return binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, castagnoli))
}

// fuzzSeeds are specs with state of every kind, and a snapshot and a delta
// of an engine running them, as seeds.
func fuzzSeeds(t testing.TB) (specs []Spec, snap, delta []byte) {
	specs = persistSpecs(t)
	a := mustEngine(t, specs, Options{Deltas: true})
	tr := &traffic{r: rand.New(rand.NewPCG(5, 5)), now: base, snap: []byte{}}
	for range 50 {
		tr.step(t, a, 2*time.Minute)
	}
	snap = a.AppendSnapshot(nil, tr.now)
	for range 20 {
		tr.step(t, a, 2*time.Minute)
	}
	return specs, snap, a.AppendDelta(nil)
}

// FuzzRestore: no input makes Restore or ApplyDelta panic or hang, and an
// engine that accepted one keeps working.
func FuzzRestore(f *testing.F) {
	specs, snap, delta := fuzzSeeds(f)
	f.Add(snap, delta)
	f.Add(snap[:len(snap)/3], delta[:len(delta)/2])
	f.Add([]byte("bwsn\x01"), []byte("bwdl\x01"))
	f.Fuzz(func(t *testing.T, snap, delta []byte) {
		e := mustEngine(t, specs, Options{Deltas: true})
		// Reseal, so that the fuzzer gets past the checksum to the decoder.
		if _, err := e.Restore(withChecksum(snap)); err != nil && !errors.Is(err, ErrCorruptState) {
			t.Fatalf("restore error %v does not wrap ErrCorruptState", err)
		}
		if err := e.ApplyDelta(delta); err != nil && !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrDeltaGap) {
			t.Fatalf("apply error %v", err)
		}
		now := base.Add(time.Hour)
		e.Observe(now, []Event{{Flow: "f1", End: now.UnixNano(), Duration: time.Millisecond}, {Flow: "f2", End: now.UnixNano(), Duration: time.Second}})
		e.Evaluate(now)
		e.FlowPercentiles("f2", now)
		e.AppendDelta(nil)
		e.AppendSnapshot(nil, now)
	})
}

// TestConcurrentObserveEvaluateDeltas runs producers, evaluations and
// deltas at once (for the race detector), then checks that the deltas,
// replayed, hold every event exactly once.
func TestConcurrentObserveEvaluateDeltas(t *testing.T) {
	specs := persistSpecs(t)
	opts := Options{Deltas: true, AllowedLateness: time.Hour}
	a := mustEngine(t, specs, opts)
	now := base
	const producers, batches = 4, 200
	var deltas [][]byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			a.Evaluate(now.Add(time.Duration(i) * time.Second))
			deltas = append(deltas, a.AppendDelta(nil))
		}
	}()
	errs := make(chan error, producers)
	for p := range producers {
		go func() {
			for i := range batches {
				at := now.Add(time.Duration(i) * time.Second)
				evs := make([]Event, 10)
				for j := range evs {
					evs[j] = Event{Flow: persistFlows[(p+j)%len(persistFlows)], End: at.UnixNano(), Duration: time.Duration(j+1) * time.Millisecond, Error: j == 0}
				}
				a.Observe(at.Add(time.Second), evs)
			}
			errs <- nil
		}()
	}
	for range producers {
		<-errs
	}
	<-done
	deltas = append(deltas, a.AppendDelta(nil))
	b := mustEngine(t, specs, opts)
	for _, d := range deltas {
		if err := b.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	if sa, sb := a.Stats(), b.Stats(); sa != sb || sa.Events != producers*batches*10 {
		t.Fatalf("stats %+v, replayed %+v, want %d events", sa, sb, producers*batches*10)
	}
	end := now.Add(time.Duration(batches) * time.Second)
	sameState(t, end, a, b)
}

// TestCheckpointDeltaCarriesSliceStart: slices begin at the first time an
// SLO sees, which may be a checkpoint's; the checkpoint's delta says so,
// so a log replayed without the snapshot (its write failed) agrees.
func TestCheckpointDeltaCarriesSliceStart(t *testing.T) {
	specs := persistSpecs(t)
	opts := Options{Deltas: true}
	a := mustEngine(t, specs, opts)
	t0 := base.Add(30 * time.Second)
	d0, _ := a.AppendDeltaAndSnapshot(nil, nil, t0) // the slices begin at t0
	now := t0.Add(10 * time.Minute)
	a.Observe(now, sliceEventsOf("f2", now.Add(-time.Minute), 10, 5))
	d1 := a.AppendDelta(nil)
	b := mustEngine(t, specs, opts)
	for _, d := range [][]byte{d0, d1} {
		if err := b.ApplyDelta(d); err != nil {
			t.Fatal(err)
		}
	}
	// Slices 0 through 8 ended empty (EmptyBad) before the events came;
	// slice 9 holds five slow ones of them.
	if got := a.Evaluate(now)[2].Period; got.Total != 10 || got.Bad != 10 || got.Events != 5 {
		t.Fatalf("uninterrupted period %+v, want the 9 empty slices and slice 9 (5 requests) bad", got)
	}
	sameState(t, now, a, b)
}

// TestDeltaVisitsChangedFlows: a delta looks only at the flows that
// changed since the last cut (a delta per batch must not cost every flow
// the engine tracks), and a flow whose slices begin at an evaluation is
// among them.
func TestDeltaVisitsChangedFlows(t *testing.T) {
	specs := benchSpecs(3, 3) // each flow has a slice SLO
	e := mustEngine(t, specs, Options{Deltas: true})
	listed := func() []string {
		e.changedMu.Lock()
		defer e.changedMu.Unlock()
		var names []string
		for _, f := range e.changed {
			names = append(names, f.f.name)
		}
		slices.Sort(names)
		return names
	}
	for i := range 200 {
		e.Observe(base, []Event{{Flow: fmt.Sprintf("extra-%03d", i), End: base.UnixNano(), Duration: time.Millisecond}})
	}
	if n := len(listed()); n != 200 {
		t.Fatalf("%d flows listed after observing 200", n)
	}
	e.AppendDelta(nil)
	if got := listed(); len(got) != 0 {
		t.Fatalf("listed after a delta: %v", got)
	}
	// Evaluating begins the slices of every slice SLO: their flows have
	// news for the next delta, and nothing else does.
	e.Evaluate(base)
	if got, want := listed(), []string{"flow-00000", "flow-00001", "flow-00002"}; !slices.Equal(got, want) {
		t.Fatalf("listed after the first evaluation %v, want %v", got, want)
	}
	e.AppendDelta(nil)
	at := base.Add(time.Second)
	e.Observe(at, []Event{
		{Flow: "extra-007", End: at.UnixNano(), Duration: time.Millisecond},
		{Flow: "flow-00001", End: at.UnixNano(), Duration: time.Millisecond},
		{Flow: "extra-007", End: at.UnixNano(), Duration: time.Millisecond},
		// Too late for any window: counted without the flow's lock, and
		// still news for the delta.
		{Flow: "extra-150", End: base.Add(-time.Hour).UnixNano(), Duration: time.Millisecond},
	})
	if got, want := listed(), []string{"extra-007", "extra-150", "flow-00001"}; !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	// The delta carries them: replayed on an engine that saw what came
	// before, it gives the same counts.
	b := mustEngine(t, specs, Options{Deltas: true})
	if _, err := b.Restore(e.AppendSnapshot(nil, base)); err != nil {
		t.Fatal(err)
	}
	e.Observe(at, []Event{{Flow: "extra-150", End: at.UnixNano(), Duration: time.Millisecond, Error: true}})
	if err := b.ApplyDelta(e.AppendDelta(nil)); err != nil {
		t.Fatal(err)
	}
	if sa, sb := e.Stats(), b.Stats(); sa != sb {
		t.Fatalf("stats %+v, replayed %+v", sa, sb)
	}
	for _, name := range []string{"extra-150", "flow-00001"} {
		fa, fb := e.lookup(name), b.lookup(name)
		if fa.events.Load() != fb.events.Load() || fa.errors.Load() != fb.errors.Load() {
			t.Fatalf("%s: %d/%d events/errors, replayed %d/%d", name, fa.events.Load(), fa.errors.Load(), fb.events.Load(), fb.errors.Load())
		}
	}
}

// TestEvaluateIntoReusesStorage: an evaluation written into the storage of
// the ones before it equals one in fresh storage, step after step of
// random traffic (SLOs of every kind and alert, exemplars coming and
// going, quiet gaps).
func TestEvaluateIntoReusesStorage(t *testing.T) {
	specs := persistSpecs(t)
	opts := Options{Deltas: true, AllowedLateness: 2 * time.Minute}
	a, b := mustEngine(t, specs, opts), mustEngine(t, specs, opts)
	start := time.Date(2026, 10, 29, 12, 0, 0, 0, time.UTC)
	ta := &traffic{r: rand.New(rand.NewPCG(5, 55)), now: start}
	tb := &traffic{r: rand.New(rand.NewPCG(5, 55)), now: start}
	var ev Evaluation
	for i := range 1500 {
		ta.step(t, a, opts.AllowedLateness)
		tb.step(t, b, opts.AllowedLateness)
		got, want := a.EvaluateInto(&ev, ta.now), b.Evaluate(tb.now)
		if !reflect.DeepEqual(got, want) {
			for j := range want {
				if !reflect.DeepEqual(got[j], want[j]) {
					t.Fatalf("step %d, SLO %s: reused storage gives\n%+v\nfresh gives\n%+v", i, want[j].SLO.Name, got[j], want[j])
				}
			}
			t.Fatalf("step %d: %d statuses, want %d", i, len(got), len(want))
		}
	}
}
