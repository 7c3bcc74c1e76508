package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Defaults of Config.
const (
	DefaultName    = "webhook"
	DefaultTimeout = 10 * time.Second
)

// Config configures a webhook receiver. The mapstructure tags let a
// collector component embed it as is.
//
// Formatting a Config (%v, %+v, %#v, String) shows neither the bearer token,
// nor header values, nor the URL's path, query or user info.
type Config struct {
	// Name is the receiver's name: the Notifier's Name and the payload's
	// "receiver" (default "webhook").
	Name string `mapstructure:"name"`
	// URL is where to POST, http or https. Its path and query may hold
	// credentials (as Slack- or Teams-style URLs do) and are redacted.
	URL string `mapstructure:"url"`
	// Headers are sent with every request; values are secrets.
	Headers map[string]notify.Secret `mapstructure:"headers"`
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken notify.Secret `mapstructure:"bearer_token"`
	// Timeout bounds one request, response included (default 10s).
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxAlerts, when positive, caps the alerts of one payload; the rest
	// are counted in truncatedAlerts, as Alertmanager's max_alerts does.
	MaxAlerts int `mapstructure:"max_alerts"`
	// ExternalURL is the payload's externalURL: where a person finds
	// Burnwatch (its status page).
	ExternalURL string `mapstructure:"external_url"`
	// HMACSecret, when set, signs each request (HeaderSignature, see Sign).
	HMACSecret notify.Secret `mapstructure:"hmac_secret"`
}

// Check reports what to change, naming the key. (Not Validate: the daemon
// embeds receiver configs, and the collector calls every Validate it finds,
// which would report each problem twice.)
func (c *Config) Check() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("url: must be set"))
	} else if u, err := url.Parse(c.URL); err != nil {
		// url.Parse errors quote the URL, which may hold a secret.
		errs = append(errs, errors.New("url: is not a valid URL"))
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: want http:// or https:// with a host, got %s", notify.RedactURL(c.URL)))
	}
	for name, v := range c.Headers {
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			errs = append(errs, fmt.Errorf("headers: %q is not a valid header name", name))
		}
		if strings.ContainsAny(string(v), "\r\n") {
			errs = append(errs, fmt.Errorf("headers: value of %q contains a line break", name))
		}
		if http.CanonicalHeaderKey(name) == "Authorization" && c.BearerToken != "" {
			errs = append(errs, errors.New("headers: Authorization is set twice, by headers and bearer_token; keep one"))
		}
	}
	if c.HMACSecret != "" && len(c.HMACSecret) < 16 {
		errs = append(errs, errors.New("hmac_secret: use at least 16 characters"))
	}
	if strings.ContainsAny(string(c.BearerToken), "\r\n") {
		errs = append(errs, errors.New("bearer_token: contains a line break"))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
	}
	if c.MaxAlerts < 0 {
		errs = append(errs, fmt.Errorf("max_alerts: %d is negative", c.MaxAlerts))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// String shows the config with secrets redacted.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "webhook.Config{Name: %q, URL: %q, Headers: {", c.Name, notify.RedactURL(c.URL))
	names := make([]string, 0, len(c.Headers))
	for name := range c.Headers {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q: %s", name, c.Headers[name])
	}
	fmt.Fprintf(&b, "}, BearerToken: %q, Timeout: %v, MaxAlerts: %d, ExternalURL: %q, HMACSecret: %q}",
		c.BearerToken.String(), c.Timeout, c.MaxAlerts, c.ExternalURL, c.HMACSecret.String())
	return b.String()
}

// GoString redacts %#v as String does.
func (c Config) GoString() string { return c.String() }

// Format redacts every verb: without it, %x or %d would print the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }
