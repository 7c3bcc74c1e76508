package alerting

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/slo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func checkoutSpec() *slo.Spec {
	return &slo.Spec{
		Name:        "checkout-availability",
		Labels:      map[string]string{"team": "payments", "slo": "spoofed", "severity": "spoofed"},
		Description: "Checkout requests succeed.",
		Flow:        "checkout",
		Objective:   slo.Availability,
		Target:      0.999,
		Period:      slo.DefaultPeriod,
		Tiers:       slo.DefaultTiers(slo.DefaultPeriod),
		Runbook:     "https://runbooks.example.com/checkout",
		Dashboard:   "https://grafana.example.com/d/checkout",
	}
}

// checkoutStatus is the brief's example: 20.1x over 1h, 35.2x over 5m on the
// page-fast tier, 97.3% budget left.
func checkoutStatus(spec *slo.Spec, firing map[string]bool) slo.Status {
	st := slo.Status{
		SLO:        spec,
		At:         t0,
		Period:     slo.WindowStats{Window: spec.Period, Total: 1_000_000, Bad: 27},
		BudgetLeft: 0.973,
		Exemplars: []slo.Exemplar{
			{TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}},
			{}, // no trace ID: skipped
			{TraceID: [16]byte{1}},
			{TraceID: [16]byte{2}},
			{TraceID: [16]byte{3}},
		},
	}
	for _, tier := range spec.Tiers {
		ts := slo.TierStatus{
			Tier:   tier,
			Long:   slo.WindowStats{Window: tier.Long, Total: 10_000, Bad: 201, Burn: 20.1},
			Short:  slo.WindowStats{Window: tier.Short, Total: 1_000, Bad: 35, Burn: 35.2},
			Enough: true,
			Firing: firing[tier.Name],
			// As the engine gives them: the prefix inside the long window.
			Exemplars: st.Exemplars,
		}
		if !ts.Firing {
			// As the engine gives a tier that does not fire: burns below its
			// factor.
			ts.Long.Bad, ts.Long.Burn = 5, 0.5
			ts.Short.Bad, ts.Short.Burn = 0, 0
		}
		st.Tiers = append(st.Tiers, ts)
	}
	return st
}

func TestFingerprint(t *testing.T) {
	// A fixed value: a change would re-page every open incident after an
	// upgrade, since the fingerprint is PagerDuty's dedup_key.
	if got, want := Fingerprint("checkout-availability", "page-fast"), "5eb672bf510f22f8"; got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	tests := []struct{ a, b [2]string }{
		{[2]string{"checkout", "page-fast"}, [2]string{"checkout", "page-slow"}},
		{[2]string{"a", "bc"}, [2]string{"ab", "c"}},
		{[2]string{"checkout", "page-fast"}, [2]string{"login", "page-fast"}},
	}
	for _, tt := range tests {
		if Fingerprint(tt.a[0], tt.a[1]) == Fingerprint(tt.b[0], tt.b[1]) {
			t.Errorf("Fingerprint%v == Fingerprint%v", tt.a, tt.b)
		}
	}
}

func TestNewAlert(t *testing.T) {
	spec := checkoutSpec()
	st := checkoutStatus(spec, map[string]bool{"page-fast": true})
	a := newAlert(t0, &st, &st.Tiers[0])

	wantLabels := map[string]string{
		"alertname": "SLOBurnRate", "slo": "checkout-availability", "flow": "checkout",
		"tier": "page-fast", "severity": "page", "team": "payments",
	}
	if len(a.Labels) != len(wantLabels) {
		t.Errorf("labels = %v, want %v", a.Labels, wantLabels)
	}
	for k, v := range wantLabels {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	wantTraces := []string{"4bf92f3577b34da6a3ce929d0e0e4736", "01000000000000000000000000000000", "02000000000000000000000000000000"}
	if strings.Join(a.TraceIDs, ",") != strings.Join(wantTraces, ",") {
		t.Errorf("TraceIDs = %v, want %v", a.TraceIDs, wantTraces)
	}
	// A tier links only the bad events inside its long window.
	st.Tiers[0].Exemplars = st.Exemplars[2:3]
	if a := newAlert(t0, &st, &st.Tiers[0]); strings.Join(a.TraceIDs, ",") != wantTraces[1] {
		t.Errorf("TraceIDs = %v, want the tier's one exemplar %s", a.TraceIDs, wantTraces[1])
	}
	st.Tiers[0].Exemplars = nil
	if a := newAlert(t0, &st, &st.Tiers[0]); a.TraceIDs != nil {
		t.Errorf("TraceIDs = %v for a tier without exemplars in its window", a.TraceIDs)
	}
	if a.Good != 1_000_000-27 || a.Total != 1_000_000 {
		t.Errorf("good/total = %d/%d", a.Good, a.Total)
	}
	if a.Long.Window != time.Hour || a.Short.Window != 5*time.Minute || a.Factor != 14.4 {
		t.Errorf("windows %v/%v factor %v", a.Long.Window, a.Short.Window, a.Factor)
	}
	if want := slo.TimeToExhaustion(0.973, 20.1, slo.DefaultPeriod); a.TimeToExhaustion != want {
		t.Errorf("TimeToExhaustion = %v, want %v (long window burn)", a.TimeToExhaustion, want)
	}
	if a.Threshold != 0 || a.Objective != "availability" {
		t.Errorf("objective %q threshold %v", a.Objective, a.Threshold)
	}
	if a.Kind != KindBurn || a.Calendar != "" || a.Consumed != 0 || a.Within != 0 {
		t.Errorf("kind %q calendar %q consumed %v within %v", a.Kind, a.Calendar, a.Consumed, a.Within)
	}

	// Non-finite numbers would make the alert impossible to checkpoint.
	st.BudgetLeft = math.NaN()
	st.Tiers[0].Long.Burn = math.Inf(1)
	a = newAlert(t0, &st, &st.Tiers[0])
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("marshal alert with non-finite inputs: %v", err)
	}
}

// TestAlertLabels checks the precedence of an alert's labels: the flow's,
// then the SLO's, then the SLO's alert labels, then the reserved labels,
// which nothing overrides.
func TestAlertLabels(t *testing.T) {
	spec := checkoutSpec()
	spec.FlowLabels = map[string]string{"team": "flow", "service": "shop", "region": "flow", "criticality": "spoofed", "tier": "spoofed"}
	spec.Labels = map[string]string{"team": "slo", "region": "slo", "alertname": "spoofed", "slo": "spoofed"}
	spec.AlertLabels = map[string]string{"region": "alert", "channel": "payments-oncall"}
	spec.Criticality = "critical"
	st := checkoutStatus(spec, nil)

	a := newAlert(t0, &st, &st.Tiers[0])
	want := map[string]string{
		"service": "shop",            // the flow's only
		"team":    "slo",             // the SLO's over the flow's
		"region":  "alert",           // the alert label over both
		"channel": "payments-oncall", // the alert label only
		// Reserved: set by Burnwatch whatever the others say.
		"alertname": "SLOBurnRate", "slo": "checkout-availability", "flow": "checkout",
		"tier": "page-fast", "severity": "page", "criticality": "critical",
	}
	if !maps.Equal(a.Labels, want) {
		t.Errorf("labels:\n got %v\nwant %v", a.Labels, want)
	}
	// A condition alert gets the same labels but its own alertname, tier
	// and severity.
	cond := newConditionAlert(t0, &st, &slo.ConditionStatus{Kind: slo.NoData, Name: slo.NoDataName, Severity: slo.Ticket})
	want["alertname"], want["tier"], want["severity"] = AlertNameNoData, slo.NoDataName, "ticket"
	if !maps.Equal(cond.Labels, want) {
		t.Errorf("no-data labels:\n got %v\nwant %v", cond.Labels, want)
	}

	// An SLO without a criticality (built in code, not from a flow) has no
	// criticality label, not even one of its own.
	spec.Criticality = ""
	if l := newAlert(t0, &st, &st.Tiers[0]).Labels; l["criticality"] != "" || len(l) != len(want)-1 {
		t.Errorf("without criticality: %v", l)
	}
	// The alert's labels are its own: changing them changes no spec.
	a.Labels["service"] = "changed"
	if spec.FlowLabels["service"] != "shop" {
		t.Errorf("alert shares its flow's labels map")
	}
}

// TestReservedLabels checks that the labels slo.Spec.Validate keeps alert
// labels off are exactly the ones every alert gets from Burnwatch.
func TestReservedLabels(t *testing.T) {
	spec := &slo.Spec{Name: "s", Flow: "f", Criticality: "low"}
	st := slo.Status{SLO: spec}
	got := slices.Sorted(maps.Keys(baseAlert(t0, &st, "t", KindBurn, slo.Page).Labels))
	want := slices.Sorted(slices.Values(slo.ReservedLabels()))
	if !slices.Equal(got, want) {
		t.Errorf("labels of an alert of an SLO without labels %v, slo.ReservedLabels %v", got, want)
	}
	consts := []string{LabelAlertName, LabelSLO, LabelFlow, LabelTier, LabelSeverity, LabelCriticality}
	for _, l := range consts {
		if !slo.ReservedLabel(l) {
			t.Errorf("%s is not an slo.ReservedLabel", l)
		}
	}
}

func TestAnnotationTemplates(t *testing.T) {
	spec := checkoutSpec()
	spec.AlertAnnotations = map[string]string{"summary": "{{ .SLO }} burns", "team_channel": "#{{ .Labels.team }}"}
	st := checkoutStatus(spec, nil)
	a := newAlert(t0, &st, &st.Tiers[0])
	if !maps.Equal(a.AnnotationTemplates, spec.AlertAnnotations) {
		t.Errorf("AnnotationTemplates = %v, want %v", a.AnnotationTemplates, spec.AlertAnnotations)
	}
	a.AnnotationTemplates["summary"] = "changed"
	if spec.AlertAnnotations["summary"] != "{{ .SLO }} burns" {
		t.Errorf("alert shares the spec's annotations map")
	}
	if a := newAlert(t0, &st, &st.Tiers[1]); a.AnnotationTemplates["summary"] != "{{ .SLO }} burns" {
		t.Errorf("second alert: %v", a.AnnotationTemplates)
	}
	spec.AlertAnnotations = nil
	if a := newAlert(t0, &st, &st.Tiers[0]); a.AnnotationTemplates != nil {
		t.Errorf("no annotations: %v", a.AnnotationTemplates)
	}
}

// TestSampleAlerts checks the alerts templates are tried on: one firing
// alert of each kind the SLO has, with its labels and annotations and the
// fields a template would show.
func TestSampleAlerts(t *testing.T) {
	spec := checkoutSpec()
	spec.Criticality = "critical"
	spec.AlertAnnotations = map[string]string{"summary": "x"}
	spec.BudgetAlerts = []slo.BudgetAlert{{Name: "budget-50", Severity: slo.Ticket, Consumed: 0.5}}
	spec.ExhaustionAlerts = []slo.ExhaustionAlert{{Name: "exhaustion-1d", Severity: slo.Page, Window: time.Hour, Within: 24 * time.Hour}}
	spec.NoData, spec.NoDataSeverity = 10*time.Minute, slo.Page
	samples := SampleAlerts(spec)
	want := []struct {
		kind Kind
		tier string
		sev  slo.Severity
	}{
		{KindBurn, "page-fast", slo.Page},
		{KindBudget, "budget-50", slo.Ticket},
		{KindExhaustion, "exhaustion-1d", slo.Page},
		{KindNoData, "no-data", slo.Page},
	}
	if len(samples) != len(want) {
		t.Fatalf("%d samples, want %d", len(samples), len(want))
	}
	for i, a := range samples {
		w := want[i]
		if a.Kind != w.kind || a.Tier != w.tier || a.Severity != w.sev || a.State != StateFiring || a.Labels["alertname"] != a.Kind.AlertName() {
			t.Errorf("sample %d: kind %s tier %s severity %s state %s alertname %s", i, a.Kind, a.Tier, a.Severity, a.State, a.Labels["alertname"])
		}
		if a.Labels["team"] != "payments" || a.Labels["criticality"] != "critical" || a.AnnotationTemplates["summary"] != "x" {
			t.Errorf("sample %s: labels %v annotations %v", a.Kind, a.Labels, a.AnnotationTemplates)
		}
		if a.Kind != KindNoData && len(a.TraceIDs) == 0 {
			t.Errorf("sample %s has no trace IDs", a.Kind)
		}
	}
	if b := samples[0]; b.Long.Burn == 0 || b.Short.Burn == 0 || b.TimeToExhaustion == 0 {
		t.Errorf("burn sample %+v", b)
	}
	if b := samples[1]; !(b.Consumed > b.ConsumedThreshold) || b.ConsumedThreshold != 0.5 {
		t.Errorf("budget sample consumed %v threshold %v", b.Consumed, b.ConsumedThreshold)
	}
	if e := samples[2]; e.Long.Window != time.Hour || e.Within != 24*time.Hour || !(e.TimeToExhaustion < e.Within) {
		t.Errorf("exhaustion sample window %v within %v tte %v", e.Long.Window, e.Within, e.TimeToExhaustion)
	}
	if n := samples[3]; !(n.Silence > n.After) || n.After != 10*time.Minute {
		t.Errorf("no-data sample silence %v after %v", n.Silence, n.After)
	}
	if _, err := json.Marshal(samples); err != nil {
		t.Errorf("marshal samples: %v", err)
	}

	// Only the kinds the SLO has: no tiers, a no-data alert.
	if s := SampleAlerts(&slo.Spec{Name: "s", Flow: "f", Tiers: []slo.Tier{}, NoData: time.Minute}); len(s) != 1 || s[0].Kind != KindNoData {
		t.Errorf("no-data only: %d samples, first %s", len(s), s[0].Kind)
	}
	// No alerts at all: a burn alert of the first default tier, still.
	if s := SampleAlerts(&slo.Spec{Name: "s", Flow: "f", Tiers: []slo.Tier{}}); len(s) != 1 || s[0].Kind != KindBurn || s[0].Long.Window != time.Hour {
		t.Errorf("no alerts: %+v", s)
	}
	// Tiers left nil are the default ones, scaled to a calendar week.
	week := &slo.Spec{Name: "s", Flow: "f", Calendar: &slo.Calendar{Unit: slo.Week}}
	if s := SampleAlerts(week); len(s) != 1 || s[0].Tier != "page-fast" || s[0].Long.Window != 14*time.Minute {
		t.Errorf("calendar week: %+v", s)
	}
}

func firingAlert(t *testing.T) Alert {
	t.Helper()
	spec := checkoutSpec()
	st := checkoutStatus(spec, map[string]bool{"page-fast": true})
	a := newAlert(t0, &st, &st.Tiers[0])
	a.State = StateFiring
	a.StartsAt = t0
	return a
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Alert)
		want string
	}{
		{
			name: "firing",
			edit: func(*Alert) {},
			want: "checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x (5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate",
		},
		{
			name: "resolved",
			edit: func(a *Alert) {
				a.State = StateResolved
				a.Long.Burn, a.Short.Burn = 2.04, 0
				a.TimeToExhaustion = slo.TimeToExhaustion(a.BudgetLeft, 2.04, a.Period)
			},
			want: "checkout-availability no longer burns its 30d error budget above factor 14.4: 2.0x (1h) and 0.0x (5m); 97.3% budget left, exhausted in 14d 7h at this rate",
		},
		{
			name: "overspent",
			edit: func(a *Alert) { a.BudgetLeft = -0.125; a.TimeToExhaustion = 0 },
			want: "checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x (5m), factor 14.4; budget exhausted (12.5% overspent)",
		},
		{
			name: "calendar month",
			edit: func(a *Alert) { a.Calendar = "month" },
			want: "checkout-availability burns its month's error budget at 20.1x (1h) and 35.2x (5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate",
		},
		{
			name: "not burning",
			edit: func(a *Alert) { a.TimeToExhaustion = NeverExhausted },
			want: "checkout-availability burns its 30d error budget at 20.1x (1h) and 35.2x (5m), factor 14.4; 97.3% budget left",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := firingAlert(t)
			tt.edit(&a)
			if got := a.Explain(); got != tt.want {
				t.Errorf("Explain() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestAnnotations(t *testing.T) {
	a := firingAlert(t)
	ann := a.Annotations()
	want := map[string]string{
		"summary":            "checkout-availability: error budget burn 20.1x over 1h, above 14.4x (page-fast)",
		"description":        a.Explain(),
		"runbook_url":        "https://runbooks.example.com/checkout",
		"dashboard_url":      "https://grafana.example.com/d/checkout",
		"slo_description":    "Checkout requests succeed.",
		"objective":          "99.9% of requests succeed",
		"target":             "99.9%",
		"period":             "30d",
		"burn_rate_long":     "20.10",
		"burn_rate_short":    "35.20",
		"window_long":        "1h",
		"window_short":       "5m",
		"factor":             "14.4",
		"budget_left":        "97.3%",
		"time_to_exhaustion": "1d 10h",
		"events_good":        "999973",
		"events_total":       "1000000",
		"trace_ids":          "4bf92f3577b34da6a3ce929d0e0e4736,01000000000000000000000000000000,02000000000000000000000000000000",
	}
	for k, v := range want {
		if ann[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
		}
	}
	if len(ann) != len(want) {
		t.Errorf("got %d annotations, want %d: %v", len(ann), len(want), ann)
	}

	a.Runbook, a.Dashboard, a.Description, a.TraceIDs = "", "", "", nil
	ann = a.Annotations()
	for _, k := range []string{"runbook_url", "dashboard_url", "slo_description", "trace_ids"} {
		if _, ok := ann[k]; ok {
			t.Errorf("annotation %s present with an empty value", k)
		}
	}
}

func TestObjectiveText(t *testing.T) {
	tests := []struct {
		target    float64
		threshold time.Duration
		want      string
	}{
		{0.999, 0, "99.9% of requests succeed"},
		{0.99, 300 * time.Millisecond, "99% of requests succeed within 300ms"},
		{0.9995, 0, "99.95% of requests succeed"},
		{0.99999, 0, "99.999% of requests succeed"},
	}
	for _, tt := range tests {
		a := Alert{Target: tt.target, Threshold: tt.threshold}
		if got := a.ObjectiveText(); got != tt.want {
			t.Errorf("ObjectiveText(%v, %v) = %q, want %q", tt.target, tt.threshold, got, tt.want)
		}
	}
	// A percentile objective, from its spec.
	spec := checkoutSpec()
	spec.Objective, spec.Percentile, spec.Threshold, spec.Slice = slo.PercentileSlices, 0.999, 300*time.Millisecond, time.Minute
	st := checkoutStatus(spec, nil)
	a := newAlert(t0, &st, &st.Tiers[0])
	if got, want := a.ObjectiveText(), "99.9% of 1m slices have p99.9 latency within 300ms"; got != want {
		t.Errorf("percentile ObjectiveText() = %q, want %q", got, want)
	}
	if a.Objective != "percentile" || a.Percentile != 0.999 || a.Slice != time.Minute || a.Threshold != 300*time.Millisecond {
		t.Errorf("percentile alert: objective %q percentile %v slice %v threshold %v", a.Objective, a.Percentile, a.Slice, a.Threshold)
	}
}

// conditionAlert is the alert of one condition of the checkout SLO on a
// calendar month, as the Manager would build it.
func conditionAlert(cs slo.ConditionStatus, state State) Alert {
	spec := checkoutSpec()
	spec.Calendar = &slo.Calendar{Unit: slo.Month}
	st := checkoutStatus(spec, nil)
	st.BudgetLeft = 0.477
	if cs.Kind != slo.NoData && cs.Exemplars == nil {
		cs.Exemplars = st.Exemplars // as the engine gives them: all inside the window
	}
	a := newConditionAlert(t0, &st, &cs)
	a.State = state
	return a
}

func TestConditionAlerts(t *testing.T) {
	budget := slo.ConditionStatus{Name: "budget-50", Kind: slo.BudgetConsumed, Severity: slo.Ticket, Firing: true, Value: 0.523, Threshold: 0.5}
	exhaustion := slo.ConditionStatus{Name: "exhaustion-1d", Kind: slo.Exhaustion, Severity: slo.Page, Firing: true,
		Value: (18*time.Hour + 20*time.Minute).Seconds(), Threshold: 86400, Window: time.Hour, Burn: 3.2}
	noData := slo.ConditionStatus{Name: "no-data", Kind: slo.NoData, Severity: slo.Ticket, Firing: true, Value: 720, Threshold: 600}
	tests := []struct {
		name    string
		cs      slo.ConditionStatus
		state   State
		edit    func(*Alert)
		explain string
		summary string
		ann     map[string]string // kind-specific annotations
	}{
		{
			name: "budget firing", cs: budget, state: StateFiring,
			explain: "checkout-availability has spent 52.3% of its month's error budget (threshold 50%)",
			summary: "checkout-availability: 52.3% of the month's error budget spent, over 50% (budget-50)",
			ann:     map[string]string{"budget_consumed": "52.3%", "budget_threshold": "50%", "period": "month", "budget_left": "47.7%"},
		},
		{
			name: "budget resolved", cs: budget, state: StateResolved, edit: func(a *Alert) { a.Consumed = 0.001 },
			explain: "checkout-availability has spent 0.1% of its month's error budget, below the 50% threshold",
			summary: "checkout-availability: error budget spent back below 50% (budget-50)",
			ann:     map[string]string{"budget_consumed": "0.1%", "budget_threshold": "50%"},
		},
		{
			name: "exhaustion firing", cs: exhaustion, state: StateFiring,
			explain: "checkout-availability will exhaust its error budget in 18h 20m at the 1h burn rate 3.2x (alert within 1d)",
			summary: "checkout-availability: error budget exhausted in 18h 20m at the 1h burn rate (exhaustion-1d)",
			ann:     map[string]string{"burn_rate": "3.20", "window": "1h", "time_to_exhaustion": "18h 20m", "within": "1d"},
		},
		{
			name: "exhaustion overspent", cs: exhaustion, state: StateFiring,
			edit:    func(a *Alert) { a.BudgetLeft, a.TimeToExhaustion = -0.125, 0 },
			explain: "checkout-availability has exhausted its month's error budget (12.5% overspent); the 1h burn rate is 3.2x (alert within 1d)",
			summary: "checkout-availability: error budget exhausted (exhaustion-1d)",
			ann:     map[string]string{"time_to_exhaustion": "0s", "budget_left": "-12.5%"},
		},
		{
			name: "exhaustion resolved", cs: exhaustion, state: StateResolved,
			edit:    func(a *Alert) { a.TimeToExhaustion, a.Long.Burn = 76*time.Hour, 0.4 },
			explain: "checkout-availability no longer exhausts its error budget within 1d: it lasts 3d 4h at the 1h burn rate 0.4x",
			summary: "checkout-availability: error budget lasts beyond 1d again (exhaustion-1d)",
			ann:     map[string]string{"time_to_exhaustion": "3d 4h", "burn_rate": "0.40"},
		},
		{
			name: "no data firing", cs: noData, state: StateFiring,
			explain: "checkout has sent no events for 12m (alert after 10m)",
			summary: "checkout-availability: flow checkout sent no events for 12m (no-data)",
			ann:     map[string]string{"silence": "12m", "after": "10m"},
		},
		{
			name: "no data never seen", cs: noData, state: StateFiring, edit: func(a *Alert) { a.Silence = NeverExhausted },
			explain: "checkout has sent no events (alert after 10m)",
			summary: "checkout-availability: flow checkout sends no events (no-data)",
		},
		{
			name: "no data resolved", cs: noData, state: StateResolved, edit: func(a *Alert) { a.Silence = 0 },
			explain: "checkout sends events again (alert after 10m without any)",
			summary: "checkout-availability: flow checkout sends events again (no-data)",
			ann:     map[string]string{"after": "10m"},
		},
	}
	// Annotations of burn alerts that no condition alert carries.
	burnOnly := []string{"burn_rate_long", "burn_rate_short", "window_long", "window_short", "factor"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := conditionAlert(tt.cs, tt.state)
			if tt.edit != nil {
				tt.edit(&a)
			}
			if got := a.Explain(); got != tt.explain {
				t.Errorf("Explain()\n got %s\nwant %s", got, tt.explain)
			}
			if got := a.Summary(); got != tt.summary {
				t.Errorf("Summary()\n got %s\nwant %s", got, tt.summary)
			}
			ann := a.Annotations()
			if ann["summary"] != tt.summary || ann["description"] != tt.explain {
				t.Errorf("summary/description annotations %q / %q", ann["summary"], ann["description"])
			}
			for k, v := range tt.ann {
				if ann[k] != v {
					t.Errorf("annotation %s = %q, want %q", k, ann[k], v)
				}
			}
			for _, k := range burnOnly {
				if v, ok := ann[k]; ok {
					t.Errorf("annotation %s = %q on a %s alert", k, v, a.Kind)
				}
			}
		})
	}
}

func TestNewConditionAlert(t *testing.T) {
	a := conditionAlert(slo.ConditionStatus{Name: "exhaustion-1d", Kind: slo.Exhaustion, Severity: slo.Page,
		Value: 3600.5, Threshold: 86400, Window: time.Hour, Burn: 3.2}, StateFiring)
	wantLabels := map[string]string{
		"alertname": "SLOErrorBudgetExhaustion", "slo": "checkout-availability", "flow": "checkout",
		"tier": "exhaustion-1d", "severity": "page", "team": "payments",
	}
	if fmt.Sprint(a.Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("labels = %v, want %v", a.Labels, wantLabels)
	}
	if a.Kind != KindExhaustion || a.Fingerprint != Fingerprint("checkout-availability", "exhaustion-1d") || a.Calendar != "month" {
		t.Errorf("kind %q fingerprint %s calendar %q", a.Kind, a.Fingerprint, a.Calendar)
	}
	if a.TimeToExhaustion != time.Hour+500*time.Millisecond || a.Within != 24*time.Hour || a.Long.Window != time.Hour || a.Long.Burn != 3.2 {
		t.Errorf("tte %v within %v window %+v", a.TimeToExhaustion, a.Within, a.Long)
	}
	if len(a.TraceIDs) != MaxTraceIDs {
		t.Errorf("TraceIDs = %v, want the status's exemplars", a.TraceIDs)
	}
	// Only the exemplars inside the exhaustion window: here the newest.
	st := checkoutStatus(checkoutSpec(), nil)
	one := slo.ConditionStatus{Name: "exhaustion-1d", Kind: slo.Exhaustion, Window: time.Hour, Exemplars: st.Exemplars[:1]}
	if a := conditionAlert(one, StateFiring); len(a.TraceIDs) != 1 || a.TraceIDs[0] != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("TraceIDs = %v, want the one exemplar inside the window", a.TraceIDs)
	}
	// A no-data alert links no traces: the last bad events say nothing
	// about the silence.
	if a := conditionAlert(slo.ConditionStatus{Name: "no-data", Kind: slo.NoData, Value: 700, Threshold: 600}, StateFiring); a.TraceIDs != nil ||
		a.Labels["alertname"] != "SLONoData" || a.Silence != 700*time.Second || a.After != 10*time.Minute {
		t.Errorf("no-data alert: traces %v alertname %q silence %v after %v", a.TraceIDs, a.Labels["alertname"], a.Silence, a.After)
	}

	// Values the engine may hand over at the edges: none may break JSON.
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -5, 1e300} {
		for _, kind := range []slo.ConditionKind{slo.BudgetConsumed, slo.Exhaustion, slo.NoData} {
			a := conditionAlert(slo.ConditionStatus{Name: "c", Kind: kind, Value: v, Threshold: v, Burn: v}, StateFiring)
			if _, err := json.Marshal(a); err != nil {
				t.Errorf("%s with %v: %v", kind, v, err)
			}
			if a.TimeToExhaustion < 0 || a.Silence < 0 || a.Within < 0 || a.After < 0 {
				t.Errorf("%s with %v: negative duration in %+v", kind, v, a)
			}
		}
	}
	if got := seconds(math.Inf(1)); got != NeverExhausted {
		t.Errorf("seconds(+Inf) = %v, want NeverExhausted", got)
	}
}

func TestFormatDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{30 * 24 * time.Hour, "30d"},
		{time.Hour, "1h"},
		{5 * time.Minute, "5m"},
		{34*time.Hour + 48*time.Minute, "1d 10h"},
		{24*time.Hour + 5*time.Minute, "1d"},
		{6*time.Minute + 40*time.Second + 300*time.Millisecond, "6m 40s"},
		{250 * time.Millisecond, "250ms"},
		{0, "0s"},
		{-90 * time.Second, "-1m 30s"},
		{NeverExhausted, "never"},
		{math.MinInt64, "-never"}, // a zero EndsAt minus a StartsAt: no endless recursion
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestGroupKey(t *testing.T) {
	tests := []struct {
		labels map[string]string
		want   string
	}{
		{nil, "{}:{}"},
		{map[string]string{"slo": "checkout"}, `{}:{slo="checkout"}`},
		{map[string]string{"slo": "a\"b", "alertname": "SLOBurnRate"}, `{}:{alertname="SLOBurnRate",slo="a\"b"}`},
	}
	for _, tt := range tests {
		if got := GroupKey(tt.labels); got != tt.want {
			t.Errorf("GroupKey(%v) = %s, want %s", tt.labels, got, tt.want)
		}
	}
}
