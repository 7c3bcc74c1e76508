package pagerduty

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/notifytest"
	"github.com/burnwatch/burnwatch/slo"
)

// conditionAlerts are a firing alert of each kind beyond burn rates, with
// an SLO annotation of its own on the budget alert.
func conditionAlerts() []alerting.Alert {
	kind := func(k alerting.Kind, tier string, sev slo.Severity) alerting.Alert {
		a := notifytest.Alert("ticket-fast")
		a.Kind, a.Tier, a.Severity = k, tier, sev
		a.Fingerprint = alerting.Fingerprint(a.SLO, tier)
		a.Labels["alertname"], a.Labels["tier"], a.Labels["severity"] = k.AlertName(), tier, string(sev)
		a.Long, a.Short, a.Factor, a.TimeToExhaustion = alerting.Window{}, alerting.Window{}, 0, 0
		return a
	}
	budget := kind(alerting.KindBudget, "budget-50", slo.Ticket)
	budget.Consumed, budget.ConsumedThreshold = 0.523, 0.5
	budget.AnnotationTemplates = map[string]string{"team_channel": "#{{.Labels.team}}-oncall"}
	exhaustion := kind(alerting.KindExhaustion, "exhaustion-1d", slo.Page)
	exhaustion.Long = alerting.Window{Window: time.Hour, Burn: 3.2}
	exhaustion.TimeToExhaustion, exhaustion.Within = 18*time.Hour+20*time.Minute, 24*time.Hour
	nodata := kind(alerting.KindNoData, "no-data", slo.Ticket)
	nodata.Silence, nodata.After, nodata.TraceIDs = 12*time.Minute, 10*time.Minute, nil
	return []alerting.Alert{budget, exhaustion, nodata}
}

// TestGolden sends the sample notifications over HTTP and compares the
// events PagerDuty receives with testdata/.
func TestGolden(t *testing.T) {
	tests := []struct {
		golden string
		n      *alerting.Notification
		want   []string // event actions
	}{
		{"notification.golden.json", notifytest.Notification("pagerduty"), []string{ActionResolve, ActionTrigger}},
		{"all_resolved.golden.json", notifytest.AllResolved("pagerduty"), []string{ActionResolve, ActionResolve}},
		{"conditions.golden.json", &alerting.Notification{ID: "n-0003", Receiver: "pagerduty", Alerts: conditionAlerts()},
			[]string{ActionTrigger, ActionTrigger, ActionTrigger}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			r, srv := serve(t)
			n := newNotifier(t, Config{
				URL:       srv.URL + "/v2/enqueue",
				ClientURL: "https://burnwatch.example.com/",
				TraceURL:  "https://tempo.example.com/trace/" + TraceIDPlaceholder,
			})
			if err := n.Notify(context.Background(), notify.NewMessage(tt.n, nil)); err != nil {
				t.Fatal(err)
			}
			bodies := r.Bodies()
			checkGolden(t, tt.golden, bodies)

			// The points of the golden file that matter, checked on their own.
			if len(bodies) != len(tt.want) {
				t.Fatalf("got %d events, want %d", len(bodies), len(tt.want))
			}
			for i, b := range bodies {
				var ev map[string]any
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Fatal(err)
				}
				a := tt.n.Alerts[i]
				if ev["event_action"] != tt.want[i] || ev["routing_key"] != routingKey || ev["dedup_key"] != "burnwatch-"+a.Fingerprint {
					t.Errorf("event %d: action %v, dedup_key %v; want %s, burnwatch-%s and the routing key",
						i, ev["event_action"], ev["dedup_key"], tt.want[i], a.Fingerprint)
				}
				if tt.want[i] == ActionResolve && len(ev) != 3 {
					t.Errorf("resolve event %d has %d keys, want routing_key, event_action and dedup_key only: %s", i, len(ev), b)
				}
			}
			for _, h := range r.headers {
				if ct := h.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type %q, want application/json", ct)
				}
			}
		})
	}
}

func TestTrigger(t *testing.T) {
	n := newNotifier(t, Config{TraceURL: "https://tempo.example/trace/{trace_id}?orgId=1", ClientURL: "https://burnwatch.example/"})
	ev := n.Events(message(notifytest.Alert("page-slow")))[0]
	p := ev.Payload
	if p.Severity != Critical || p.Source != "checkout" || p.Component != "checkout" || p.Group != "checkout-availability" ||
		p.Class != "burn-rate" || p.Timestamp != "2026-03-01T12:00:00Z" {
		t.Errorf("payload %+v", *p)
	}
	if !strings.HasPrefix(p.Summary, "checkout-availability: error budget burn 20.1x over 6h") {
		t.Errorf("summary %q", p.Summary)
	}
	d := p.CustomDetails
	if d.Objective != "99.9% of requests succeed" || d.BudgetLeft != "97.3%" || d.TimeToExhaustion != "1d 10h" ||
		d.BurnRate.Long.Window != "6h" || d.BurnRate.Long.Rate != 20.1 || d.BurnRate.Short.Window != "30m" || d.BurnRate.Factor != 6 ||
		d.EventsGood != 999973 || d.EventsTotal != 1000000 || d.Labels["team"] != "payments" || len(d.TraceIDs) != 2 ||
		d.StartsAt != "2026-03-01T12:00:00Z" || d.LastEvaluated != "2026-03-01T12:02:00Z" || !strings.Contains(d.Description, "factor 6") {
		t.Errorf("custom details %+v", *d)
	}
	want := []Link{
		{"https://runbooks.example.com/checkout", "Runbook"},
		{"https://grafana.example.com/d/checkout", "Dashboard"},
		{"https://tempo.example/trace/4bf92f3577b34da6a3ce929d0e0e4736?orgId=1", "Trace 4bf92f3577b34da6a3ce929d0e0e4736"},
		{"https://tempo.example/trace/0af7651916cd43dd8448eb211c80319c?orgId=1", "Trace 0af7651916cd43dd8448eb211c80319c"},
	}
	if len(ev.Links) != len(want) {
		t.Fatalf("links %v, want %v", ev.Links, want)
	}
	for i := range want {
		if ev.Links[i] != want[i] {
			t.Errorf("link %d: %v, want %v", i, ev.Links[i], want[i])
		}
	}
	if ev.Client != "Burnwatch" || ev.ClientURL != "https://burnwatch.example/" {
		t.Errorf("client %q %q", ev.Client, ev.ClientURL)
	}
	// Without trace_url, no trace links.
	if links := newNotifier(t, Config{}).Events(message(notifytest.Alert("page-slow")))[0].Links; len(links) != 2 {
		t.Errorf("links without trace_url: %v", links)
	}
}

func TestSeverityAndSource(t *testing.T) {
	noFlow := notifytest.Alert("ticket-fast")
	noFlow.Flow = ""
	unset := notifytest.Alert("ticket-fast")
	unset.Severity = ""
	tests := []struct {
		name             string
		cfg              Config
		alert            alerting.Alert
		severity, source string
	}{
		{"page default", Config{}, notifytest.Alert("page-fast"), Critical, "checkout"},
		{"ticket default", Config{}, notifytest.Alert("ticket-fast"), Warning, "checkout"},
		{"empty severity is a ticket", Config{}, unset, Warning, "checkout"},
		{"page mapped", Config{Severity: Severities{Page: Error}}, notifytest.Alert("page-fast"), Error, "checkout"},
		{"ticket mapped", Config{Severity: Severities{Ticket: Info}}, notifytest.Alert("ticket-fast"), Info, "checkout"},
		{"source set", Config{Source: "prod-eu"}, notifytest.Alert("page-fast"), Critical, "prod-eu"},
		{"no flow", Config{}, noFlow, Warning, "burnwatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newNotifier(t, tt.cfg).Events(message(tt.alert))[0].Payload
			if p.Severity != tt.severity || p.Source != tt.source {
				t.Errorf("severity %q, source %q; want %q, %q", p.Severity, p.Source, tt.severity, tt.source)
			}
		})
	}
}

// TestTemplates: the receiver's templates write the summary and the
// description, as for every notifier.
func TestTemplates(t *testing.T) {
	tmpl, err := notify.ParseTemplates("{{.SLO}} is {{burn .Long.Burn}}", "see {{.Runbook}}")
	if err != nil {
		t.Fatal(err)
	}
	m := notify.NewMessage(&alerting.Notification{Alerts: []alerting.Alert{notifytest.Alert("page-fast")}}, tmpl)
	p := newNotifier(t, Config{}).Events(m)[0].Payload
	if p.Summary != "checkout-availability is 20.1x" || p.CustomDetails.Description != "see https://runbooks.example.com/checkout" {
		t.Errorf("summary %q, description %q", p.Summary, p.CustomDetails.Description)
	}
}

func TestLongSummary(t *testing.T) {
	long := strings.Repeat("x", 1000) + strings.Repeat("€", 500) // 1500 characters, 2500 bytes
	a := notifytest.Alert("page-fast")
	a.AnnotationTemplates = map[string]string{"summary": long}
	got := newNotifier(t, Config{}).Events(message(a))[0].Payload.Summary
	if len(got) > MaxSummary || utf8.RuneCountInString(got) > MaxSummary || !utf8.ValidString(got) ||
		!strings.HasSuffix(got, "…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("summary of %d bytes, %d characters: %q", len(got), utf8.RuneCountInString(got), got)
	}

	for _, tt := range []struct{ in, want string }{
		{"short", "short"},
		{strings.Repeat("a", MaxSummary), strings.Repeat("a", MaxSummary)},
		{strings.Repeat("a", MaxSummary+1), strings.Repeat("a", MaxSummary-3) + "…"},
		// A 3-byte rune across the cut is dropped whole.
		{strings.Repeat("a", MaxSummary-4) + "€€", strings.Repeat("a", MaxSummary-4) + "…"},
	} {
		if got := truncate(tt.in, MaxSummary); got != tt.want {
			t.Errorf("truncate(%d bytes) = %d bytes %q…, want %d bytes", len(tt.in), len(got), got[len(got)-6:], len(tt.want))
		}
	}
}

// TestDedupKey: an alert's dedup_key is the same from two notifiers (as
// after a restart or reload) and for its trigger and resolve, and differs
// between alerts.
func TestDedupKey(t *testing.T) {
	first := newNotifier(t, Config{Name: "first"})
	second := newNotifier(t, Config{Name: "second", Source: "elsewhere", Severity: Severities{Page: Info}})
	n := notifytest.Notification("pagerduty")
	n.Alerts = append(n.Alerts, notifytest.Alert("page-fast"), notifytest.Alert("ticket-fast"))
	a := first.Events(notify.NewMessage(n, nil))
	b := second.Events(notify.NewMessage(n, nil))
	seen := map[string]string{}
	for i := range a {
		if a[i].DedupKey != b[i].DedupKey {
			t.Errorf("alert %d: dedup_key %q from one notifier, %q from another", i, a[i].DedupKey, b[i].DedupKey)
		}
		tier := n.Alerts[i].Tier
		if other, ok := seen[a[i].DedupKey]; ok && other != tier {
			t.Errorf("tiers %s and %s share dedup_key %s", other, tier, a[i].DedupKey)
		}
		seen[a[i].DedupKey] = tier
	}
	if len(seen) != 3 {
		t.Errorf("dedup keys %v, want one per tier", seen)
	}
	// Pinned: a change here reopens every open incident after an upgrade.
	if got := a[0].DedupKey; got != "burnwatch-"+alerting.Fingerprint("checkout-availability", "page-fast") || got != "burnwatch-5eb672bf510f22f8" {
		t.Errorf("dedup_key of page-fast = %s", got)
	}
	noFingerprint := notifytest.Alert("page-fast")
	noFingerprint.Fingerprint = ""
	if got := DedupKey(&noFingerprint); got != a[0].DedupKey {
		t.Errorf("dedup_key without a fingerprint = %s, want %s", got, a[0].DedupKey)
	}
}

// TestEmpty: a message without alerts sends nothing.
func TestEmpty(t *testing.T) {
	r, srv := serve(t, status(http.StatusInternalServerError, nil, ""))
	if err := newNotifier(t, Config{URL: srv.URL}).Notify(context.Background(), message()); err != nil {
		t.Fatal(err)
	}
	if len(r.Bodies()) != 0 {
		t.Errorf("sent %d events", len(r.Bodies()))
	}
}
