package sloconnector

import (
	"errors"
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/webhook"
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
	Storage         StorageConfig  `mapstructure:"storage"`
}

// StorageConfig says where state and alert history are kept.
type StorageConfig struct {
	// Directory holds the WAL, the checkpoints and (by default) the alert
	// history. Empty keeps everything in memory: a restart starts afresh.
	Directory string `mapstructure:"directory"`
	// CheckpointInterval is how often the whole state is written, so a
	// restart replays at most this much WAL (default 30s).
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"`
	// WALSegmentSize rotates WAL segments at this many bytes (default 64
	// MiB); sealed segments are compressed in the background.
	WALSegmentSize int64         `mapstructure:"wal_segment_size"`
	History        HistoryConfig `mapstructure:"history"`
}

// HistoryConfig is the human-readable alert history (JSON lines).
type HistoryConfig struct {
	// Path of the history file (default <directory>/history/alerts.jsonl).
	Path string `mapstructure:"path"`
	// MaxSize and MaxAge rotate the file by rename; MaxFiles bounds how
	// many rotated files are kept (defaults: 64 MiB, 24h, 10).
	MaxSize  int64         `mapstructure:"max_size"`
	MaxAge   time.Duration `mapstructure:"max_age"`
	MaxFiles int           `mapstructure:"max_files"`
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
	Name        string                   `mapstructure:"name"`
	URL         string                   `mapstructure:"url"`
	Headers     map[string]notify.Secret `mapstructure:"headers"`
	BearerToken notify.Secret            `mapstructure:"bearer_token"`
	Timeout     time.Duration            `mapstructure:"timeout"`
	MaxAlerts   int                      `mapstructure:"max_alerts"`
	ExternalURL string                   `mapstructure:"external_url"`
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
		Storage: StorageConfig{CheckpointInterval: 30 * time.Second,
			History: HistoryConfig{MaxSize: 64 << 20, MaxAge: 24 * time.Hour, MaxFiles: 10}},
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
	if c.Storage.CheckpointInterval <= 0 {
		errs = append(errs, fmt.Errorf("storage.checkpoint_interval: %v must be positive", c.Storage.CheckpointInterval))
	}
	if c.Storage.WALSegmentSize < 0 {
		errs = append(errs, fmt.Errorf("storage.wal_segment_size: %d must not be negative", c.Storage.WALSegmentSize))
	}
	if h := c.Storage.History; h.MaxSize < 0 || h.MaxAge < 0 || h.MaxFiles < 0 {
		errs = append(errs, errors.New("storage.history: max_size, max_age and max_files must not be negative"))
	}
	if c.Storage.Directory == "" && c.Storage.History.Path != "" {
		errs = append(errs, errors.New("storage.history.path: needs storage.directory for the state it records"))
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
