package alerting

import (
	"encoding/json"
	"math"
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
	st := checkoutStatus(spec, nil)
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

	// Non-finite numbers would make the alert impossible to checkpoint.
	st.BudgetLeft = math.NaN()
	st.Tiers[0].Long.Burn = math.Inf(1)
	a = newAlert(t0, &st, &st.Tiers[0])
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("marshal alert with non-finite inputs: %v", err)
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
