package pagerduty

import (
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	ok := Config{RoutingKey: routingKey}
	tests := []struct {
		name string
		cfg  func(*Config)
		want []string // each error line, in order; none for a valid config
	}{
		{"minimal", func(*Config) {}, nil},
		{"full", func(c *Config) {
			*c = Config{Name: "payments", RoutingKey: routingKey, URL: "https://events.eu.pagerduty.com/v2/enqueue",
				Severity: Severities{Page: Error, Ticket: Info}, Source: "prod", ClientName: "Burnwatch EU",
				ClientURL: "https://burnwatch.example/", TraceURL: "https://tempo.example/trace/{trace_id}", Timeout: time.Second}
		}, nil},
		{"routing key missing", func(c *Config) { c.RoutingKey = "" }, []string{"routing_key: required"}},
		{"routing key with a space", func(c *Config) { c.RoutingKey = "R0UT1NGk3ys3cr3t 123456789abcdef" },
			[]string{"routing_key: contains whitespace; copy the integration key of the service's Events API v2 integration"}},
		{"routing key with a line break", func(c *Config) { c.RoutingKey = routingKey + "\n" },
			[]string{"routing_key: contains whitespace; copy the integration key of the service's Events API v2 integration"}},
		{"url not http", func(c *Config) { c.URL = "ftp://events.example/v2/enqueue?token=s3cr3t" },
			[]string{"url: want http:// or https:// with a host, got ftp://events.example/[REDACTED]"}},
		{"url without host", func(c *Config) { c.URL = "events.pagerduty.com/v2/enqueue" },
			[]string{"url: want http:// or https:// with a host, got [REDACTED]"}},
		{"url unparsable", func(c *Config) { c.URL = "https://events.example/%zz" },
			[]string{"url: [REDACTED] is not a valid URL"}},
		{"severity page", func(c *Config) { c.Severity.Page = "urgent" },
			[]string{`severity.page: "urgent" is not one of critical, error, warning, info`}},
		{"severity ticket", func(c *Config) { c.Severity.Ticket = "Warning" },
			[]string{`severity.ticket: "Warning" is not one of critical, error, warning, info`}},
		{"client_url", func(c *Config) { c.ClientURL = "burnwatch.example" },
			[]string{"client_url: want http:// or https:// with a host, got burnwatch.example"}},
		{"trace_url without placeholder", func(c *Config) { c.TraceURL = "https://tempo.example/trace/" },
			[]string{"trace_url: must contain {trace_id}, where the trace ID goes"}},
		{"trace_url not a URL", func(c *Config) { c.TraceURL = "tempo/{trace_id}" },
			[]string{"trace_url: want http:// or https:// with a host, got tempo/0"}},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, []string{"timeout: -1s is negative"}},
		{"all at once", func(c *Config) {
			*c = Config{Severity: Severities{Page: "p1", Ticket: "p3"}, Timeout: -1}
		}, []string{
			"routing_key: required",
			`severity.page: "p1" is not one of critical, error, warning, info`,
			`severity.ticket: "p3" is not one of critical, error, warning, info`,
			"timeout: -1ns is negative",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.cfg(&cfg)
			err := cfg.Check()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check() = nil, want %q", tt.want)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Check() =\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("Check() shows a secret: %v", err)
			}
			// New reports the same, naming the receiver.
			if _, err := New(cfg, nil); err == nil || !strings.HasPrefix(err.Error(), `pagerduty "`) {
				t.Errorf("New() = %v", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	n := newNotifier(t, Config{})
	want := Config{Name: "pagerduty", RoutingKey: routingKey, URL: "https://events.pagerduty.com/v2/enqueue",
		Severity: Severities{Page: "critical", Ticket: "warning"}, ClientName: "Burnwatch", Timeout: 10 * time.Second}
	if n.cfg != want {
		t.Errorf("config with defaults %v, want %v", n.cfg, want)
	}
	if n.Name() != "pagerduty" {
		t.Errorf("Name() = %q", n.Name())
	}
}
