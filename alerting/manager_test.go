package alerting

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// step is one evaluation in a lifecycle test: at t0+at, page-fast fires or
// not; want lists the states of the notifications it must produce.
type step struct {
	at     time.Duration
	firing bool
	want   []State
}

func TestManagerLifecycle(t *testing.T) {
	F, R := StateFiring, StateResolved
	tests := []struct {
		name  string
		opts  Options
		steps []step
	}{
		{
			name: "fires once then resolves at once",
			opts: DefaultOptions(),
			steps: []step{
				{0, false, nil},
				{time.Second, true, []State{F}},
				{2 * time.Second, true, nil},
				{time.Hour, true, nil},
				{time.Hour + time.Second, false, []State{R}},
				{time.Hour + 2*time.Second, false, nil},
			},
		},
		{
			name: "keep firing for holds through a dip",
			opts: Options{KeepFiringFor: 10 * time.Minute},
			steps: []step{
				{0, true, []State{F}},
				{time.Minute, false, nil}, // keep firing since 1m
				{10*time.Minute + 59*time.Second, false, nil},
				{11 * time.Minute, true, nil},  // back within the window: same alert
				{15 * time.Minute, false, nil}, // keep firing since 15m
				{25*time.Minute - time.Second, false, nil},
				{25 * time.Minute, false, []State{R}},
			},
		},
		{
			name: "keep firing for then resolves",
			opts: Options{KeepFiringFor: time.Hour},
			steps: []step{
				{0, true, []State{F}},
				{10 * time.Minute, false, nil},
				{30 * time.Minute, false, nil},
				{70 * time.Minute, false, []State{R}},
			},
		},
		{
			name: "fires again after resolving",
			opts: DefaultOptions(),
			steps: []step{
				{0, true, []State{F}},
				{time.Second, false, []State{R}},
				{2 * time.Second, true, []State{F}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(tt.opts)
			spec := checkoutSpec()
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				ns := m.Update(now, []slo.Status{checkoutStatus(spec, map[string]bool{"page-fast": s.firing})})
				var got []State
				for _, n := range ns {
					got = append(got, n.Alert.State)
					if n.Alert.Tier != "page-fast" {
						t.Errorf("step %d: notification for tier %s", i, n.Alert.Tier)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Errorf("step %d (+%v, firing %v): notifications %v, want %v", i, s.at, s.firing, got, s.want)
				}
			}
		})
	}
}

func TestManagerNotificationFields(t *testing.T) {
	m := NewManager(DefaultOptions())
	spec := checkoutSpec()
	ns := m.Update(t0, []slo.Status{checkoutStatus(spec, map[string]bool{"page-fast": true, "page-slow": true})})
	if len(ns) != 2 || ns[0].Alert.Tier != "page-fast" || ns[1].Alert.Tier != "page-slow" {
		t.Fatalf("notifications = %+v, want page-fast then page-slow", ns)
	}
	n := ns[0]
	if n.Alert.State != StateFiring || !n.Alert.StartsAt.Equal(t0) || !n.Alert.EndsAt.IsZero() || !n.At.Equal(t0) {
		t.Errorf("firing: state %s startsAt %v endsAt %v at %v", n.Alert.State, n.Alert.StartsAt, n.Alert.EndsAt, n.At)
	}
	if n.Alert.Fingerprint != Fingerprint(spec.Name, "page-fast") {
		t.Errorf("fingerprint %s", n.Alert.Fingerprint)
	}
	if ns[0].ID == ns[1].ID {
		t.Errorf("two notifications share ID %s", ns[0].ID)
	}
	// Notifications must not share maps with the manager's state.
	n.Alert.Labels["tier"] = "mutated"
	if got := m.Firing()[0].Labels["tier"]; got != "page-fast" {
		t.Errorf("mutating a notification changed the manager: tier %q", got)
	}

	t1 := t0.Add(time.Minute)
	ns = m.Update(t1, []slo.Status{checkoutStatus(spec, map[string]bool{"page-slow": true})})
	if len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1 resolved", len(ns))
	}
	r := ns[0].Alert
	if r.State != StateResolved || r.Tier != "page-fast" || !r.StartsAt.Equal(t0) || !r.EndsAt.Equal(t1) || !r.LastEvaluated.Equal(t1) {
		t.Errorf("resolved: %s %s startsAt %v endsAt %v lastEvaluated %v", r.State, r.Tier, r.StartsAt, r.EndsAt, r.LastEvaluated)
	}
	if ns[0].ID == n.ID {
		t.Errorf("resolved notification reuses the firing ID %s", n.ID)
	}

	firing := m.Firing()
	if len(firing) != 1 || firing[0].Tier != "page-slow" || !firing[0].LastEvaluated.Equal(t1) {
		t.Errorf("Firing() = %+v, want page-slow evaluated at t1", firing)
	}
}

func TestManagerDisappearingSLOResolves(t *testing.T) {
	m := NewManager(Options{KeepFiringFor: time.Hour})
	checkout := checkoutSpec()
	login := checkoutSpec()
	login.Name = "login-availability"
	all := map[string]bool{"page-fast": true, "ticket-slow": true}
	ns := m.Update(t0, []slo.Status{checkoutStatus(checkout, all), checkoutStatus(login, all)})
	if len(ns) != 4 {
		t.Fatalf("got %d firing notifications, want 4", len(ns))
	}

	// A reload drops login and checkout's ticket-slow tier: both resolve at
	// once, KeepFiringFor notwithstanding, sorted by SLO and tier.
	checkout.Tiers = checkout.Tiers[:3]
	t1 := t0.Add(time.Second)
	ns = m.Update(t1, []slo.Status{checkoutStatus(checkout, all)})
	var got []string
	for _, n := range ns {
		got = append(got, n.Alert.SLO+"/"+n.Alert.Tier+"/"+string(n.Alert.State))
		if !n.Alert.EndsAt.Equal(t1) || !n.Alert.LastEvaluated.Equal(t0) {
			t.Errorf("%s: endsAt %v lastEvaluated %v", n.Alert.SLO, n.Alert.EndsAt, n.Alert.LastEvaluated)
		}
	}
	want := "checkout-availability/ticket-slow/resolved login-availability/page-fast/resolved login-availability/ticket-slow/resolved"
	if strings.Join(got, " ") != want {
		t.Errorf("notifications %v, want %s", got, want)
	}
	if f := m.Firing(); len(f) != 1 || f[0].SLO != "checkout-availability" || f[0].Tier != "page-fast" {
		t.Errorf("Firing() = %v", f)
	}
}

func TestManagerRestore(t *testing.T) {
	spec := checkoutSpec()
	firing := map[string]bool{"page-fast": true}
	before := NewManager(DefaultOptions())
	if ns := before.Update(t0, []slo.Status{checkoutStatus(spec, firing)}); len(ns) != 1 {
		t.Fatalf("got %d notifications, want 1", len(ns))
	}

	// The checkpoint goes through JSON, as storage will write it.
	b, err := json.Marshal(before.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var states []AlertState
	if err := json.Unmarshal(b, &states); err != nil {
		t.Fatal(err)
	}

	after := NewManager(DefaultOptions())
	if err := after.Restore(states); err != nil {
		t.Fatal(err)
	}
	if ns := after.Update(t0.Add(time.Minute), []slo.Status{checkoutStatus(spec, firing)}); len(ns) != 0 {
		t.Errorf("restored firing alert notified again: %+v", ns)
	}
	ns := after.Update(t0.Add(5*time.Hour), []slo.Status{checkoutStatus(spec, nil)})
	if len(ns) != 1 || ns[0].Alert.State != StateResolved || !ns[0].Alert.StartsAt.Equal(t0) {
		t.Errorf("resolve after restore = %+v, want resolved with the original StartsAt", ns)
	}
}

func TestManagerRestoreSkipsInvalid(t *testing.T) {
	good := AlertState{Alert: Alert{SLO: "checkout", Tier: "page-fast", State: StateFiring, Fingerprint: "stale"}}
	states := []AlertState{
		good,
		{Alert: Alert{SLO: "", Tier: "page-fast", State: StateFiring}},
		{Alert: Alert{SLO: "login", Tier: "page-fast", State: StateResolved}},
	}
	m := NewManager(DefaultOptions())
	err := m.Restore(states)
	if err == nil || !strings.Contains(err.Error(), "alert state 1") || !strings.Contains(err.Error(), "alert state 2") {
		t.Errorf("Restore error = %v, want entries 1 and 2 named", err)
	}
	f := m.Firing()
	if len(f) != 1 || f[0].SLO != "checkout" {
		t.Fatalf("Firing() = %+v, want checkout only", f)
	}
	if f[0].Fingerprint != Fingerprint("checkout", "page-fast") {
		t.Errorf("fingerprint %s was not recomputed", f[0].Fingerprint)
	}
}

// condStep is one evaluation in a condition lifecycle test: at that time the
// SLO's only condition is cond; want lists the states of the notifications
// it must produce, and explain the Explain of the last one.
type condStep struct {
	at      time.Time
	cond    slo.ConditionStatus
	want    []State
	explain string
}

func TestManagerConditions(t *testing.T) {
	F, R := StateFiring, StateResolved
	// budget is the budget-50 condition with consumed spent.
	budget := func(consumed float64) slo.ConditionStatus {
		return slo.ConditionStatus{Name: "budget-50", Kind: slo.BudgetConsumed, Severity: slo.Ticket,
			Firing: consumed >= 0.5, Value: consumed, Threshold: 0.5}
	}
	// exhaustion is the exhaustion-1d condition at a 1h burn rate that
	// spends the budget left in tte.
	exhaustion := func(tte time.Duration, burn float64) slo.ConditionStatus {
		return slo.ConditionStatus{Name: "exhaustion-1d", Kind: slo.Exhaustion, Severity: slo.Page,
			Firing: tte <= 24*time.Hour, Value: tte.Seconds(), Threshold: 86400, Window: time.Hour, Burn: burn}
	}
	// noData is the no-data condition after silence without events.
	noData := func(silence time.Duration) slo.ConditionStatus {
		return slo.ConditionStatus{Name: "no-data", Kind: slo.NoData, Severity: slo.Ticket,
			Firing: silence >= 10*time.Minute, Value: silence.Seconds(), Threshold: 600}
	}
	at := func(month time.Month, day, hour, min int) time.Time {
		return time.Date(2026, month, day, hour, min, 0, 0, time.UTC)
	}
	tests := []struct {
		name      string
		opts      Options
		kind      Kind
		alertName string
		severity  slo.Severity
		steps     []condStep
	}{
		{
			// A calendar month in Berlin: the engine resets what is spent
			// at local midnight on the 1st, 22:00 UTC on 31 March 2026.
			name: "budget consumed fires and resolves when a new month starts",
			opts: DefaultOptions(), kind: KindBudget, alertName: "SLOErrorBudgetConsumed", severity: slo.Ticket,
			steps: []condStep{
				{at: at(3, 20, 10, 0), cond: budget(0.45)},
				{at: at(3, 20, 11, 0), cond: budget(0.523), want: []State{F},
					explain: "checkout-availability has spent 52.3% of its month's error budget (threshold 50%)"},
				{at: at(3, 20, 14, 59), cond: budget(0.6)},
				{at: at(3, 20, 15, 0), cond: budget(0.61)}, // repeats are the route's
				{at: at(3, 31, 21, 59), cond: budget(0.9)},
				{at: at(3, 31, 22, 0), cond: budget(0), want: []State{R},
					explain: "checkout-availability has spent 0.0% of its month's error budget, below the 50% threshold"},
				{at: at(4, 1, 9, 0), cond: budget(0.1)},
			},
		},
		{
			name: "exhaustion fires within the horizon and resolves beyond it",
			opts: DefaultOptions(), kind: KindExhaustion, alertName: "SLOErrorBudgetExhaustion", severity: slo.Page,
			steps: []condStep{
				{at: t0, cond: exhaustion(3*24*time.Hour, 1.1)},
				{at: t0.Add(time.Minute), cond: exhaustion(18*time.Hour+20*time.Minute, 3.2), want: []State{F},
					explain: "checkout-availability will exhaust its error budget in 18h 20m at the 1h burn rate 3.2x (alert within 1d)"},
				{at: t0.Add(time.Hour), cond: exhaustion(10*time.Hour, 5)},
				{at: t0.Add(2 * time.Hour), cond: exhaustion(NeverExhausted, 0), want: []State{R},
					explain: "checkout-availability no longer exhausts its error budget within 1d: it does not run out at the 1h burn rate 0.0x"},
			},
		},
		{
			name: "no data fires after the silence and resolves when events return",
			opts: Options{KeepFiringFor: 5 * time.Minute}, kind: KindNoData, alertName: "SLONoData", severity: slo.Ticket,
			steps: []condStep{
				{at: t0, cond: noData(9 * time.Minute)},
				{at: t0.Add(3 * time.Minute), cond: noData(12 * time.Minute), want: []State{F},
					explain: "checkout has sent no events for 12m (alert after 10m)"},
				{at: t0.Add(4 * time.Minute), cond: noData(0)}, // kept firing for 5m
				{at: t0.Add(6 * time.Minute), cond: noData(11 * time.Minute)},
				{at: t0.Add(7 * time.Minute), cond: noData(0)},
				{at: t0.Add(12*time.Minute - time.Second), cond: noData(time.Second)},
				{at: t0.Add(12 * time.Minute), cond: noData(0), want: []State{R},
					explain: "checkout sends events again (alert after 10m without any)"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(tt.opts)
			spec := checkoutSpec()
			spec.Calendar = &slo.Calendar{Unit: slo.Month}
			var firstAt time.Time
			for i, s := range tt.steps {
				st := checkoutStatus(spec, nil)
				st.Conditions = []slo.ConditionStatus{s.cond}
				ns := m.Update(s.at, []slo.Status{st})
				var got []State
				for _, n := range ns {
					got = append(got, n.Alert.State)
				}
				if fmt.Sprint(got) != fmt.Sprint(s.want) {
					t.Fatalf("step %d (%v): notifications %v, want %v", i, s.at, got, s.want)
				}
				if len(ns) == 0 {
					continue
				}
				a := ns[0].Alert
				if firstAt.IsZero() {
					firstAt = s.at
				}
				if got := a.Explain(); got != s.explain {
					t.Errorf("step %d: Explain()\n got %s\nwant %s", i, got, s.explain)
				}
				if a.Kind != tt.kind || a.Tier != s.cond.Name || a.Severity != tt.severity ||
					a.Fingerprint != Fingerprint(spec.Name, s.cond.Name) || !a.StartsAt.Equal(firstAt) {
					t.Errorf("step %d: kind %q tier %q severity %q fingerprint %s startsAt %v", i, a.Kind, a.Tier, a.Severity, a.Fingerprint, a.StartsAt)
				}
				if a.Labels["alertname"] != tt.alertName || a.Labels["tier"] != s.cond.Name || a.Labels["severity"] != string(tt.severity) {
					t.Errorf("step %d: labels %v", i, a.Labels)
				}
				if a.State == StateResolved && !a.EndsAt.Equal(s.at) {
					t.Errorf("step %d: EndsAt %v, want %v", i, a.EndsAt, s.at)
				}
			}
			if f := m.Firing(); len(f) != 0 {
				t.Errorf("still firing at the end: %+v", f)
			}
		})
	}
}

// TestManagerTiersAndConditions runs tiers and conditions of two SLOs
// together: each is its own alert, a disabled tier (absent from the spec and
// so from the status) makes none, and a reload that drops a condition or an
// SLO resolves its alerts at once.
func TestManagerTiersAndConditions(t *testing.T) {
	m := NewManager(Options{KeepFiringFor: time.Hour})
	checkout := checkoutSpec()
	// page-fast is disabled: the spec has the other three tiers only.
	checkout.Tiers = checkout.Tiers[1:]
	login := checkoutSpec()
	login.Name, login.Flow = "login-availability", "login"
	conds := []slo.ConditionStatus{
		{Name: "budget-50", Kind: slo.BudgetConsumed, Severity: slo.Ticket, Firing: true, Value: 0.7, Threshold: 0.5},
		{Name: "no-data", Kind: slo.NoData, Severity: slo.Page, Firing: true, Value: 900, Threshold: 600},
		// Named like a tier: the tier wins, this is ignored.
		{Name: "page-slow", Kind: slo.BudgetConsumed, Severity: slo.Ticket, Firing: true, Value: 1, Threshold: 0.9},
	}
	// Every window burns at 20x: page-fast would fire were it enabled.
	all := map[string]bool{"page-fast": true, "page-slow": true, "ticket-fast": true, "ticket-slow": true}
	statuses := func(checkoutConds, loginConds []slo.ConditionStatus, withLogin bool) []slo.Status {
		c := checkoutStatus(checkout, all)
		c.Conditions = checkoutConds
		out := []slo.Status{c}
		if withLogin {
			l := checkoutStatus(login, nil)
			l.Conditions = loginConds
			out = append(out, l)
		}
		return out
	}
	names := func(ns []Transition) string {
		var s []string
		for _, n := range ns {
			s = append(s, n.Alert.SLO+"/"+n.Alert.Tier+"/"+string(n.Alert.Kind)+"/"+string(n.Alert.State))
		}
		return strings.Join(s, " ")
	}

	ns := m.Update(t0, statuses(conds, conds[1:2], true))
	want := "checkout-availability/page-slow/burn/firing checkout-availability/ticket-fast/burn/firing checkout-availability/ticket-slow/burn/firing " +
		"checkout-availability/budget-50/budget/firing checkout-availability/no-data/nodata/firing login-availability/no-data/nodata/firing"
	if got := names(ns); got != want {
		t.Errorf("first evaluation:\n got %s\nwant %s", got, want)
	}
	for _, n := range ns {
		if n.Alert.SLO == "checkout-availability" && n.Alert.Tier == "page-slow" && n.Alert.Kind != KindBurn {
			t.Errorf("page-slow is a %s alert, want the tier", n.Alert.Kind)
		}
	}

	// The condition's value moves; no transition.
	conds[0].Value = 0.8
	if ns := m.Update(t0.Add(30*time.Minute), statuses(conds, conds[1:2], true)); len(ns) != 0 {
		t.Errorf("a moving value made transitions: %s", names(ns))
	}
	if f := m.Firing(); len(f) != 6 || f[0].Tier != "budget-50" || f[0].Consumed != 0.8 {
		t.Errorf("Firing() = %+v, want 6 alerts with budget-50 first at 80%% spent", f)
	}

	// A reload drops checkout's no-data condition and the login SLO: both
	// resolve at once, KeepFiringFor notwithstanding.
	t1 := t0.Add(40 * time.Minute)
	ns = m.Update(t1, statuses(conds[:1], nil, false))
	want = "checkout-availability/no-data/nodata/resolved login-availability/no-data/nodata/resolved"
	if got := names(ns); got != want {
		t.Errorf("after the reload:\n got %s\nwant %s", got, want)
	}

	// Snapshot and Restore keep condition alerts, with their kind, through
	// JSON: they stay firing without a new transition.
	b, err := json.Marshal(m.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var states []AlertState
	if err := json.Unmarshal(b, &states); err != nil {
		t.Fatal(err)
	}
	after := NewManager(Options{KeepFiringFor: time.Hour})
	if err := after.Restore(states); err != nil {
		t.Fatal(err)
	}
	f := after.Firing()
	if len(f) != 4 || f[0].Tier != "budget-50" || f[0].Kind != KindBudget || f[0].ConsumedThreshold != 0.5 {
		t.Fatalf("restored %+v, want budget-50 and three tiers", f)
	}
	if ns = after.Update(t0.Add(time.Hour), statuses(conds[:1], nil, false)); len(ns) != 0 {
		t.Errorf("transitions after restore: %s", names(ns))
	}
}

func TestManagerRestoreOldSnapshotIsBurn(t *testing.T) {
	// A checkpoint from before alerts had kinds.
	old := `[{"alert":{"slo":"checkout","tier":"page-fast","state":"firing","starts_at":"2026-03-01T12:00:00Z"},"last_notified":"2026-03-01T12:00:00Z"}]`
	var states []AlertState
	if err := json.Unmarshal([]byte(old), &states); err != nil {
		t.Fatal(err)
	}
	m := NewManager(DefaultOptions())
	if err := m.Restore(states); err != nil {
		t.Fatal(err)
	}
	if f := m.Firing(); len(f) != 1 || f[0].Kind != KindBurn {
		t.Errorf("restored %+v, want one burn alert", f)
	}
}

// An empty short window is no evidence of recovery: a firing alert holds
// until events show the burn stopped, and an alert never fires on none.
func TestManagerHoldsOnEmptyShortWindow(t *testing.T) {
	m := NewManager(DefaultOptions())
	spec := checkoutSpec()
	empty := func(firing bool) slo.Status {
		st := checkoutStatus(spec, map[string]bool{"page-fast": firing})
		for i := range st.Tiers {
			st.Tiers[i].Short = slo.WindowStats{Window: st.Tiers[i].Tier.Short}
			st.Tiers[i].Firing = false // burn over an empty window reads 0
		}
		return st
	}
	steps := []struct {
		st   slo.Status
		want string
	}{
		{empty(false), "[]"}, // nothing firing, nothing to hold
		{checkoutStatus(spec, map[string]bool{"page-fast": true}), "[firing]"},
		{empty(false), "[]"}, // a restart or a paused sender: hold
		{empty(false), "[]"},
		{checkoutStatus(spec, map[string]bool{"page-fast": false}), "[resolved]"}, // events, no burn
	}
	for i, s := range steps {
		var got []State
		for _, n := range m.Update(t0.Add(time.Duration(i)*time.Second), []slo.Status{s.st}) {
			got = append(got, n.Alert.State)
		}
		if fmt.Sprint(got) != s.want {
			t.Errorf("step %d: notifications %v, want %s", i, got, s.want)
		}
	}
}

// quality is a status of checkout's page-fast tier burning at long and
// short, with a hold and resolve factor; Firing as the engine decides it.
func quality(spec *slo.Spec, long, short float64) slo.Status {
	st := checkoutStatus(spec, nil)
	ts := &st.Tiers[0]
	ts.Tier.Hold, ts.Tier.ResolveFactor = 10*time.Minute, 10
	ts.Long.Burn, ts.Short.Burn = long, short
	ts.Long.Bad, ts.Short.Bad = 100, 10
	ts.Firing = long > ts.Tier.Factor && short > ts.Tier.Factor
	return st
}

// TestManagerHysteresis: a firing tier resolves only once both windows
// stayed at or below its resolve factor for its hold; dipping below the
// factor alone, or briefly, is not a resolution.
func TestManagerHysteresis(t *testing.T) {
	m := NewManager(DefaultOptions())
	spec := checkoutSpec()
	steps := []struct {
		at          time.Duration
		long, short float64
		want        []State
	}{
		{0, 20, 20, []State{StateFiring}},
		{time.Minute, 12, 12, nil},                  // below the factor 14.4, above the resolve factor 10: holds
		{2 * time.Minute, 9, 9, nil},                // the hold begins
		{11 * time.Minute, 9, 11, nil},              // short window back above 10 only: still below in one window
		{11*time.Minute + time.Second, 11, 11, nil}, // above again: the hold restarts
		{12 * time.Minute, 5, 5, nil},
		{22*time.Minute - time.Second, 5, 5, nil},
		{22 * time.Minute, 5, 5, []State{StateResolved}},
	}
	for i, s := range steps {
		var got []State
		for _, tr := range m.Update(t0.Add(s.at), []slo.Status{quality(spec, s.long, s.short)}) {
			got = append(got, tr.Alert.State)
		}
		if fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Errorf("step %d (+%v, burns %v/%v): transitions %v, want %v", i, s.at, s.long, s.short, got, s.want)
		}
	}
}

// TestManagerCountsFlaps: firing again within the flap window after a
// resolution is a flap, counted per alert on the alert and across restarts.
func TestManagerCountsFlaps(t *testing.T) {
	m := NewManager(Options{FlapWindow: 30 * time.Minute})
	spec := checkoutSpec()
	on := func(at time.Duration) []Transition {
		return m.Update(t0.Add(at), []slo.Status{checkoutStatus(spec, map[string]bool{"page-fast": true})})
	}
	off := func(at time.Duration) []Transition {
		return m.Update(t0.Add(at), []slo.Status{checkoutStatus(spec, nil)})
	}
	if ts := on(0); len(ts) != 1 || ts[0].Alert.Flaps != 0 {
		t.Fatalf("first firing %+v", ts)
	}
	off(time.Minute)
	if ts := on(10 * time.Minute); len(ts) != 1 || ts[0].Alert.Flaps != 1 {
		t.Fatalf("re-firing 9m after resolving: %+v, want flaps 1", ts)
	}
	off(11 * time.Minute)
	// A restart keeps the count and when it last resolved.
	b, _ := json.Marshal(m.FlapStates())
	var fs []FlapState
	_ = json.Unmarshal(b, &fs)
	m = NewManager(Options{FlapWindow: 30 * time.Minute})
	m.RestoreFlaps(fs)
	if ts := on(20 * time.Minute); len(ts) != 1 || ts[0].Alert.Flaps != 2 {
		t.Fatalf("re-firing after a restart: %+v, want flaps 2", ts)
	}
	off(21 * time.Minute)
	if ts := on(21*time.Minute + 31*time.Minute); len(ts) != 1 || ts[0].Alert.Flaps != 2 {
		t.Fatalf("firing 31m after resolving: %+v, want no new flap (2)", ts)
	}
}

// TestManagerResolvesOnSparseTraffic: the good events that begin a tier's
// hold may leave its short window before the hold ends; an empty short
// window then lets the hold run out instead of restarting it.
func TestManagerResolvesOnSparseTraffic(t *testing.T) {
	m := NewManager(DefaultOptions())
	spec := checkoutSpec()
	st := func(long, short float64, shortTotal uint64) []slo.Status {
		s := quality(spec, long, short)
		s.Tiers[0].Short.Total = shortTotal
		return []slo.Status{s}
	}
	steps := []struct {
		at   time.Duration
		s    []slo.Status
		want int
	}{
		{0, st(20, 20, 100), 1},            // fires
		{time.Minute, st(5, 0, 300), 0},    // good events: the hold begins
		{2 * time.Minute, st(5, 0, 0), 0},  // they left the short window: no evidence, hold goes on
		{11 * time.Minute, st(5, 0, 0), 1}, // the 10m hold ran out: resolved
	}
	for i, s := range steps {
		if got := len(m.Update(t0.Add(s.at), s.s)); got != s.want {
			t.Errorf("step %d: %d transitions, want %d", i, got, s.want)
		}
	}
}
