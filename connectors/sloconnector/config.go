package sloconnector

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
)

// Config is the slo connector's configuration:
//
//	connectors:
//	  slo:
//	    metrics_interval: 15s   # SLI metrics to the metrics pipeline
type Config struct {
	// Extension names the burnwatch extension whose App counts the spans
	// (default burnwatch).
	Extension component.ID `mapstructure:"extension"`
	// MetricsInterval is how often SLI metrics go to the metrics pipeline
	// (default 15s).
	MetricsInterval time.Duration `mapstructure:"metrics_interval"`

	// The daemon's settings moved to the burnwatch extension; these are here
	// only to say so.
	Files              []string       `mapstructure:"files"`
	EvaluationInterval time.Duration  `mapstructure:"evaluation_interval"`
	AllowedLateness    time.Duration  `mapstructure:"allowed_lateness"`
	MaxFlows           int            `mapstructure:"max_flows"`
	Storage            map[string]any `mapstructure:"storage"`
	Alerting           map[string]any `mapstructure:"alerting"`
}

func createDefaultConfig() *Config {
	return &Config{Extension: burnwatchextension.DefaultID, MetricsInterval: 15 * time.Second}
}

// Validate checks the configuration; each error names its key.
func (c *Config) Validate() error {
	var errs []error
	for _, moved := range []struct {
		key string
		set bool
	}{
		{"files", len(c.Files) > 0},
		{"evaluation_interval", c.EvaluationInterval != 0},
		{"allowed_lateness", c.AllowedLateness != 0},
		{"max_flows", c.MaxFlows != 0},
		{"storage", c.Storage != nil},
		{"alerting", c.Alerting != nil},
	} {
		if moved.set {
			errs = append(errs, fmt.Errorf("%s: moved to the burnwatch extension: write it under extensions: burnwatch: %s, "+
				"list burnwatch in service.extensions, and remove it from the slo connector", moved.key, moved.key))
		}
	}
	if c.MetricsInterval <= 0 {
		errs = append(errs, fmt.Errorf("metrics_interval: %v must be positive", c.MetricsInterval))
	}
	return errors.Join(errs...)
}
