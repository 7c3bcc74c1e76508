package alertmanager

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"
)

// Defaults of Config, Prometheus' own: its --rules.alert.resend-delay is 1m
// and it keeps sending a resolved alert for 15m.
const (
	DefaultResendInterval = time.Minute
	DefaultResolvedTTL    = 15 * time.Minute
	DefaultTimeout        = 10 * time.Second
)

// alertsPath is where Alertmanager's API v2 takes alerts, below its base URL
// (and its --web.route-prefix, which is part of the base URL here).
const alertsPath = "api/v2/alerts"

// Config configures a Pusher. The mapstructure tags let a collector
// component embed it as is.
//
// Formatting a Config (%v, %+v, %#v, String) hides the user and password
// and the query of each URL; encoding it (JSON, YAML) does not, so a host
// that dumps its config must redact URLs itself. (A MarshalJSON here would
// be inherited by any config that embeds this one and replace its whole
// encoding.)
type Config struct {
	// URLs are the base URLs of the Alertmanagers, every member of an HA
	// cluster (they deduplicate among themselves): http://am-0:9093, or
	// https://user:pass@am.example/alertmanager behind a route prefix.
	// Each gets every alert.
	URLs []string `mapstructure:"urls"`
	// ResendInterval is how often the alerts are sent again when nothing
	// changed (default 1m), as Prometheus' resend delay: a restarted
	// Alertmanager learns them back, and firing alerts stay firing.
	ResendInterval time.Duration `mapstructure:"resend_interval"`
	// ResolvedTTL is how long a resolved alert keeps being sent after it
	// resolved (default 15m, as Prometheus), so an Alertmanager that missed
	// the resolution hears of it.
	ResolvedTTL time.Duration `mapstructure:"resolved_ttl"`
	// Timeout bounds one request, response included (default 10s).
	Timeout time.Duration `mapstructure:"timeout"`
	// ExternalURL is each alert's generatorURL, where a person finds
	// Burnwatch; empty uses the alert's dashboard, if it has one.
	ExternalURL string `mapstructure:"external_url"`
}

// Check reports what to change, naming the key. It is not called Validate
// because configs that embed this one have their own Validate, and the
// collector calls every Validate it finds; theirs calls Check.
func (c *Config) Check() error {
	var errs []error
	if len(c.URLs) == 0 {
		errs = append(errs, errors.New("urls: required, the base URL of each Alertmanager (http://alertmanager:9093)"))
	}
	seen := map[string]int{}
	for i, raw := range c.URLs {
		key := fmt.Sprintf("urls[%d]", i)
		u, err := parseBase(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		ep := endpoint(u).String()
		if j, dup := seen[ep]; dup {
			errs = append(errs, fmt.Errorf("%s: %s is urls[%d] again", key, redactURL(raw), j))
			continue
		}
		seen[ep] = i
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"resend_interval", c.ResendInterval}, {"resolved_ttl", c.ResolvedTTL}, {"timeout", c.Timeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %v is negative", d.key, d.v))
		}
	}
	if c.ExternalURL != "" {
		if u, err := url.Parse(c.ExternalURL); err != nil || !u.IsAbs() || u.Host == "" {
			errs = append(errs, fmt.Errorf("external_url: want an absolute URL such as https://burnwatch.example.com/, got %q", c.ExternalURL))
		}
	}
	return errors.Join(errs...)
}

// parseBase parses an Alertmanager's base URL. Its errors show the URL
// redacted, since url.Parse's quote it whole, password included.
func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid URL", redactURL(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("want http:// or https:// with a host, got %s", redactURL(raw))
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%s has a fragment; give the base URL only", redactURL(raw))
	}
	return u, nil
}

// endpoint is where alerts go for the base URL u: its path (a route prefix)
// joined with /api/v2/alerts, trailing slash or not, as Prometheus does.
// The user and password are left out; requests carry them as basic auth.
func endpoint(u *url.URL) *url.URL {
	e := *u
	e.User = nil
	e.Path = path.Join("/", u.Path, alertsPath)
	e.RawPath = ""
	return &e
}

func (c Config) withDefaults() Config {
	if c.ResendInterval == 0 {
		c.ResendInterval = DefaultResendInterval
	}
	if c.ResolvedTTL == 0 {
		c.ResolvedTTL = DefaultResolvedTTL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// String shows the config with each URL's credentials and query redacted.
func (c Config) String() string {
	urls := make([]string, len(c.URLs))
	for i, u := range c.URLs {
		urls[i] = fmt.Sprintf("%q", redactURL(u))
	}
	return fmt.Sprintf("alertmanager.Config{URLs: [%s], ResendInterval: %v, ResolvedTTL: %v, Timeout: %v, ExternalURL: %q}",
		strings.Join(urls, ", "), c.ResendInterval, c.ResolvedTTL, c.Timeout, c.ExternalURL)
}

// GoString redacts %#v as String does.
func (c Config) GoString() string { return c.String() }

// Format redacts every verb: without it, %x or %d would print the fields.
func (c Config) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// redactURL keeps what says which Alertmanager a URL is (scheme, host, route
// prefix) and hides the user, password and query, which may hold
// credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		if !strings.ContainsAny(raw, "@?") {
			return raw // no place for credentials: show the mistake
		}
		return "[REDACTED]"
	}
	s := u.Scheme + "://"
	if u.User != nil {
		s += "[REDACTED]@"
	}
	s += u.Host + u.EscapedPath()
	if u.RawQuery != "" || u.Fragment != "" {
		s += "?[REDACTED]"
	}
	return s
}
