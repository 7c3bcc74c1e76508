package app

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/console"
	"github.com/burnwatch/burnwatch/alerting/notify/pagerduty"
	"github.com/burnwatch/burnwatch/alerting/notify/slack"
	"github.com/burnwatch/burnwatch/alerting/notify/teams"
	"github.com/burnwatch/burnwatch/alerting/notify/webhook"
	"github.com/burnwatch/burnwatch/alerting/route"
)

// ReceiverConfig is one receiver: a name routes refer to, and exactly one
// kind (console, webhook, pagerduty, teams, slack) with its settings.
type ReceiverConfig struct {
	Name string `mapstructure:"name"`
	// SendResolved tells the receiver when alerts it was told of resolve
	// (default true).
	SendResolved *bool `mapstructure:"send_resolved"`
	// Templates override the summary and description of its alerts: Go
	// text/template on the alert (docs/operations.md lists the fields).
	Templates TemplatesConfig `mapstructure:"templates"`
	// HTTP is the HTTP client's settings, the collector's confighttp
	// client config (timeout, TLS, proxy_url, headers, auth); the burnwatch
	// extension reads it. Outside the collector it must be empty.
	HTTP map[string]any `mapstructure:"http"`

	Console   *struct{}         `mapstructure:"console"`
	Webhook   *webhook.Config   `mapstructure:"webhook"`
	PagerDuty *pagerduty.Config `mapstructure:"pagerduty"`
	Teams     *teams.Config     `mapstructure:"teams"`
	Slack     *slack.Config     `mapstructure:"slack"`
}

// TemplatesConfig are a receiver's text templates; empty keeps the default.
type TemplatesConfig struct {
	Summary     string `mapstructure:"summary"`
	Description string `mapstructure:"description"`
}

// DeliveryConfig tunes the outbox every receiver's notifications wait in.
type DeliveryConfig struct {
	// MaxPending bounds the groups waiting per receiver (default 10000);
	// past it the oldest is dead-lettered (history, log, metric).
	MaxPending int `mapstructure:"max_pending"`
	// MaxAge is how long a notification is retried before it is
	// dead-lettered (default 24h).
	MaxAge time.Duration `mapstructure:"max_age"`
	// InitialBackoff and MaxBackoff bound the wait between attempts at a
	// failing receiver (defaults 1s and 1m; Retry-After is honoured).
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`
	MaxBackoff     time.Duration `mapstructure:"max_backoff"`
	// RateLimit, when positive, bounds each receiver's requests per
	// second, with bursts of RateBurst.
	RateLimit float64 `mapstructure:"rate_limit"`
	RateBurst int     `mapstructure:"rate_burst"`
	// ShutdownTimeout bounds how long a stop waits for deliveries in flight
	// (default 10s); a receiver that is failing is not waited for. What is
	// left is sent after the next start.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// kind names the receiver's kind and checks that exactly one is set.
func (r *ReceiverConfig) kind() (string, error) {
	var kinds []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"console", r.Console != nil}, {"webhook", r.Webhook != nil}, {"pagerduty", r.PagerDuty != nil}, {"teams", r.Teams != nil}, {"slack", r.Slack != nil}} {
		if k.set {
			kinds = append(kinds, k.name)
		}
	}
	if len(kinds) != 1 {
		return "", fmt.Errorf("set exactly one of console, webhook, pagerduty, teams, slack (got %v)", kinds)
	}
	return kinds[0], nil
}

// check validates one receiver without building it.
func (r *ReceiverConfig) check() error {
	var errs []error
	if r.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	kind, err := r.kind()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	switch kind {
	case "webhook":
		errs = append(errs, prefix("webhook", r.Webhook.Check()))
	case "pagerduty":
		errs = append(errs, prefix("pagerduty", r.PagerDuty.Check()))
	case "teams":
		errs = append(errs, prefix("teams", r.Teams.Check()))
	case "slack":
		errs = append(errs, prefix("slack", r.Slack.Check()))
	}
	if _, err := notify.ParseTemplates(r.Templates.Summary, r.Templates.Description); err != nil {
		errs = append(errs, fmt.Errorf("templates.%w", err))
	}
	return errors.Join(errs...)
}

func prefix(key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s.%w", key, err)
}

// ClientFactory makes the HTTP client of a receiver from its http settings
// (ReceiverConfig.HTTP). The client must not follow redirects.
type ClientFactory func(receiver string, settings map[string]any) (*http.Client, error)

// defaultClient is the ClientFactory outside the collector: a client that
// does not follow redirects; the notifiers apply their own timeouts.
func defaultClient(receiver string, settings map[string]any) (*http.Client, error) {
	if len(settings) > 0 {
		return nil, fmt.Errorf("receiver %q: http client settings need the collector's burnwatch extension", receiver)
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, nil
}

// receivers lists the configured receivers: those under receivers, then the
// shorthand ones (console: true, webhooks with a url), in that order.
func (c *AlertingConfig) receivers() []ReceiverConfig {
	out := append([]ReceiverConfig(nil), c.Receivers...)
	if c.Console {
		out = append(out, ReceiverConfig{Name: "console", Console: &struct{}{}})
	}
	for _, w := range c.Webhooks {
		if w.URL == "" {
			continue // disabled
		}
		cfg := w.notifierConfig()
		out = append(out, ReceiverConfig{Name: w.Name, Webhook: &cfg})
	}
	return out
}

// buildReceivers makes the notifiers, their templates and what the router
// knows of them.
func buildReceivers(cfg AlertingConfig, client ClientFactory) ([]notify.Notifier, map[string]*notify.Templates, []route.Receiver, error) {
	var ns []notify.Notifier
	templates := map[string]*notify.Templates{}
	var rs []route.Receiver
	for _, rc := range cfg.receivers() {
		kind, err := rc.kind()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("alerting.receivers %q: %w", rc.Name, err)
		}
		var n notify.Notifier
		if kind == "console" {
			n = console.New(rc.Name, os.Stdout)
		} else {
			c, err := client(rc.Name, rc.HTTP)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("alerting.receivers %q: http: %w", rc.Name, err)
			}
			switch kind {
			case "webhook":
				w := *rc.Webhook
				w.Name = rc.Name
				n, err = webhook.New(w, c)
			case "pagerduty":
				p := *rc.PagerDuty
				p.Name = rc.Name
				n, err = pagerduty.New(p, c)
			case "teams":
				t := *rc.Teams
				t.Name = rc.Name
				n, err = teams.New(t, c)
			case "slack":
				s := *rc.Slack
				s.Name = rc.Name
				n, err = slack.New(s, c)
			}
			if err != nil {
				return nil, nil, nil, fmt.Errorf("alerting.receivers %q: %w", rc.Name, err)
			}
		}
		t, err := notify.ParseTemplates(rc.Templates.Summary, rc.Templates.Description)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("alerting.receivers %q: templates.%w", rc.Name, err)
		}
		templates[rc.Name] = t
		ns = append(ns, n)
		rs = append(rs, route.Receiver{Name: rc.Name, SendResolved: rc.SendResolved == nil || *rc.SendResolved})
	}
	return ns, templates, rs, nil
}

// routeConfig is the routing tree: the configured one, or, when none is,
// today's default: every receiver hears of every alert, grouped by SLO, each
// change sent at once and repeated every repeat_interval.
func (c *AlertingConfig) routeConfig(receivers []route.Receiver) (route.Config, bool) {
	if c.Route != nil {
		return *c.Route, true
	}
	if len(receivers) == 0 {
		return route.Config{}, false
	}
	repeat := c.RepeatInterval
	root := route.Config{Receiver: receivers[0].Name, GroupBy: []string{"slo"}, RepeatInterval: &repeat}
	for _, r := range receivers {
		root.Routes = append(root.Routes, route.Config{Receiver: r.Name, Continue: true})
	}
	return root, true
}
