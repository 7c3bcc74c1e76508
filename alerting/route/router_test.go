package route

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) // a Monday

func dur(d time.Duration) *time.Duration { return &d }

// alert is a firing alert of slo's tier with severity and extra labels.
func alert(slo, tier, severity string, extra ...string) alerting.Alert {
	labels := map[string]string{"alertname": alerting.AlertName, "slo": slo, "tier": tier, "severity": severity}
	for i := 0; i+1 < len(extra); i += 2 {
		labels[extra[i]] = extra[i+1]
	}
	return alerting.Alert{Fingerprint: alerting.Fingerprint(slo, tier), SLO: slo, Tier: tier, Labels: labels, State: alerting.StateFiring, StartsAt: t0}
}

func resolved(a alerting.Alert, at time.Time) alerting.Alert {
	a.State, a.EndsAt = alerting.StateResolved, at
	return a
}

// sent renders notifications as receiver{group}[tier:state,...].
func sent(ns []alerting.Notification) string {
	var out []string
	for _, n := range ns {
		var as []string
		for _, a := range n.Alerts {
			as = append(as, a.Tier+":"+string(a.State))
		}
		out = append(out, n.Receiver+n.GroupKey+"["+strings.Join(as, ",")+"]")
	}
	return strings.Join(out, " ")
}

func newRouter(t *testing.T, opts Options) *Router {
	t.Helper()
	if opts.Receivers == nil {
		opts.Receivers = []Receiver{{Name: "oncall", SendResolved: true}, {Name: "tickets", SendResolved: true}, {Name: "quiet"}}
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// step is one evaluation: at t0+at, these alerts fire (and those resolve);
// want is what is sent.
type step struct {
	at       time.Duration
	firing   []alerting.Alert
	resolved []alerting.Alert
	want     string
}

func run(t *testing.T, r *Router, steps []step) {
	t.Helper()
	for i, s := range steps {
		if got := sent(r.Update(t0.Add(s.at), s.firing, s.resolved)); got != s.want {
			t.Errorf("step %d (+%v): sent %q, want %q", i, s.at, got, s.want)
		}
	}
}

var (
	pageFast   = alert("checkout", "page-fast", "page", "team", "payments")
	pageSlow   = alert("checkout", "page-slow", "page", "team", "payments")
	ticketFast = alert("checkout", "ticket-fast", "ticket", "team", "payments")
	loginPage  = alert("login", "page-fast", "page", "team", "identity")
	bySLO      = Config{Receiver: "oncall", GroupBy: []string{"slo"}}
	gk         = `{}:{slo="checkout"}`
)

func TestGroupingAndTiming(t *testing.T) {
	tests := []struct {
		name  string
		route Config
		steps []step
	}{
		{"defaults send each change at once and repeat after 4h", bySLO, []step{
			{0, []alerting.Alert{pageFast}, nil, "oncall" + gk + "[page-fast:firing]"},
			{time.Second, []alerting.Alert{pageFast}, nil, ""},
			{2 * time.Second, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing]"},
			{4*time.Hour + time.Second, []alerting.Alert{pageFast, pageSlow}, nil, ""},
			{4*time.Hour + 2*time.Second, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing]"},
			// A partial resolution: the notification carries the whole
			// group, so its status stays firing.
			{5 * time.Hour, []alerting.Alert{pageSlow}, []alerting.Alert{resolved(pageFast, t0.Add(5*time.Hour))}, "oncall" + gk + "[page-fast:resolved,page-slow:firing]"},
			{5*time.Hour + time.Second, []alerting.Alert{pageSlow}, nil, ""},
			{6 * time.Hour, nil, []alerting.Alert{resolved(pageSlow, t0.Add(6*time.Hour))}, "oncall" + gk + "[page-slow:resolved]"},
			{7 * time.Hour, nil, nil, ""},
		}},
		{"group wait collects, group interval spaces changes", Config{Receiver: "oncall", GroupBy: []string{"slo"},
			GroupWait: dur(30 * time.Second), GroupInterval: dur(5 * time.Minute), RepeatInterval: dur(time.Hour)}, []step{
			{0, []alerting.Alert{pageFast}, nil, ""},
			{10 * time.Second, []alerting.Alert{pageFast, pageSlow}, nil, ""},
			{30 * time.Second, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing]"},
			{time.Minute, []alerting.Alert{pageFast, pageSlow, ticketFast}, nil, ""},
			{5*time.Minute + 30*time.Second, []alerting.Alert{pageFast, pageSlow, ticketFast}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing,ticket-fast:firing]"},
			{10*time.Minute + 30*time.Second, []alerting.Alert{pageFast, pageSlow, ticketFast}, nil, ""},
			{60*time.Minute + 30*time.Second, []alerting.Alert{pageFast, pageSlow, ticketFast}, nil, ""},
			{65*time.Minute + 30*time.Second, []alerting.Alert{pageFast, pageSlow, ticketFast}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing,ticket-fast:firing]"},
		}},
		{"an alert that fires and resolves between flushes is not sent", Config{Receiver: "oncall", GroupBy: []string{"slo"},
			GroupWait: dur(30 * time.Second)}, []step{
			{0, []alerting.Alert{pageFast}, nil, ""},
			{10 * time.Second, nil, []alerting.Alert{resolved(pageFast, t0.Add(10*time.Second))}, ""},
			{30 * time.Second, nil, nil, ""},
		}},
		{"group_by nothing puts every alert in one group", Config{Receiver: "oncall"}, []step{
			{0, []alerting.Alert{pageFast, loginPage}, nil, "oncall{}:{}[page-fast:firing,page-fast:firing]"},
		}},
		{"group_by ... sends each alert alone", Config{Receiver: "oncall", GroupBy: []string{GroupByAll}}, []step{
			{0, []alerting.Alert{pageFast}, nil, `oncall{}:{alertname="SLOBurnRate",severity="page",slo="checkout",team="payments",tier="page-fast"}[page-fast:firing]`},
		}},
		{"a receiver without send_resolved hears of firing only", Config{Receiver: "quiet", GroupBy: []string{"slo"}}, []step{
			{0, []alerting.Alert{pageFast, pageSlow}, nil, "quiet" + gk + "[page-fast:firing,page-slow:firing]"},
			{time.Minute, []alerting.Alert{pageSlow}, []alerting.Alert{resolved(pageFast, t0.Add(time.Minute))}, ""},
			{2 * time.Minute, nil, []alerting.Alert{resolved(pageSlow, t0.Add(2*time.Minute))}, ""},
			{3 * time.Minute, []alerting.Alert{pageFast}, nil, "quiet" + gk + "[page-fast:firing]"},
		}},
		{"an alert gone without a resolution resolves", bySLO, []step{
			{0, []alerting.Alert{pageFast}, nil, "oncall" + gk + "[page-fast:firing]"},
			{time.Minute, nil, nil, "oncall" + gk + "[page-fast:resolved]"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, newRouter(t, Options{Route: tt.route}), tt.steps)
		})
	}
}

func TestRoutingTree(t *testing.T) {
	route := Config{Receiver: "oncall", GroupBy: []string{"slo"}, Routes: []Config{
		{Matchers: []string{`severity="ticket"`}, Receiver: "tickets"},
		{Matchers: []string{`team=~"pay.*"`}, Receiver: "oncall", Continue: true, GroupBy: []string{"team"}},
		{Matchers: []string{`team!="identity"`}, Receiver: "quiet"},
	}}
	r := newRouter(t, Options{Route: route})
	got := sent(r.Update(t0, []alerting.Alert{pageFast, ticketFast, loginPage}, nil))
	want := `oncall{}/{team=~"pay.*"}:{team="payments"}[page-fast:firing] ` +
		`oncall{}:{slo="login"}[page-fast:firing] ` +
		`quiet{}/{team!="identity"}:{slo="checkout"}[page-fast:firing] ` +
		`tickets{}/{severity="ticket"}:{slo="checkout"}[ticket-fast:firing]`
	if got != want {
		t.Errorf("sent\n%s\nwant\n%s", got, want)
	}
	if rs := r.Receivers(ticketFast.Labels); !slices.Equal(rs, []string{"tickets"}) {
		t.Errorf("Receivers(ticket) = %v", rs)
	}
}

func TestInhibition(t *testing.T) {
	r := newRouter(t, Options{Route: bySLO, Inhibit: DefaultInhibitRules()})
	loginTicket := alert("login", "ticket-fast", "ticket")
	run(t, r, []step{
		// The ticket fires first: sent.
		{0, []alerting.Alert{ticketFast}, nil, "oncall" + gk + "[ticket-fast:firing]"},
		// The page of the same SLO mutes it; another SLO's ticket is not.
		{time.Minute, []alerting.Alert{ticketFast, pageFast, loginTicket}, nil,
			"oncall" + gk + "[page-fast:firing] oncall{}:{slo=\"login\"}[ticket-fast:firing]"},
		// The page resolves: the ticket shows again.
		{2 * time.Minute, []alerting.Alert{ticketFast, loginTicket}, []alerting.Alert{resolved(pageFast, t0.Add(2*time.Minute))},
			"oncall" + gk + "[page-fast:resolved,ticket-fast:firing]"},
	})
	if by := r.InhibitedBy(ticketFast, []alerting.Alert{pageFast}); !slices.Equal(by, []string{pageFast.Fingerprint}) {
		t.Errorf("InhibitedBy = %v", by)
	}
}

type silencer map[string]bool // by tier

func (s silencer) Silenced(labels map[string]string, _ time.Time) bool { return s[labels["tier"]] }

func TestSilencesHoldBack(t *testing.T) {
	s := silencer{"page-slow": true}
	r := newRouter(t, Options{Route: bySLO, Silences: s})
	run(t, r, []step{
		{0, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing]"},
	})
	delete(s, "page-slow")
	run(t, r, []step{
		{time.Minute, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing]"},
	})
}

func TestTimeIntervalsMuteRoutes(t *testing.T) {
	intervals, err := CompileTimeIntervals([]TimeIntervalConfig{
		{Name: "nights", TimeIntervals: []TimeRangeConfig{{Times: []TimeOfDayConfig{{StartTime: "22:00", EndTime: "24:00"}, {StartTime: "00:00", EndTime: "07:00"}}, Location: "Europe/Berlin"}}},
		{Name: "office", TimeIntervals: []TimeRangeConfig{{Weekdays: []string{"monday:friday"}, Times: []TimeOfDayConfig{{StartTime: "09:00", EndTime: "17:00"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	route := Config{Receiver: "oncall", GroupBy: []string{"slo"}, Routes: []Config{
		{Matchers: []string{`severity="ticket"`}, Receiver: "tickets", ActiveTimeIntervals: []string{"office"}},
		{Matchers: []string{`severity="page"`}, Receiver: "oncall", MuteTimeIntervals: []string{"nights"}},
	}}
	r := newRouter(t, Options{Route: route, Intervals: intervals})
	night := time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC) // 23:30 in Berlin, a Monday
	if got := sent(r.Update(night, []alerting.Alert{pageFast, ticketFast}, nil)); got != "" {
		t.Errorf("at night sent %q, want nothing", got)
	}
	morning := time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC) // 09:00 Berlin, 08:00 UTC: office hours are UTC
	want := `oncall{}/{severity="page"}:{slo="checkout"}[page-fast:firing]`
	if got := sent(r.Update(morning, []alerting.Alert{pageFast, ticketFast}, nil)); got != want {
		t.Errorf("in the morning sent %q, want %q (tickets wait for 09:00 UTC)", got, want)
	}
	office := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	if got := sent(r.Update(office, []alerting.Alert{pageFast, ticketFast}, nil)); got != `tickets{}/{severity="ticket"}:{slo="checkout"}[ticket-fast:firing]` {
		t.Errorf("in office hours sent %q", got)
	}
}

func TestTimeIntervals(t *testing.T) {
	cfgs := []TimeIntervalConfig{
		{Name: "weekend", TimeIntervals: []TimeRangeConfig{{Weekdays: []string{"saturday", "sunday"}}}},
		{Name: "month-end", TimeIntervals: []TimeRangeConfig{{DaysOfMonth: []string{"-3:-1"}, Months: []string{"january:march"}, Years: []string{"2026"}}}},
	}
	ti, err := CompileTimeIntervals(cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want bool
	}{
		{"weekend", time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC), true},
		{"weekend", time.Date(2026, 3, 6, 23, 59, 0, 0, time.UTC), false},
		{"month-end", time.Date(2026, 2, 26, 0, 0, 0, 0, time.UTC), true}, // Feb has 28 days
		{"month-end", time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC), false},
		{"month-end", time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC), false},
		{"month-end", time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := ti[tc.name].Contains(tc.at); got != tc.want {
			t.Errorf("%s contains %v = %v, want %v", tc.name, tc.at, got, tc.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{"root receiver", Options{Route: Config{}}, []string{"route.receiver: required on the root route"}},
		{"unknown receiver", Options{Route: Config{Receiver: "oncall", Routes: []Config{{Receiver: "nope"}}}},
			[]string{`route.routes[0].receiver: "nope" is not a receiver`}},
		{"root matchers", Options{Route: Config{Receiver: "oncall", Matchers: []string{`a="b"`}}}, []string{"route.matchers: the root route takes every alert"}},
		{"bad matcher", Options{Route: Config{Receiver: "oncall", Routes: []Config{{Matchers: []string{`severity~"page"`}}, {Matchers: []string{`tier=~"(unclosed"`}}}}},
			[]string{`route.routes[0].matchers[0]: matcher "severity~\"page\""`, "route.routes[1].matchers[0]: matcher tier=~"}},
		{"negative wait", Options{Route: Config{Receiver: "oncall", GroupWait: dur(-time.Second)}}, []string{"route.group_wait: -1s must not be negative"}},
		{"unknown interval", Options{Route: Config{Receiver: "oncall", MuteTimeIntervals: []string{"nights"}}}, []string{`route.mute_time_intervals[0]: "nights" is not a time interval`}},
		{"group by all and more", Options{Route: Config{Receiver: "oncall", GroupBy: []string{"...", "slo"}}}, []string{`route.group_by: "..." groups by every label`}},
		{"inhibit without matchers", Options{Route: bySLO, Inhibit: []InhibitRule{{Equal: []string{"slo"}}}}, []string{"inhibit_rules[0].source_matchers, target_matchers: both are required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Receivers == nil {
				tc.opts.Receivers = []Receiver{{Name: "oncall"}}
			}
			_, err := New(tc.opts)
			for _, want := range tc.want {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("New = %v, want it to contain %q", err, want)
				}
			}
		})
	}
	_, err := CompileTimeIntervals([]TimeIntervalConfig{{Name: "x", TimeIntervals: []TimeRangeConfig{{
		Times: []TimeOfDayConfig{{StartTime: "25:00", EndTime: "26:00"}}, Weekdays: []string{"funday"}, Months: []string{"march:january"}, Location: "Mars/Base"}}}})
	for _, want := range []string{`times[0]: "25:00" is not a time of day`, `weekdays[0]: "funday" is not a name`, `months[0]: "march:january" ends before it starts`, `location: "Mars/Base" is not a time zone`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CompileTimeIntervals = %v, want %q", err, want)
		}
	}
}

// TestSnapshotRestore: a restart neither re-sends what was sent nor loses a
// resolution still due.
func TestSnapshotRestore(t *testing.T) {
	route := Config{Receiver: "oncall", GroupBy: []string{"slo"}, GroupInterval: dur(time.Minute)}
	before := newRouter(t, Options{Route: route})
	run(t, before, []step{
		{0, []alerting.Alert{pageFast, pageSlow}, nil, "oncall" + gk + "[page-fast:firing,page-slow:firing]"},
		{10 * time.Second, []alerting.Alert{pageSlow}, []alerting.Alert{resolved(pageFast, t0.Add(10*time.Second))}, ""},
	})
	b, err := json.Marshal(before.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	var states []GroupState
	if err := json.Unmarshal(b, &states); err != nil {
		t.Fatal(err)
	}
	after := newRouter(t, Options{Route: route})
	if dropped := after.Restore(states); dropped != 0 {
		t.Fatalf("dropped %d groups", dropped)
	}
	run(t, after, []step{
		{30 * time.Second, []alerting.Alert{pageSlow}, nil, ""},
		{time.Minute, []alerting.Alert{pageSlow}, nil, "oncall" + gk + "[page-fast:resolved,page-slow:firing]"},
	})
	// A changed tree drops the groups whose route is gone.
	other := newRouter(t, Options{Route: Config{Receiver: "oncall", Routes: []Config{{Matchers: []string{`a="b"`}}}}})
	if dropped := other.Restore([]GroupState{{Route: "0/0", Key: `{}/{x="y"}:{}`}, {Route: "0/7", Key: "{}/{}:{}"}}); dropped != 2 {
		t.Errorf("dropped %d, want 2", dropped)
	}
}

func TestNotificationsShareNothing(t *testing.T) {
	r := newRouter(t, Options{Route: bySLO})
	a := alert("checkout", "page-fast", "page")
	ns := r.Update(t0, []alerting.Alert{a}, nil)
	ns[0].Alerts[0].Labels["tier"] = "mutated"
	ns[0].GroupLabels["slo"] = "mutated"
	states := r.Snapshot()
	if got := states[0].Alerts[0].Labels["tier"]; got != "page-fast" || !maps.Equal(states[0].Labels, map[string]string{"slo": "checkout"}) {
		t.Errorf("mutating a notification changed the router: %v %v", states[0].Alerts[0].Labels, states[0].Labels)
	}
	if ns2 := r.Update(t0.Add(time.Second), []alerting.Alert{a}, nil); len(ns2) != 0 || ns[0].ID == "" {
		t.Errorf("notifications %v, id %q", ns2, ns[0].ID)
	}
	_ = fmt.Sprint
}
