package slo

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	"unsafe"
)

// base is a slot-aligned instant for every window used here.
var base = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)

func availability(name, flow string, period time.Duration, tiers []Tier) Spec {
	return Spec{Name: name, Flow: flow, Objective: Availability, Target: 0.99, Period: period, Tiers: tiers, MinEvents: 1}
}

func ev(flow string, at time.Time, bad bool) Event {
	return Event{Flow: flow, End: at.UnixNano(), Duration: 10 * time.Millisecond, Error: bad}
}

func mustEngine(t testing.TB, specs []Spec, opts Options) *Engine {
	t.Helper()
	e, err := NewEngine(specs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// tier0 is the first tier's status of the only SLO.
func tier0(e *Engine, now time.Time) TierStatus { return e.Evaluate(now)[0].Tiers[0] }

func TestWindowEdges(t *testing.T) {
	// 60 s window, 60 slots of 1 s. At now = base+100.5s the newest slot is
	// [100 s, 101 s) and the oldest included one starts at 41 s.
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Minute, Short: time.Minute, Factor: 1}}
	now := base.Add(100*time.Second + 500*time.Millisecond)
	edge := base.Add(41 * time.Second)
	tests := []struct {
		name string
		at   time.Time
		want uint64
	}{
		{"exactly on the oldest edge", edge, 1},
		{"one ns before the edge", edge.Add(-1), 0},
		{"in the newest slot", now, 1},
		{"start of the newest slot", base.Add(100 * time.Second), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustEngine(t, []Spec{availability("s", "f", 24*time.Hour, tiers)}, Options{})
			e.Observe(now, []Event{ev("f", tc.at, true)})
			if got := tier0(e, now).Long.Total; got != tc.want {
				t.Fatalf("total = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSlotLeavesWindowExactly(t *testing.T) {
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Minute, Short: time.Minute, Factor: 1}}
	e := mustEngine(t, []Spec{availability("s", "f", 24*time.Hour, tiers)}, Options{})
	at := base.Add(7 * time.Second) // slot [7 s, 8 s)
	e.Observe(at, []Event{ev("f", at, true)})
	// The slot is in the window while now is before 7 s + 60 s.
	if got := tier0(e, base.Add(67*time.Second-1)).Long.Total; got != 1 {
		t.Fatalf("at 67s-1ns total = %d, want 1", got)
	}
	if got := tier0(e, base.Add(67*time.Second)).Long; got.Total != 0 || got.Bad != 0 {
		t.Fatalf("at 67s total/bad = %d/%d, want 0/0", got.Total, got.Bad)
	}
	// After a long idle gap the ring is cleared, not wrapped around.
	if got := tier0(e, base.Add(1000*time.Hour)).Long.Total; got != 0 {
		t.Fatalf("after idle total = %d, want 0", got)
	}
}

func TestLateAndFutureEvents(t *testing.T) {
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Hour, Short: time.Minute, Factor: 1}}
	e := mustEngine(t, []Spec{availability("s", "f", 24*time.Hour, tiers)}, Options{AllowedLateness: 30 * time.Second})
	now := base.Add(10 * time.Minute)
	e.Observe(now, []Event{
		ev("f", now.Add(-20*time.Second), true), // late, within lateness: in its own slot
		ev("f", now.Add(-31*time.Second), true), // beyond lateness: counted, kept out
		ev("f", now.Add(5*time.Second), false),  // future: clamped to now
		ev("f", now, false),                     // in the newest slot: not late
	})
	st := e.Stats()
	if st.Events != 4 || st.Late != 1 || st.TooLate != 1 || st.Future != 1 {
		t.Fatalf("stats = %+v, want events 4, late 1, too late 1, future 1", st)
	}
	ts := tier0(e, now)
	if ts.Long.Total != 3 || ts.Long.Bad != 1 {
		t.Fatalf("long = %d/%d bad/total, want 1/3", ts.Long.Bad, ts.Long.Total)
	}
	// The late event sits 20 s back: the 1 m short window still holds it
	// until 40 s later, when it leaves while the clamped future one stays.
	ts = tier0(e, now.Add(40*time.Second))
	if ts.Short.Total != 2 || ts.Short.Bad != 0 {
		t.Fatalf("short after 40s = %d/%d bad/total, want 0/2", ts.Short.Bad, ts.Short.Total)
	}
}

func TestZeroTraffic(t *testing.T) {
	e := mustEngine(t, []Spec{availability("s", "f", 30*24*time.Hour, nil)}, Options{})
	for _, now := range []time.Time{base, base.Add(time.Hour), base.Add(40 * 24 * time.Hour)} {
		st := e.Evaluate(now)[0]
		if st.BudgetLeft != 1 || st.Period.Total != 0 {
			t.Fatalf("budget left %v total %d, want 1 and 0", st.BudgetLeft, st.Period.Total)
		}
		for _, ts := range st.Tiers {
			if ts.Firing || ts.Enough || ts.Long.Burn != 0 || math.IsNaN(ts.Short.Burn) {
				t.Fatalf("tier %s = %+v on zero traffic", ts.Tier.Name, ts)
			}
		}
	}
}

func TestMinimumEventGuard(t *testing.T) {
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4}}
	tests := []struct {
		events, min, tierMin uint64
		want                 bool
	}{
		{events: 9, min: 10, want: false},
		{events: 10, min: 10, want: true},
		{events: 10, min: 10, tierMin: 11, want: false}, // a tier's own minimum wins
		{events: 11, min: 100, tierMin: 11, want: true},
		{events: 1, min: 0, want: true}, // no guard: one bad event is 100% errors
	}
	for _, tc := range tests {
		tt := append([]Tier(nil), tiers...)
		tt[0].MinEvents = tc.tierMin
		s := availability("s", "f", 30*24*time.Hour, tt)
		s.MinEvents = tc.min
		e := mustEngine(t, []Spec{s}, Options{})
		now := base.Add(time.Hour)
		e.Evaluate(base) // running for an hour: warm
		evs := make([]Event, tc.events)
		for i := range evs {
			evs[i] = ev("f", now.Add(-time.Duration(i)*time.Second), true)
		}
		e.Observe(now, evs)
		if got := tier0(e, now); got.Firing != tc.want {
			t.Errorf("%d events, min %d, tier min %d: firing = %v, want %v", tc.events, tc.min, tc.tierMin, got.Firing, tc.want)
		}
	}
}

func TestBurnRateAndBudget(t *testing.T) {
	// 99% target: budget 1%. 1000 events, 30 bad in the last 5 minutes:
	// short burn = 30/300 / 0.01 = 10, long (1 h) = 30/1000/0.01 = 3.
	tiers := []Tier{{Name: "t", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 2.9}}
	e := mustEngine(t, []Spec{availability("s", "f", 24*time.Hour, tiers)}, Options{AllowedLateness: time.Hour})
	now := base.Add(2 * time.Hour)
	e.Evaluate(base) // running for two hours: warm
	var evs []Event
	for i := 0; i < 700; i++ { // 10 min to 45 min ago
		evs = append(evs, ev("f", now.Add(-10*time.Minute-time.Duration(i)*3*time.Second), false))
	}
	for i := 0; i < 300; i++ { // the last 5 minutes (under the 60th slot)
		evs = append(evs, ev("f", now.Add(-time.Duration(i)*900*time.Millisecond), i < 30))
	}
	e.Observe(now.Add(-time.Minute), evs[:700])
	e.Observe(now, evs[700:])
	st := e.Evaluate(now)[0]
	ts := st.Tiers[0]
	if ts.Long.Total != 1000 || ts.Long.Bad != 30 || ts.Short.Total != 300 || ts.Short.Bad != 30 {
		t.Fatalf("long %d/%d short %d/%d", ts.Long.Bad, ts.Long.Total, ts.Short.Bad, ts.Short.Total)
	}
	if !near(ts.Long.Burn, 3) || !near(ts.Short.Burn, 10) || !ts.Firing {
		t.Fatalf("burn long %v short %v firing %v, want 3, 10, true", ts.Long.Burn, ts.Short.Burn, ts.Firing)
	}
	if !near(st.BudgetLeft, -2) { // 3% errors spend three budgets: 1 - 3 = -2
		t.Fatalf("budget left %v, want -2", st.BudgetLeft)
	}
	// Latency objective: slow good requests are bad too.
	lat := Spec{Name: "lat", Flow: "f", Objective: LatencyThreshold, Threshold: 300 * time.Millisecond, Target: 0.99, Period: time.Hour, MinEvents: 1}
	e = mustEngine(t, []Spec{lat}, Options{})
	e.Observe(now, []Event{
		{Flow: "f", End: now.UnixNano(), Duration: 300 * time.Millisecond},
		{Flow: "f", End: now.UnixNano(), Duration: 300*time.Millisecond + 1},
		{Flow: "f", End: now.UnixNano(), Duration: time.Millisecond, Error: true},
	})
	if p := e.Evaluate(now)[0].Period; p.Total != 3 || p.Bad != 2 {
		t.Fatalf("latency period %d/%d bad/total, want 2/3", p.Bad, p.Total)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

func TestDefaultTiersScaleWithPeriod(t *testing.T) {
	h := time.Hour
	want30 := []Tier{
		{Name: "page-fast", Severity: Page, Long: h, Short: 5 * time.Minute, Factor: 14.4},
		{Name: "page-slow", Severity: Page, Long: 6 * h, Short: 30 * time.Minute, Factor: 6},
		{Name: "ticket-fast", Severity: Ticket, Long: 24 * h, Short: 2 * h, Factor: 3},
		{Name: "ticket-slow", Severity: Ticket, Long: 72 * h, Short: 6 * h, Factor: 1},
	}
	tests := []struct {
		period time.Duration
		scale  float64
	}{
		{30 * 24 * h, 1}, {7 * 24 * h, 7.0 / 30}, {90 * 24 * h, 3}, {6 * h, 1.0 / 120},
	}
	for _, tc := range tests {
		got := DefaultTiers(tc.period)
		for i, w := range want30 {
			g := got[i]
			wl, ws := time.Duration(float64(w.Long)*tc.scale), time.Duration(float64(w.Short)*tc.scale)
			if g.Name != w.Name || g.Severity != w.Severity || g.Factor != w.Factor || g.Long != wl || g.Short != ws {
				t.Errorf("period %v tier %d = %+v, want %s %s long %v short %v factor %v", tc.period, i, g, w.Name, w.Severity, wl, ws, w.Factor)
			}
			// The budget share a tier guards is the same for every period.
			share := g.Factor * float64(g.Long) / float64(tc.period)
			if wantShare := w.Factor * float64(w.Long) / float64(30*24*h); !near(share, wantShare) {
				t.Errorf("period %v tier %s budget share %v, want %v", tc.period, g.Name, share, wantShare)
			}
		}
	}
}

// TestRunningTotalsMatchRecount checks the running totals against a recount
// of every event over days of random traffic, gaps and late events.
func TestRunningTotalsMatchRecount(t *testing.T) {
	tiers := []Tier{
		{Name: "a", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 1},
		{Name: "b", Severity: Ticket, Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 1},
	}
	spec := availability("s", "f", 3*24*time.Hour, tiers)
	e := mustEngine(t, []Spec{spec}, Options{AllowedLateness: 2 * time.Minute})
	r := rand.New(rand.NewPCG(1, 2))
	type rec struct {
		t   int64
		bad bool
	}
	var all []rec
	now := base
	windows := map[time.Duration]bool{time.Hour: true, 5 * time.Minute: true, 24 * time.Hour: true, 2 * time.Hour: true, 72 * time.Hour: true}
	for step := 0; step < 4000; step++ {
		switch r.IntN(10) {
		case 0:
			now = now.Add(time.Duration(r.Int64N(int64(6 * time.Hour)))) // a gap
		default:
			now = now.Add(time.Duration(r.Int64N(int64(2 * time.Minute))))
		}
		var evs []Event
		for i := r.IntN(20); i > 0; i-- {
			at := now.Add(-time.Duration(r.Int64N(int64(2 * time.Minute))))
			bad := r.IntN(7) == 0
			evs = append(evs, ev("f", at, bad))
			all = append(all, rec{at.UnixNano(), bad})
		}
		e.Observe(now, evs)
		if step%50 != 0 {
			continue
		}
		st := e.Evaluate(now)[0]
		got := map[time.Duration]WindowStats{st.Period.Window: st.Period}
		for _, ts := range st.Tiers {
			got[ts.Long.Window], got[ts.Short.Window] = ts.Long, ts.Short
		}
		for d := range windows {
			w := newWindow(d, defaultSlots)
			head := w.slot(now.UnixNano())
			var want counts
			for _, x := range all {
				if k := w.slot(x.t); k > head-w.n && k <= head {
					want.total++
					if x.bad {
						want.bad++
					}
				}
			}
			if g := got[d]; g.Total != want.total || g.Bad != want.bad {
				t.Fatalf("step %d window %v: got %d/%d bad/total, recount %d/%d", step, d, g.Bad, g.Total, want.bad, want.total)
			}
		}
	}
}

func TestFlowCapOverflow(t *testing.T) {
	e := mustEngine(t, []Spec{availability("s", "known", time.Hour, nil)}, Options{MaxFlows: 2})
	now := base
	e.Observe(now, []Event{ev("known", now, false), ev("x", now, false), ev("y", now, false), ev("z", now, false), ev("x", now, true)})
	st := e.Stats()
	if st.Overflow != 1 || st.Flows != 3 || st.Events != 4 {
		t.Fatalf("stats = %+v, want overflow 1 (z), flows 3, events 4", st)
	}
	fl := e.Flows()
	if len(fl) != 3 || fl[1].Flow != "x" || fl[1].Events != 2 || fl[1].Errors != 1 {
		t.Fatalf("flows = %+v", fl)
	}
}

func TestExemplarsNewestFirst(t *testing.T) {
	e := mustEngine(t, []Spec{availability("s", "f", time.Hour, nil)}, Options{})
	var evs []Event
	for i := byte(1); i <= 5; i++ {
		x := ev("f", base, i != 3)
		x.TraceID[0] = i
		evs = append(evs, x)
	}
	e.Observe(base, evs)
	ex := e.Evaluate(base)[0].Exemplars
	if len(ex) != 3 || ex[0].TraceID[0] != 5 || ex[1].TraceID[0] != 4 || ex[2].TraceID[0] != 2 {
		t.Fatalf("exemplars = %v, want trace ids 5, 4, 2", ex)
	}
}

func TestNewEngineRejectsBadSpecs(t *testing.T) {
	good := availability("s", "f", time.Hour, nil)
	bad := good
	bad.Target = 1
	if _, err := NewEngine([]Spec{bad}, Options{}); err == nil {
		t.Fatal("target 1 accepted")
	}
	if _, err := NewEngine([]Spec{good, good}, Options{}); err == nil {
		t.Fatal("duplicate name accepted")
	}
}

// An event's Ref is a hint: the engine takes the flow at it only when its
// name is the event's, so a stale, wrong or out-of-range Ref counts the
// event where its name says, as an event without one.
func TestRefIsOnlyAHint(t *testing.T) {
	specs := []Spec{availability("a", "a", time.Hour, nil), availability("b", "b", time.Hour, nil)}
	withRefs := mustEngine(t, specs, Options{})
	// "x" is no flow yet: it is made by its first event, as without Ref.
	withRefs.IndexFlows([]string{"b", "x", "a"})
	byName := mustEngine(t, specs, Options{})
	evs := func(ref bool) []Event {
		out := []Event{ev("a", base, false), ev("a", base, true), ev("b", base, false), ev("x", base, true), ev("a", base, false)}
		if ref {
			// Right, right, naming "b" for an "a" event, naming a flow
			// the engine lacks, out of range.
			for i, r := range []uint32{3, 3, 3, 2, 9} {
				out[i].Ref = r
			}
		}
		return out
	}
	withRefs.Observe(base, evs(true))
	byName.Observe(base, evs(false))
	got, want := withRefs.Flows(), byName.Flows()
	if len(got) != 3 || len(got) != len(want) {
		t.Fatalf("flows = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("flow %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	now := base.Add(time.Minute)
	wantSt := byName.Evaluate(now)
	for i, st := range withRefs.Evaluate(now) {
		if st.Period.Total != wantSt[i].Period.Total || st.Period.Bad != wantSt[i].Period.Bad || st.Period.Total == 0 {
			t.Fatalf("slo %s: %+v, want %+v", st.SLO.Name, st.Period, wantSt[i].Period)
		}
	}
}

// fieldLine is a field's offset and the 64-byte line it must be in.
type fieldLine struct {
	field     string
	off, line uintptr
}

// checkLines reports the fields of typ outside their lines.
func checkLines(t *testing.T, typ string, fields []fieldLine) {
	t.Helper()
	for _, c := range fields {
		if c.off/64 != c.line {
			t.Errorf("%s.%s at %d: in line %d, want %d", typ, c.field, c.off, c.off/64, c.line)
		}
	}
}

// flowState's and sloState's hot fields sit in the lines their comments
// say.
func TestStateLayout(t *testing.T) {
	var f flowState
	checkLines(t, "flowState", []fieldLine{
		{"mu", unsafe.Offsetof(f.mu), 0}, {"pend", unsafe.Offsetof(f.pend), 0}, {"base", unsafe.Offsetof(f.base), 0},
		{"slos", unsafe.Offsetof(f.slos), 1}, {"stageN", unsafe.Offsetof(f.stageN), 1}, {"listed", unsafe.Offsetof(f.listed), 1},
		{"reportedLast", unsafe.Offsetof(f.reportedLast), 2}, {"latFP", unsafe.Offsetof(f.latFP), 2}, {"stageBuf", unsafe.Offsetof(f.stageBuf), 3},
	})
	var s sloState
	checkLines(t, "sloState", []fieldLine{
		{"until", unsafe.Offsetof(s.until), 0}, {"stageStart", unsafe.Offsetof(s.stageStart), 0},
		{"recent", unsafe.Offsetof(s.recent), 1}, {"cum", unsafe.Offsetof(s.cum), 1}, {"pend", unsafe.Offsetof(s.pend), 1},
		{"sinceDirty", unsafe.Offsetof(s.sinceDirty), 1},
		{"name", unsafe.Offsetof(s.name), 2}, {"judgeAt", unsafe.Offsetof(s.judgeAt), 2},
	})
}
