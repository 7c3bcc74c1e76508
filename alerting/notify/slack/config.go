package slack

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Defaults of Config.
const (
	DefaultName    = "slack"
	DefaultTimeout = 10 * time.Second
)

// Config configures a Slack receiver. The mapstructure tags let a collector
// component embed it as is.
//
// Formatting a Config (%v, %+v, %#v, String) and encoding it (JSON, YAML)
// never show the URL's path, which holds the webhook's token.
type Config struct {
	// Name is the receiver's name, the Notifier's Name (default "slack").
	Name string `mapstructure:"name"`
	// URL is the incoming webhook's URL, as the Slack app's settings show
	// it (https://hooks.slack.com/services/T.../B.../...).
	URL notify.Secret `mapstructure:"url"`
	// ExternalURL, when set, is where a person finds Burnwatch (its status
	// page); the message links to it.
	ExternalURL string `mapstructure:"external_url"`
	// Timeout bounds one request, response included (default 10s).
	Timeout time.Duration `mapstructure:"timeout"`
}

// Check reports what to change, naming the key. It is not called Validate
// because configs that embed this one have their own Validate, and the
// collector calls every Validate it finds; theirs calls Check.
func (c *Config) Check() error {
	var errs []error
	if err := checkURL(string(c.URL), true); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if c.ExternalURL != "" {
		if err := checkURL(c.ExternalURL, false); err != nil {
			errs = append(errs, fmt.Errorf("external_url: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
	}
	return errors.Join(errs...)
}

// checkURL wants an absolute http or https URL. When secret, its errors show
// only the scheme and host, since url.Parse's errors quote the whole URL.
func checkURL(raw string, secret bool) error {
	if raw == "" {
		return errors.New("must be set")
	}
	shown := raw
	if secret {
		shown = redactURL(raw)
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
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// String shows the config with the URL's path and query redacted.
func (c Config) String() string {
	return fmt.Sprintf("slack.Config{Name: %q, URL: %q, ExternalURL: %q, Timeout: %v}",
		c.Name, redactURL(string(c.URL)), c.ExternalURL, c.Timeout)
}

// GoString redacts %#v as String does.
func (c Config) GoString() string { return c.String() }

// Format redacts every verb: without it, %x or %d would print the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// redactURL keeps the scheme and host of a URL, which say where requests go,
// and hides the rest: a Slack webhook URL's path is its token.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if raw == "" {
			return ""
		}
		return "[REDACTED]"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		s += "/[REDACTED]"
	}
	return s
}
