package slo

import (
	"math"
	"strings"
	"testing"
	"time"
)

// spread returns n events of flow ending evenly over the dur before at,
// the first bad of them bad.
func spread(flow string, at time.Time, dur time.Duration, n, bad int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = ev(flow, at.Add(-time.Duration(i)*dur/time.Duration(n)), i < bad)
	}
	return evs
}

func conditionByName(t *testing.T, st Status, name string) ConditionStatus {
	t.Helper()
	for _, c := range st.Conditions {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no condition %q in %+v", name, st.Conditions)
	return ConditionStatus{}
}

func TestBudgetConsumed(t *testing.T) {
	tests := []struct {
		bad    int
		firing bool
	}{
		{bad: 4, firing: false}, // 40% of the budget
		{bad: 6, firing: true},  // 60%
	}
	for _, tc := range tests {
		s := availability("s", "f", 24*time.Hour, []Tier{})
		s.BudgetAlerts = []BudgetAlert{{Consumed: 0.5}, {Name: "most", Severity: Page, Consumed: 0.9}}
		e := mustEngine(t, []Spec{s}, Options{AllowedLateness: time.Hour})
		now := base.Add(time.Hour)
		e.Observe(now, spread("f", now, 30*time.Minute, 1000, tc.bad))
		st := e.Evaluate(now)[0]
		if len(st.Conditions) != 2 {
			t.Fatalf("conditions = %+v, want two", st.Conditions)
		}
		c := st.Conditions[0]
		wantConsumed := float64(tc.bad) / 1000 / 0.01
		if c.Name != "budget-50" || c.Kind != BudgetConsumed || c.Severity != Ticket || c.Firing != tc.firing ||
			math.Abs(c.Value-wantConsumed) > 1e-9 || c.Threshold != 0.5 {
			t.Errorf("%d bad: condition %+v, want budget-50 ticket firing %v value %v threshold 0.5", tc.bad, c, tc.firing, wantConsumed)
		}
		if c := st.Conditions[1]; c.Name != "most" || c.Severity != Page || c.Firing {
			t.Errorf("%d bad: condition %+v, want most, page, not firing", tc.bad, c)
		}
	}
}

// TestExhaustion: 9,000 good events 10 h ago and 1,000 with 50 bad in the
// last hour. Period (30 d) burn (50/10,000)/0.01 = 0.5 leaves half the
// budget; the hour burns at (50/1,000)/0.01 = 5, so the half lasts
// 0.5/5 × 30 d = 72 h.
func TestExhaustion(t *testing.T) {
	tests := []struct {
		within    time.Duration
		minEvents uint64
		firing    bool
	}{
		{73 * time.Hour, 0, true},
		{71 * time.Hour, 0, false},
		{73 * time.Hour, 1000, true},
		{73 * time.Hour, 1001, false}, // the hour holds too few events
	}
	for _, tc := range tests {
		s := availability("s", "f", 30*24*time.Hour, []Tier{})
		s.MinEvents = tc.minEvents
		s.ExhaustionAlerts = []ExhaustionAlert{{Window: time.Hour, Within: tc.within}}
		e := mustEngine(t, []Spec{s}, Options{AllowedLateness: time.Hour})
		now := base.Add(48 * time.Hour)
		e.Observe(now.Add(-10*time.Hour), spread("f", now.Add(-10*time.Hour), 30*time.Minute, 9000, 0))
		e.Observe(now, spread("f", now, 50*time.Minute, 1000, 50))
		st := e.Evaluate(now)[0]
		c := st.Conditions[0]
		if want := "exhaustion-" + FormatDuration(tc.within); c.Name != want || c.Kind != Exhaustion || c.Window != time.Hour {
			t.Errorf("condition %+v, want %s over 1h", c, want)
		}
		if !near(c.Burn, 5) || math.Abs(c.Value-(72*time.Hour).Seconds()) > 1e-3 || c.Threshold != tc.within.Seconds() {
			t.Errorf("burn %v value %v s threshold %v s, want 5, 72 h, %v", c.Burn, c.Value, c.Threshold, tc.within)
		}
		if c.Firing != tc.firing {
			t.Errorf("within %v min events %d: firing %v, want %v", tc.within, tc.minEvents, c.Firing, tc.firing)
		}
		if !near(st.BudgetLeft, 0.5) || st.PeriodLength != 30*24*time.Hour {
			t.Errorf("budget left %v period length %v, want 0.5 and 30 d", st.BudgetLeft, st.PeriodLength)
		}
	}
}

func TestNoData(t *testing.T) {
	talk := availability("talk", "talker", time.Hour, []Tier{})
	talk.NoData = 10 * time.Minute
	quiet := availability("quiet", "quiet", time.Hour, []Tier{})
	quiet.NoData, quiet.NoDataSeverity = 10*time.Minute, Page
	e := mustEngine(t, []Spec{talk, quiet}, Options{})
	t0 := base.Add(time.Hour) // the first evaluation
	steps := []struct {
		at, event     time.Duration // since t0; event < 0: none
		talker, quiet bool          // firing
		talkerSilent  time.Duration
	}{
		{at: 0, event: -1, talker: false, quiet: false, talkerSilent: 0},
		{at: 10*time.Minute - 1, event: -1, talker: false, quiet: false, talkerSilent: 10*time.Minute - 1},
		{at: 10 * time.Minute, event: -1, talker: true, quiet: true, talkerSilent: 10 * time.Minute}, // never spoke: since t0
		{at: 11 * time.Minute, event: 11 * time.Minute, talker: false, quiet: true, talkerSilent: 0},
		{at: 21*time.Minute - 1, event: -1, talker: false, quiet: true, talkerSilent: 10*time.Minute - 1},
		{at: 21 * time.Minute, event: -1, talker: true, quiet: true, talkerSilent: 10 * time.Minute},
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		if s.event >= 0 {
			e.Observe(now, []Event{ev("talker", t0.Add(s.event), false)})
		}
		st := e.Evaluate(now)
		c, q := conditionByName(t, st[0], NoDataName), conditionByName(t, st[1], NoDataName)
		if c.Firing != s.talker || q.Firing != s.quiet || c.Value != s.talkerSilent.Seconds() {
			t.Errorf("at t0+%v: talker firing %v silent %v s, quiet firing %v; want %v, %v s, %v", s.at, c.Firing, c.Value, q.Firing, s.talker, s.talkerSilent.Seconds(), s.quiet)
		}
		if c.Kind != NoData || c.Severity != Ticket || q.Severity != Page || c.Threshold != 600 {
			t.Errorf("conditions %+v and %+v: want nodata, ticket and page, threshold 600 s", c, q)
		}
	}
	if last, ok := e.LastEvent("talker"); !ok || !last.Equal(t0.Add(11*time.Minute)) {
		t.Errorf("last event %v %v, want t0+11m", last, ok)
	}
	if _, ok := e.LastEvent("quiet"); ok {
		t.Error("quiet flow has a last event")
	}
}

func TestDefaultAlertNames(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{BudgetAlert{Consumed: 0.5}.name(), "budget-50"},
		{BudgetAlert{Consumed: 0.07}.name(), "budget-7"}, // not 7.000000000000001
		{BudgetAlert{Consumed: 0.125}.name(), "budget-12.5"},
		{BudgetAlert{Consumed: 1}.name(), "budget-100"},
		{BudgetAlert{Name: "half", Consumed: 0.5}.name(), "half"},
		{ExhaustionAlert{Within: 24 * time.Hour}.name(), "exhaustion-1d"},
		{ExhaustionAlert{Within: 90 * time.Minute}.name(), "exhaustion-1h30m"},
		{ExhaustionAlert{Within: 14 * 24 * time.Hour}.name(), "exhaustion-2w"},
		{ExhaustionAlert{Name: "soon", Within: time.Hour}.name(), "soon"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("name = %q, want %q", tc.got, tc.want)
		}
	}
}

func TestTierExemplarsFromTheirWindow(t *testing.T) {
	tiers := []Tier{
		{Name: "fast", Severity: Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 1},
		{Name: "slow", Severity: Ticket, Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 1},
	}
	spec := availability("s", "f", 24*time.Hour, tiers)
	spec.ExhaustionAlerts = []ExhaustionAlert{{Window: time.Hour, Within: time.Hour}}
	spec.BudgetAlerts = []BudgetAlert{{Consumed: 0.5}}
	e := mustEngine(t, []Spec{spec}, Options{})
	now := base.Add(12 * time.Hour)
	for i, ago := range []time.Duration{3 * time.Hour, 30 * time.Minute, time.Minute} {
		x := ev("f", now.Add(-ago), true)
		x.TraceID[0] = byte(i + 1)
		e.Observe(now.Add(-ago), []Event{x, ev("f", now.Add(-ago), false)})
	}
	st := e.Evaluate(now)[0]
	ids := func(xs []Exemplar) string {
		var b strings.Builder
		for _, x := range xs {
			b.WriteByte('0' + x.TraceID[0])
		}
		return b.String()
	}
	if got := ids(st.Exemplars); got != "321" {
		t.Errorf("status exemplars %s, want 321 (newest first)", got)
	}
	if got := ids(st.Tiers[0].Exemplars); got != "32" {
		t.Errorf("1 h tier exemplars %s, want 32", got)
	}
	if got := ids(st.Tiers[1].Exemplars); got != "321" {
		t.Errorf("6 h tier exemplars %s, want 321", got)
	}
	// Conditions link theirs too: a budget alert all, an exhaustion alert
	// those inside its burn window.
	for _, c := range st.Conditions {
		want := map[ConditionKind]string{BudgetConsumed: "321", Exhaustion: "32"}[c.Kind]
		if got := ids(c.Exemplars); got != want {
			t.Errorf("%s exemplars %s, want %s", c.Name, got, want)
		}
	}
	if len(st.Conditions) != 2 {
		t.Fatalf("%d conditions, want 2", len(st.Conditions))
	}
	// A late bad event sorts by its time, not by arrival.
	late := ev("f", now.Add(-90*time.Second), true)
	late.TraceID[0] = 4
	e.Observe(now, []Event{late})
	if got := ids(e.Evaluate(now)[0].Exemplars); got != "342" {
		t.Errorf("after a late event: %s, want 342", got)
	}
}

func TestValidateNewFields(t *testing.T) {
	ok := func() Spec { return sliceSpec(EmptyGood) }
	tests := []struct {
		name   string
		change func(*Spec)
		want   string // in the error; "" for valid
	}{
		{"valid slices", func(*Spec) {}, ""},
		{"percentile 1", func(s *Spec) { s.Percentile = 1 }, "percentile 1 is not in (0, 1)"},
		{"no threshold", func(s *Spec) { s.Threshold = 0 }, "percentile threshold"},
		{"sub-ms slice", func(s *Spec) { s.Slice = 1500 * time.Microsecond }, "whole number of milliseconds"},
		{"slice not dividing period", func(s *Spec) { s.Slice = 7 * time.Minute }, "does not divide the period"},
		{"empty policy", func(s *Spec) { s.EmptySlices = 7 }, "empty slice policy"},
		{"calendar", func(s *Spec) { s.Calendar, s.Period = &Calendar{Unit: Month}, 0 }, ""},
		{"calendar slice", func(s *Spec) { s.Calendar, s.Slice = &Calendar{Unit: Week}, 7*time.Minute }, "does not divide a day"},
		{"calendar unit", func(s *Spec) { s.Calendar = &Calendar{Unit: 9} }, "calendar unit 9"},
		{"week start", func(s *Spec) { s.Calendar = &Calendar{Unit: Week, WeekStart: 7} }, "week start 7"},
		{"budget 0", func(s *Spec) { s.BudgetAlerts = []BudgetAlert{{Consumed: 0}} }, "consumed 0 is not in (0, 1]"},
		{"budget 100%", func(s *Spec) { s.BudgetAlerts = []BudgetAlert{{Consumed: 1}} }, ""},
		{"budget severity", func(s *Spec) { s.BudgetAlerts = []BudgetAlert{{Consumed: 0.5, Severity: "sms"}} }, `severity "sms"`},
		{"exhaustion window", func(s *Spec) { s.ExhaustionAlerts = []ExhaustionAlert{{Window: 48 * time.Hour, Within: time.Hour}} }, "longer than the period"},
		{"exhaustion within", func(s *Spec) { s.ExhaustionAlerts = []ExhaustionAlert{{Window: time.Hour}} }, "must be positive"},
		{"names clash", func(s *Spec) {
			s.BudgetAlerts = []BudgetAlert{{Consumed: 0.5}, {Name: "t", Consumed: 0.9}}
		}, `alert name "t" is used twice`},
		{"default names clash", func(s *Spec) { s.BudgetAlerts = []BudgetAlert{{Consumed: 0.5}, {Consumed: 0.5}} }, `"budget-50" is used twice`},
		{"no data", func(s *Spec) { s.NoData = -time.Second }, "no-data -1s is negative"},
		{"warm-up as long as long", func(s *Spec) { s.Tiers[0].WarmUp = s.Tiers[0].Long }, ""},
		{"warm-up past long", func(s *Spec) { s.Tiers[0].WarmUp = s.Tiers[0].Long + 1 }, `tier "t": warm-up 10m0.000000001s is longer than the long window 10m0s`},
		{"negative hold", func(s *Spec) { s.Tiers[0].Hold = -1 }, "must not be negative"},
		{"resolve factor past factor", func(s *Spec) { s.Tiers[0].ResolveFactor = 2 }, "resolve factor 2 is not in (0, factor 1.5]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.change(&s)
			err := s.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}
