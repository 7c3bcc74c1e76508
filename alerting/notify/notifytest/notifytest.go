// Package notifytest holds sample notifications for the notifiers' golden
// tests, so every notifier renders the same situations.
package notifytest

import (
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/slo"
)

// T0 is when the sample alerts start firing.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Alert is a firing burn alert of checkout-availability's tier, with every
// field a notifier shows: burn rates in both windows, budget left, time to
// exhaustion, good/total, runbook, dashboard and exemplar trace IDs.
func Alert(tier string) alerting.Alert {
	long, short, factor, sev := time.Hour, 5*time.Minute, 14.4, slo.Page
	switch tier {
	case "page-slow":
		long, short, factor = 6*time.Hour, 30*time.Minute, 6
	case "ticket-fast":
		long, short, factor, sev = 24*time.Hour, 2*time.Hour, 3, slo.Ticket
	}
	return alerting.Alert{
		Fingerprint: alerting.Fingerprint("checkout-availability", tier),
		SLO:         "checkout-availability", Flow: "checkout", Tier: tier, Kind: alerting.KindBurn, Severity: sev,
		Labels: map[string]string{"alertname": alerting.AlertName, "slo": "checkout-availability", "flow": "checkout",
			"tier": tier, "severity": string(sev), "team": "payments", "criticality": "critical"},
		State: alerting.StateFiring, StartsAt: T0, LastEvaluated: T0.Add(2 * time.Minute),
		Objective: "availability", Target: 0.999, Period: 30 * 24 * time.Hour,
		Long:   alerting.Window{Window: long, Total: 10000, Bad: 201, Burn: 20.1},
		Short:  alerting.Window{Window: short, Total: 1000, Bad: 35, Burn: 35.2},
		Factor: factor, BudgetLeft: 0.973, TimeToExhaustion: 34 * time.Hour,
		Good: 999973, Total: 1000000,
		Runbook: "https://runbooks.example.com/checkout", Dashboard: "https://grafana.example.com/d/checkout",
		Description: "Checkout requests succeed.",
		TraceIDs:    []string{"4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"},
	}
}

// Resolved is Alert(tier) resolved ten minutes after it fired.
func Resolved(tier string) alerting.Alert {
	a := Alert(tier)
	a.State = alerting.StateResolved
	a.EndsAt = T0.Add(10 * time.Minute)
	a.Long.Burn, a.Short.Burn, a.Long.Bad, a.Short.Bad = 0.5, 0, 5, 0
	a.TimeToExhaustion = 1401 * time.Hour
	return a
}

// Notification is a group notification to receiver: page-fast resolved,
// page-slow still firing, so the group is firing.
func Notification(receiver string) *alerting.Notification {
	return &alerting.Notification{
		ID: "n-0001", Receiver: receiver,
		GroupKey:    alerting.GroupKey(map[string]string{"slo": "checkout-availability"}),
		GroupLabels: map[string]string{"slo": "checkout-availability"},
		Alerts:      []alerting.Alert{Resolved("page-fast"), Alert("page-slow")},
		At:          T0.Add(10 * time.Minute),
	}
}

// AllResolved is the group once page-slow resolved too.
func AllResolved(receiver string) *alerting.Notification {
	n := Notification(receiver)
	n.ID = "n-0002"
	n.Alerts[1] = Resolved("page-slow")
	n.At = T0.Add(20 * time.Minute)
	return n
}

// Huge is a notification built to overflow size limits: 40 firing alerts
// whose labels, description and runbook are kilobytes long.
func Huge(receiver string) *alerting.Notification {
	n := Notification(receiver)
	n.Alerts = nil
	long := strings.Repeat("very-long-label-value-", 200)
	for i := range 40 {
		a := Alert("page-slow")
		a.Tier = "tier-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		a.Fingerprint = alerting.Fingerprint(a.SLO, a.Tier)
		a.Labels["tier"] = a.Tier
		a.Labels["owner"] = long
		a.Labels["component"] = long
		a.Description = strings.Repeat("A description that goes on and on. ", 100)
		a.Runbook = "https://runbooks.example.com/" + strings.Repeat("deep/", 300)
		n.Alerts = append(n.Alerts, a)
	}
	return n
}
