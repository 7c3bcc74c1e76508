package teams

import (
	"errors"
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Defaults of Config.
const (
	DefaultName    = "teams"
	DefaultTimeout = 10 * time.Second
)

// Config configures a Teams receiver. The mapstructure tags let a collector
// component embed it as is.
//
// Formatting a Config (%v, %+v, %#v, String) and encoding it (JSON, YAML)
// never show the URL's path or query, which hold the webhook's signature.
type Config struct {
	// Name is the receiver's name, the Notifier's Name (default "teams").
	Name string `mapstructure:"name"`
	// URL is the Workflows webhook's URL, as the Teams workflow shows it.
	URL notify.Secret `mapstructure:"url"`
	// ExternalURL, when set, is where a person finds Burnwatch (its status
	// page); the card links to it.
	ExternalURL string `mapstructure:"external_url"`
	// Timeout bounds one request, response included (default 10s).
	Timeout time.Duration `mapstructure:"timeout"`
}

// Check reports what to change, naming the key. It is not called Validate
// because configs that embed this one have their own Validate, and the
// collector calls every Validate it finds; theirs calls Check.
func (c *Config) Check() error {
	var errs []error
	if err := notify.CheckURL(string(c.URL), true); err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if c.ExternalURL != "" {
		if err := notify.CheckURL(c.ExternalURL, false); err != nil {
			errs = append(errs, fmt.Errorf("external_url: %w", err))
		}
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
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

// String shows the config with the URL's path and query redacted.
func (c Config) String() string {
	return fmt.Sprintf("teams.Config{Name: %q, URL: %q, ExternalURL: %q, Timeout: %v}",
		c.Name, notify.RedactURL(string(c.URL)), c.ExternalURL, c.Timeout)
}

// GoString redacts %#v as String does.
func (c Config) GoString() string { return c.String() }

// Format redacts every verb: without it, %x or %d would print the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }
