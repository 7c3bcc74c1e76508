package pagerduty

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Defaults of Config.
const (
	DefaultName       = "pagerduty"
	DefaultURL        = "https://events.pagerduty.com/v2/enqueue"
	DefaultSource     = "burnwatch"
	DefaultClientName = "Burnwatch"
	DefaultTimeout    = 10 * time.Second
)

// PagerDuty's event severities, most urgent first.
const (
	Critical = "critical"
	Error    = "error"
	Warning  = "warning"
	Info     = "info"
)

// TraceIDPlaceholder is replaced by an exemplar's trace ID in TraceURL.
const TraceIDPlaceholder = "{trace_id}"

// Config configures a PagerDuty receiver. The mapstructure tags let a
// collector component embed it as is.
//
// Formatting a Config (%v, %+v, %#v, String) shows neither the routing key
// nor the path and query of URL; encoding it (JSON, YAML) redacts the
// routing key but shows URL as is, which for PagerDuty holds no secret. (A
// MarshalJSON redacting it would be inherited by any config that embeds
// this one, and replace that config's whole encoding.)
type Config struct {
	// Name is the receiver's name, the Notifier's Name (default
	// "pagerduty").
	Name string `mapstructure:"name"`
	// RoutingKey is the integration key of the service's Events API v2
	// integration (32 characters). Anyone who has it can open incidents.
	RoutingKey notify.Secret `mapstructure:"routing_key"`
	// URL is the Events API v2 endpoint (default DefaultURL; EU accounts
	// use https://events.eu.pagerduty.com/v2/enqueue).
	URL string `mapstructure:"url"`
	// Severity maps Burnwatch severities to PagerDuty's (default page:
	// critical, ticket: warning).
	Severity Severities `mapstructure:"severity"`
	// Source is the event's source, the affected system (default the
	// alert's flow, else "burnwatch").
	Source string `mapstructure:"source"`
	// ClientName and ClientURL name the monitoring tool in the incident
	// (default "Burnwatch"); ClientURL is Burnwatch's page, when it has an
	// external URL, and is left out when empty.
	ClientName string `mapstructure:"client_name"`
	ClientURL  string `mapstructure:"client_url"`
	// TraceURL, when set, links each exemplar trace of an alert, with
	// TraceIDPlaceholder replaced by its ID:
	// "https://tempo.example/trace/{trace_id}".
	TraceURL string `mapstructure:"trace_url"`
	// Timeout bounds one request, response included (default 10s).
	Timeout time.Duration `mapstructure:"timeout"`
}

// Severities are the PagerDuty severities of Burnwatch's page and ticket
// alerts: critical, error, warning or info. Empty takes the default.
type Severities struct {
	Page   string `mapstructure:"page"`
	Ticket string `mapstructure:"ticket"`
}

// Check reports what to change, naming the key. It is not called Validate
// because configs that embed this one have their own Validate, and the
// collector calls every Validate it finds; theirs calls Check.
func (c *Config) Check() error {
	var errs []error
	switch key := string(c.RoutingKey); {
	case key == "":
		errs = append(errs, errors.New("routing_key: required"))
	case strings.IndexFunc(key, unicode.IsSpace) >= 0:
		// The key itself is never quoted; a stray space or line break from
		// a copied key or a secrets file is the usual cause.
		errs = append(errs, errors.New("routing_key: contains whitespace; copy the integration key of the service's Events API v2 integration"))
	}
	if c.URL != "" {
		if err := checkURL(c.URL, true); err != nil {
			errs = append(errs, fmt.Errorf("url: %w", err))
		}
	}
	for _, s := range []struct{ key, value string }{{"severity.page", c.Severity.Page}, {"severity.ticket", c.Severity.Ticket}} {
		if s.value != "" && !validSeverity(s.value) {
			errs = append(errs, fmt.Errorf("%s: %q is not one of %s, %s, %s, %s", s.key, s.value, Critical, Error, Warning, Info))
		}
	}
	if c.ClientURL != "" {
		if err := checkURL(c.ClientURL, false); err != nil {
			errs = append(errs, fmt.Errorf("client_url: %w", err))
		}
	}
	if c.TraceURL != "" {
		if !strings.Contains(c.TraceURL, TraceIDPlaceholder) {
			errs = append(errs, fmt.Errorf("trace_url: must contain %s, where the trace ID goes", TraceIDPlaceholder))
		} else if err := checkURL(strings.ReplaceAll(c.TraceURL, TraceIDPlaceholder, "0"), false); err != nil {
			errs = append(errs, fmt.Errorf("trace_url: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

func validSeverity(s string) bool {
	switch s {
	case Critical, Error, Warning, Info:
		return true
	}
	return false
}

// checkURL wants an absolute http or https URL. When secret, its errors show
// only the scheme and host, since url.Parse's errors quote the whole URL.
func checkURL(raw string, secret bool) error {
	shown := raw
	if secret {
		shown = notify.RedactURL(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s is not a valid URL", shown)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want http:// or https:// with a host, got %s", shown)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.Severity.Page == "" {
		c.Severity.Page = Critical
	}
	if c.Severity.Ticket == "" {
		c.Severity.Ticket = Warning
	}
	if c.ClientName == "" {
		c.ClientName = DefaultClientName
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// String shows the config with the routing key and the URL's path and query
// redacted.
func (c Config) String() string {
	return fmt.Sprintf("pagerduty.Config{Name: %q, RoutingKey: %q, URL: %q, Severity: {Page: %q, Ticket: %q}, "+
		"Source: %q, ClientName: %q, ClientURL: %q, TraceURL: %q, Timeout: %v}",
		c.Name, c.RoutingKey.String(), notify.RedactURL(c.URL), c.Severity.Page, c.Severity.Ticket,
		c.Source, c.ClientName, c.ClientURL, c.TraceURL, c.Timeout)
}

// GoString redacts %#v as String does.
func (c Config) GoString() string { return c.String() }

// Format redacts every verb: without it, %x or %d would print the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }
