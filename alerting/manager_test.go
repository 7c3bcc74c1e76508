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
			name: "repeats after the repeat interval",
			opts: DefaultOptions(),
			steps: []step{
				{0, true, []State{F}},
				{4*time.Hour - time.Second, true, nil},
				{4 * time.Hour, true, []State{F}},
				{8*time.Hour - time.Second, true, nil},
				{8 * time.Hour, true, []State{F}},
			},
		},
		{
			name: "zero repeat interval never repeats",
			opts: Options{},
			steps: []step{
				{0, true, []State{F}},
				{100 * time.Hour, true, nil},
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
			name: "keep firing for still repeats",
			opts: Options{KeepFiringFor: time.Hour, RepeatInterval: 30 * time.Minute},
			steps: []step{
				{0, true, []State{F}},
				{10 * time.Minute, false, nil},
				{30 * time.Minute, false, []State{F}},
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
	if len(n.GroupLabels) != 1 || n.GroupLabels["slo"] != spec.Name {
		t.Errorf("group labels %v, want slo only", n.GroupLabels)
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
	// The repeat interval counts from the notification before the restart.
	if ns := after.Update(t0.Add(4*time.Hour), []slo.Status{checkoutStatus(spec, firing)}); len(ns) != 1 || ns[0].Alert.State != StateFiring {
		t.Errorf("after 4h got %+v, want one repeat", ns)
	}
	ns := after.Update(t0.Add(5*time.Hour), []slo.Status{checkoutStatus(spec, nil)})
	if len(ns) != 1 || ns[0].Alert.State != StateResolved || !ns[0].Alert.StartsAt.Equal(t0) {
		t.Errorf("resolve after restore = %+v, want resolved with the original StartsAt", ns)
	}
}

func TestManagerRestoreSkipsInvalid(t *testing.T) {
	good := AlertState{Alert: Alert{SLO: "checkout", Tier: "page-fast", State: StateFiring, Fingerprint: "stale"}, LastNotified: t0}
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
