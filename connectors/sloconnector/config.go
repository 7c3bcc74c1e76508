package sloconnector

import (
	"errors"
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/webhook"
)

// Config is the slo connector's configuration.
type Config struct {
	// Files are the teams' spec files (paths or globs) with their Flow and
	// SLO documents: the one source of truth, shared with the flow processor.
	Files []string `mapstructure:"files"`
	// EvaluationInterval is how often burn rates are evaluated (default 1s).
	EvaluationInterval time.Duration `mapstructure:"evaluation_interval"`
	// AllowedLateness bounds how late a span may arrive and still count in
	// its own time slot (default 2m).
	AllowedLateness time.Duration `mapstructure:"allowed_lateness"`
	// MaxFlows caps flows tracked without an SLO (default 10000).
	MaxFlows int `mapstructure:"max_flows"`
	// MetricsInterval is how often SLI metrics go to the metrics pipeline
	// (default 15s).
	MetricsInterval time.Duration  `mapstructure:"metrics_interval"`
	Alerting        AlertingConfig `mapstructure:"alerting"`
}

// AlertingConfig says how alerts live and where they go.
type AlertingConfig struct {
	// RepeatInterval re-sends a still-firing alert (default 4h; 0 never).
	RepeatInterval time.Duration `mapstructure:"repeat_interval"`
	// KeepFiringFor holds an alert firing after its condition clears
	// (default 0), against flapping.
	KeepFiringFor time.Duration `mapstructure:"keep_firing_for"`
	// Console prints notifications to standard output.
	Console bool `mapstructure:"console"`
	// Webhooks are generic webhook receivers (Alertmanager webhook v4
	// JSON). One with an empty url is disabled, so a default config can name
	// one from an unset environment variable.
	Webhooks []WebhookConfig `mapstructure:"webhooks"`
}

// WebhookConfig is one webhook receiver: webhook.Config's fields, except
// that an empty url disables it rather than being an error.
type WebhookConfig struct {
	Name        string                     `mapstructure:"name"`
	URL         string                     `mapstructure:"url"`
	Headers     map[string]alerting.Secret `mapstructure:"headers"`
	BearerToken alerting.Secret            `mapstructure:"bearer_token"`
	Timeout     time.Duration              `mapstructure:"timeout"`
	MaxAlerts   int                        `mapstructure:"max_alerts"`
	ExternalURL string                     `mapstructure:"external_url"`
}

func (w *WebhookConfig) notifierConfig() webhook.Config {
	return webhook.Config{Name: w.Name, URL: w.URL, Headers: w.Headers, BearerToken: w.BearerToken,
		Timeout: w.Timeout, MaxAlerts: w.MaxAlerts, ExternalURL: w.ExternalURL}
}

// Validate checks an enabled receiver; the collector names its place.
func (w *WebhookConfig) Validate() error {
	if w.Name == "" {
		return errors.New("name: required")
	}
	if w.URL == "" {
		return nil // disabled
	}
	c := w.notifierConfig()
	return c.Validate()
}

func createDefaultConfig() *Config {
	return &Config{
		EvaluationInterval: time.Second,
		AllowedLateness:    2 * time.Minute,
		MaxFlows:           10_000,
		MetricsInterval:    15 * time.Second,
		Alerting:           AlertingConfig{RepeatInterval: 4 * time.Hour, Console: true},
	}
}

// Validate checks the configuration; each error names its key.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Files) == 0 {
		errs = append(errs, errors.New("files: at least one spec file is required"))
	}
	if c.EvaluationInterval <= 0 {
		errs = append(errs, fmt.Errorf("evaluation_interval: %v must be positive", c.EvaluationInterval))
	}
	if c.AllowedLateness < 0 {
		errs = append(errs, fmt.Errorf("allowed_lateness: %v must not be negative", c.AllowedLateness))
	}
	if c.MaxFlows < 0 {
		errs = append(errs, fmt.Errorf("max_flows: %d must not be negative", c.MaxFlows))
	}
	if c.MetricsInterval <= 0 {
		errs = append(errs, fmt.Errorf("metrics_interval: %v must be positive", c.MetricsInterval))
	}
	if c.Alerting.RepeatInterval < 0 {
		errs = append(errs, fmt.Errorf("alerting.repeat_interval: %v must not be negative", c.Alerting.RepeatInterval))
	}
	if c.Alerting.KeepFiringFor < 0 {
		errs = append(errs, fmt.Errorf("alerting.keep_firing_for: %v must not be negative", c.Alerting.KeepFiringFor))
	}
	names := map[string]bool{}
	for i, w := range c.Alerting.Webhooks {
		if names[w.Name] {
			errs = append(errs, fmt.Errorf("alerting.webhooks[%d].name: %q is used twice", i, w.Name))
		}
		names[w.Name] = true
	}
	return errors.Join(errs...)
}
