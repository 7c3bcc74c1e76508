package pagerduty

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

// Event actions.
const (
	ActionTrigger = "trigger"
	ActionResolve = "resolve"
)

// DedupKeyPrefix starts every dedup_key Burnwatch sends, so its incidents
// are told apart from other integrations' on a shared service.
const DedupKeyPrefix = "burnwatch-"

// MaxSummary is the longest payload.summary PagerDuty accepts, in
// characters.
const MaxSummary = 1024

// Event is one Events API v2 event without its routing key, which is added
// only when the event is sent: an Event can be logged or shown as is.
type Event struct {
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload is what a trigger event says about the alert.
type Payload struct {
	Summary  string `json:"summary"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	// Timestamp is when the alert began firing, RFC 3339.
	Timestamp     string   `json:"timestamp,omitempty"`
	Component     string   `json:"component,omitempty"`
	Group         string   `json:"group,omitempty"`
	Class         string   `json:"class,omitempty"`
	CustomDetails *Details `json:"custom_details,omitempty"`
}

// Link is a link of the incident: runbook, dashboard, exemplar traces.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// Details are the payload's custom_details: everything a person acts on,
// as PagerDuty shows it in the incident. Texts are formatted as the alert's
// annotations format them (and overridden where the SLO's annotations do);
// fields of other kinds of alert are left out.
type Details struct {
	Description string `json:"description"`
	SLO         string `json:"slo"`
	Objective   string `json:"objective"`
	Period      string `json:"period"`
	Tier        string `json:"tier"`
	Severity    string `json:"severity"`
	// BurnRate is a burn alert's two windows and factor, or an exhaustion
	// alert's one window.
	BurnRate         *BurnRate         `json:"burn_rate,omitempty"`
	BudgetLeft       string            `json:"budget_left"`
	TimeToExhaustion string            `json:"time_to_exhaustion,omitempty"`
	ExhaustionWithin string            `json:"alert_within,omitempty"`
	BudgetConsumed   string            `json:"budget_consumed,omitempty"`
	BudgetThreshold  string            `json:"budget_threshold,omitempty"`
	Silence          string            `json:"silence,omitempty"`
	SilenceAfter     string            `json:"alert_after,omitempty"`
	EventsGood       uint64            `json:"events_good"`
	EventsTotal      uint64            `json:"events_total"`
	SLODescription   string            `json:"slo_description,omitempty"`
	Labels           map[string]string `json:"labels"`
	// Annotations are the SLO's own annotations, rendered.
	Annotations   map[string]string `json:"annotations,omitempty"`
	TraceIDs      []string          `json:"trace_ids,omitempty"`
	StartsAt      string            `json:"starts_at"`
	LastEvaluated string            `json:"last_evaluated"`
}

// BurnRate is the burn of an alert's windows: rates as numbers, so event
// rules in PagerDuty can compare them.
type BurnRate struct {
	Long   *Window `json:"long"`
	Short  *Window `json:"short,omitempty"`
	Factor float64 `json:"factor,omitempty"`
}

// Window is one burn-rate window.
type Window struct {
	Window string  `json:"window"`
	Rate   float64 `json:"rate"`
	// Bad and Total count the window's events; an exhaustion alert has
	// none.
	Bad   *uint64 `json:"bad,omitempty"`
	Total *uint64 `json:"total,omitempty"`
}

// DedupKey is the dedup_key of a's events: DedupKeyPrefix and the alert's
// fingerprint, which depends only on its SLO and tier names, so it is the
// same across restarts, reloads and Burnwatch instances.
func DedupKey(a *alerting.Alert) string {
	fp := a.Fingerprint
	if fp == "" {
		fp = alerting.Fingerprint(a.SLO, a.Tier)
	}
	return DedupKeyPrefix + fp
}

// Events are the events of m, one per alert in m's order: a trigger for a
// firing alert, a resolve for a resolved one. They share labels and trace
// IDs with m's alerts.
func (n *Notifier) Events(m *notify.Message) []Event {
	events := make([]Event, 0, len(m.Alerts))
	for i := range m.Alerts {
		events = append(events, n.event(m, &m.Alerts[i]))
	}
	return events
}

func (n *Notifier) event(m *notify.Message, a *alerting.Alert) Event {
	if a.State == alerting.StateResolved {
		// PagerDuty reads nothing but the dedup_key of a resolve.
		return Event{EventAction: ActionResolve, DedupKey: DedupKey(a)}
	}
	source := n.cfg.Source
	if source == "" {
		source = a.Flow
	}
	if source == "" {
		source = DefaultSource
	}
	return Event{
		EventAction: ActionTrigger,
		DedupKey:    DedupKey(a),
		Payload: &Payload{
			Summary:       truncate(m.Summary(a), MaxSummary),
			Source:        source,
			Severity:      n.severity(a.Severity),
			Timestamp:     rfc3339(a.StartsAt),
			Component:     a.Flow,
			Group:         a.SLO,
			Class:         class(a.Kind),
			CustomDetails: details(m, a),
		},
		Links:     n.links(a),
		Client:    n.cfg.ClientName,
		ClientURL: n.cfg.ClientURL,
	}
}

// severity maps a Burnwatch severity; anything but page is a ticket, as an
// empty severity is in package slo.
func (n *Notifier) severity(s slo.Severity) string {
	if s == slo.Page {
		return n.cfg.Severity.Page
	}
	return n.cfg.Severity.Ticket
}

// class names the kind of alert in PagerDuty's words.
func class(k alerting.Kind) string {
	switch k {
	case alerting.KindBurn:
		return "burn-rate"
	case alerting.KindNoData:
		return "no-data"
	}
	return string(k)
}

func (n *Notifier) links(a *alerting.Alert) []Link {
	var links []Link
	if a.Runbook != "" {
		links = append(links, Link{Href: a.Runbook, Text: "Runbook"})
	}
	if a.Dashboard != "" {
		links = append(links, Link{Href: a.Dashboard, Text: "Dashboard"})
	}
	if n.cfg.TraceURL != "" {
		for _, id := range a.TraceIDs {
			// Trace IDs are hex, safe anywhere in a URL unescaped.
			links = append(links, Link{Href: strings.ReplaceAll(n.cfg.TraceURL, TraceIDPlaceholder, id), Text: "Trace " + id})
		}
	}
	return links
}

func details(m *notify.Message, a *alerting.Alert) *Details {
	ann := m.Annotations(a)
	d := &Details{
		Description:    ann["description"],
		SLO:            a.SLO,
		Objective:      ann["objective"],
		Period:         ann["period"],
		Tier:           a.Tier,
		Severity:       string(a.Severity),
		BudgetLeft:     ann["budget_left"],
		EventsGood:     a.Good,
		EventsTotal:    a.Total,
		SLODescription: a.Description,
		Labels:         a.Labels,
		TraceIDs:       a.TraceIDs,
		StartsAt:       rfc3339(a.StartsAt),
		LastEvaluated:  rfc3339(a.LastEvaluated),
	}
	if d.Labels == nil {
		d.Labels = map[string]string{}
	}
	switch a.Kind {
	case alerting.KindBudget:
		d.BudgetConsumed, d.BudgetThreshold = ann["budget_consumed"], ann["budget_threshold"]
	case alerting.KindExhaustion:
		d.BurnRate = &BurnRate{Long: &Window{Window: alerting.FormatDuration(a.Long.Window), Rate: a.Long.Burn}}
		d.TimeToExhaustion, d.ExhaustionWithin = ann["time_to_exhaustion"], ann["within"]
	case alerting.KindNoData:
		d.Silence, d.SilenceAfter = ann["silence"], ann["after"]
	default:
		d.BurnRate = &BurnRate{Long: window(a.Long), Short: window(a.Short), Factor: a.Factor}
		d.TimeToExhaustion = ann["time_to_exhaustion"]
	}
	// The SLO's own annotations; the texts above already hold the rest.
	for k := range a.AnnotationTemplates {
		if k == "summary" || k == "description" {
			continue
		}
		if v, ok := ann[k]; ok {
			if d.Annotations == nil {
				d.Annotations = map[string]string{}
			}
			d.Annotations[k] = v
		}
	}
	return d
}

func window(w alerting.Window) *Window {
	return &Window{Window: alerting.FormatDuration(w.Window), Rate: w.Burn, Bad: &w.Bad, Total: &w.Total}
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// truncate cuts s to at most limit bytes on a rune boundary, ending in "…"
// when cut. Counting bytes keeps it within limit however PagerDuty counts
// characters (runes, UTF-16 units or bytes), since each is at most the
// byte count.
func truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
