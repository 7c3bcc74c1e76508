package notify

import (
	"context"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// Notifier delivers notifications to one receiver (a webhook, PagerDuty,
// Teams, Slack, a console). The Outbox calls Notify from one goroutine per
// receiver, with one notification at a time.
//
// Notify must return when ctx is done, must not modify or keep m, and
// should return a *DeliveryError (see Permanent, Retryable) so the Outbox
// knows whether to try again; other errors are retried.
type Notifier interface {
	// Name is the receiver's name, unique within an Outbox; it is what
	// Notification.Receiver refers to.
	Name() string
	Notify(ctx context.Context, m *Message) error
}

// Message is a notification as one receiver renders it: its alerts' texts
// come from the receiver's templates, else the SLO's annotations, else the
// alert's own (Alert.Summary, Alert.Explain).
type Message struct {
	*alerting.Notification
	templates *Templates
}

// NewMessage renders n with t, which may be nil.
func NewMessage(n *alerting.Notification, t *Templates) *Message {
	return &Message{Notification: n, templates: t}
}

// Summary is a short title for a, such as a page's subject.
func (m *Message) Summary(a *alerting.Alert) string {
	return m.text(a, "summary", m.templates.summaryTemplate(), a.Summary)
}

// Description says what is wrong, for a page's body.
func (m *Message) Description(a *alerting.Alert) string {
	return m.text(a, "description", m.templates.descriptionTemplate(), a.Explain)
}

// Annotations are a's Alertmanager-style annotations (Alert.Annotations),
// with the SLO's own annotations rendered over them and summary and
// description as this receiver renders them.
func (m *Message) Annotations(a *alerting.Alert) map[string]string {
	ann := a.Annotations()
	for k, src := range a.AnnotationTemplates {
		if k == "summary" || k == "description" {
			continue
		}
		if v, err := render(k, src, a); err == nil {
			ann[k] = v
		}
	}
	ann["summary"] = m.Summary(a)
	ann["description"] = m.Description(a)
	return ann
}

// text renders one text of a: the receiver's template, else the SLO's
// annotation key, else def. A template that fails falls back to the next.
func (m *Message) text(a *alerting.Alert, key string, t *template.Template, def func() string) string {
	if t != nil {
		var b strings.Builder
		if err := t.Execute(&b, a); err == nil {
			return b.String()
		}
	}
	if src, ok := a.AnnotationTemplates[key]; ok {
		if v, err := render(key, src, a); err == nil {
			return v
		}
	}
	return def()
}

// Templates override the summary and description of a receiver's alerts.
// A nil *Templates keeps the defaults.
type Templates struct {
	summary, description *template.Template
}

func (t *Templates) summaryTemplate() *template.Template {
	if t == nil {
		return nil
	}
	return t.summary
}

func (t *Templates) descriptionTemplate() *template.Template {
	if t == nil {
		return nil
	}
	return t.description
}

// ParseTemplates parses a receiver's templates, Go text/template sources
// executed on an alerting.Alert with the functions of TemplateFuncs; empty
// keeps the default text. Each is tried on a sample alert, so a template
// that names a field that does not exist fails here, not during an outage.
func ParseTemplates(summary, description string) (*Templates, error) {
	var t Templates
	var err error
	if t.summary, err = parseTemplate("summary", summary); err != nil {
		return nil, err
	}
	if t.description, err = parseTemplate("description", description); err != nil {
		return nil, err
	}
	if t.summary == nil && t.description == nil {
		return nil, nil
	}
	return &t, nil
}

// CheckTemplate parses src as ParseTemplates would and tries it on a sample
// alert, for validating templates written elsewhere (an SLO's annotations).
func CheckTemplate(name, src string) error {
	_, err := parseTemplate(name, src)
	return err
}

func parseTemplate(name, src string) (*template.Template, error) {
	if src == "" {
		return nil, nil
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(TemplateFuncs).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := t.Execute(new(strings.Builder), sampleAlert()); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// render executes the template src on a.
func render(name, src string, a *alerting.Alert) (string, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(TemplateFuncs).Parse(src)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, a)
	return b.String(), err
}

// TemplateFuncs are the functions templates may call besides Go's:
// duration (30d, 1h 5m), percent (0.973 → 97.3%) and burn (20.1x), as the
// default texts write them; summary and explain give the default texts.
var TemplateFuncs = template.FuncMap{
	"duration": alerting.FormatDuration,
	"percent":  func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
	"burn":     func(f float64) string { return fmt.Sprintf("%.1fx", f) },
	"summary":  func(a *alerting.Alert) string { return a.Summary() },
	"explain":  func(a *alerting.Alert) string { return a.Explain() },
	"upper":    strings.ToUpper,
	"join":     strings.Join,
}

// sampleAlert is a full burn alert to try templates on.
func sampleAlert() *alerting.Alert {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &alerting.Alert{
		Fingerprint: alerting.Fingerprint("checkout-availability", "page-fast"), SLO: "checkout-availability", Flow: "checkout",
		Tier: "page-fast", Kind: alerting.KindBurn, Severity: "page", State: alerting.StateFiring, StartsAt: now, LastEvaluated: now,
		Labels:    map[string]string{"alertname": alerting.AlertName, "slo": "checkout-availability", "tier": "page-fast", "severity": "page", "flow": "checkout"},
		Objective: "availability", Target: 0.999, Period: 30 * 24 * time.Hour, Factor: 14.4, BudgetLeft: 0.9,
		Long:  alerting.Window{Window: time.Hour, Total: 1000, Bad: 20, Burn: 20},
		Short: alerting.Window{Window: 5 * time.Minute, Total: 100, Bad: 2, Burn: 20},
		Good:  9980, Total: 10000, TimeToExhaustion: 36 * time.Hour, TraceIDs: []string{"4bf92f3577b34da6a3ce929d0e0e4736"},
	}
}
