package app

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/alertmanager"
	"github.com/burnwatch/burnwatch/alerting/notify/webhook"
	"github.com/burnwatch/burnwatch/alerting/route"
)

// Config is what users write once for the daemon: the spec files, the
// engine's timing, storage and alerting. The burnwatch extension embeds it
// (hence the mapstructure tags); tests and other binaries fill it in Go.
// Start from DefaultConfig: zero values are used as given.
type Config struct {
	// Files are the teams' spec files (paths or globs) with their Flow and
	// SLO documents: the one source of truth for classification and SLOs.
	Files []string `mapstructure:"files"`
	// WatchInterval is how often the spec files are checked for changes,
	// which are reloaded once they hold still for an interval (default 5s;
	// 0 reloads on SIGHUP only).
	WatchInterval time.Duration `mapstructure:"watch_interval"`
	// EvaluationInterval is how often burn rates are evaluated (default 1s).
	EvaluationInterval time.Duration `mapstructure:"evaluation_interval"`
	// AllowedLateness bounds how late a span may arrive and still count in
	// its own time slot (default 2m).
	AllowedLateness time.Duration `mapstructure:"allowed_lateness"`
	// MaxFlows caps the flows tracked without an SLO (default 10000).
	MaxFlows int `mapstructure:"max_flows"`
	// Mode is standalone (default) or agent: an agent pre-aggregates for
	// gateways and alerts on nothing itself (agent.go, docs/deploy.md).
	Mode     string         `mapstructure:"mode"`
	Agent    AgentConfig    `mapstructure:"agent"`
	Storage  StorageConfig  `mapstructure:"storage"`
	Alerting AlertingConfig `mapstructure:"alerting"`
	Metrics  MetricsConfig  `mapstructure:"metrics"`
}

// Metrics levels: which per-flow and per-SLO series /metrics shows. The
// status API always has every number.
const (
	// MetricsBasic: per SLO budget left, the burn rate of each window and
	// each tier's condition; per flow its event and error counters.
	MetricsBasic = "basic"
	// MetricsDetailed adds every window's exact event counts and every
	// flow's latency percentiles over every window.
	MetricsDetailed = "detailed"
)

// MetricsConfig bounds the daemon's own /metrics.
type MetricsConfig struct {
	// Level is basic (default) or detailed.
	Level string `mapstructure:"level"`
	// MaxSeries caps the per-flow and per-SLO series of a page (default
	// 100000); those past it are counted in
	// burnwatch_metrics_series_dropped.
	MaxSeries int `mapstructure:"max_series"`
}

// Acknowledge policies: what an acknowledged batch promises.
const (
	// AckAlways acknowledges every batch the engine counted, on disk or
	// not: losing history on a crash is better than refusing spans.
	AckAlways = "always"
	// AckDurable acknowledges a batch only while its counts reach the WAL;
	// while storage is not durable, batches are refused with a retryable
	// error so senders keep them.
	AckDurable = "durable"
)

// StorageConfig says where state and alert history are kept.
type StorageConfig struct {
	// Directory holds the WAL, the checkpoints and (by default) the alert
	// history. Empty keeps everything in memory: a restart starts afresh.
	Directory string `mapstructure:"directory"`
	// CheckpointInterval is how often the whole state is written, so a
	// restart replays at most this much WAL (default 30s).
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"`
	// CheckpointWALSize also makes a checkpoint due once this much has
	// been written to the WAL since the last one (0 or unset: 64 MiB; -1
	// for time only): a busy daemon writes hundreds of MB of deltas in 30 s,
	// and a restart replays them all before the state is whole.
	CheckpointWALSize ByteSize `mapstructure:"checkpoint_wal_size"`
	// WALSegmentSize rotates WAL segments at this many bytes (default 64
	// MiB); sealed segments are compressed in the background.
	WALSegmentSize ByteSize `mapstructure:"wal_segment_size"`
	// Acknowledge is AckAlways (default) or AckDurable; docs/operations.md
	// says what each promises.
	Acknowledge string        `mapstructure:"acknowledge"`
	History     HistoryConfig `mapstructure:"history"`
}

// defaultCheckpointWALSize is storage.checkpoint_wal_size when unset.
const defaultCheckpointWALSize = 64 << 20

// HistoryConfig is the human-readable alert history (JSON lines).
type HistoryConfig struct {
	// Path of the history file (default <directory>/history/alerts.jsonl).
	Path string `mapstructure:"path"`
	// MaxSize and MaxAge rotate the file by rename; MaxFiles bounds how
	// many rotated files are kept (defaults: 64MiB, 24h, 10). -1 turns
	// MaxSize or MaxAge off, for an external logrotate.
	MaxSize  ByteSize      `mapstructure:"max_size"`
	MaxAge   time.Duration `mapstructure:"max_age"`
	MaxFiles int           `mapstructure:"max_files"`
}

// AlertingConfig says how alerts live, who hears of them and when.
type AlertingConfig struct {
	// KeepFiringFor holds an alert firing after its condition clears
	// (default 0); a burn tier holds for the longer of this and its own
	// hold (its short window by default).
	KeepFiringFor time.Duration `mapstructure:"keep_firing_for"`
	// FlapWindow: an alert that fires again within it after resolving has
	// flapped, counted in burnwatch_alert_flaps_total and the history
	// (default 1h).
	FlapWindow time.Duration `mapstructure:"flap_window"`
	// Receivers are where notifications go: console, webhook (Alertmanager
	// v4 JSON), pagerduty, teams, slack.
	Receivers []ReceiverConfig `mapstructure:"receivers"`
	// Console and Webhooks are shorthand receivers: console: true prints
	// notifications to standard output (receiver "console"); each webhook
	// with a url is a webhook receiver (an empty url disables it, so a
	// default config can name one from an unset environment variable).
	Console  bool            `mapstructure:"console"`
	Webhooks []WebhookConfig `mapstructure:"webhooks"`
	// Route is the routing tree, Alertmanager's. Without one, every
	// receiver hears of every alert, grouped by SLO, each change at once.
	Route *route.Config `mapstructure:"route"`
	// RepeatInterval re-sends a group that still fires on the default route
	// (default 4h; 0 never); a configured route sets its own.
	RepeatInterval time.Duration `mapstructure:"repeat_interval"`
	// InhibitRules mute alerts while others fire. DefaultInhibitRules
	// (default true) adds the rule that a firing page tier mutes the ticket
	// tiers of the same SLO.
	InhibitRules        []route.InhibitRule `mapstructure:"inhibit_rules"`
	DefaultInhibitRules bool                `mapstructure:"default_inhibit_rules"`
	// TimeIntervals are named intervals routes mute or activate on, in
	// Alertmanager's time_intervals syntax.
	TimeIntervals []route.TimeIntervalConfig `mapstructure:"time_intervals"`
	Delivery      DeliveryConfig             `mapstructure:"delivery"`
	// Alertmanagers, when set, also push every alert to these
	// Alertmanagers the way Prometheus does, so their routing, silences and
	// receivers apply.
	Alertmanagers *AlertmanagersConfig `mapstructure:"alertmanagers"`
}

// AlertmanagersConfig is an HA list of Alertmanagers to push alerts to.
type AlertmanagersConfig struct {
	alertmanager.Config `mapstructure:",squash"`
	// HTTP is the client's collector confighttp settings, as a receiver's.
	HTTP map[string]any `mapstructure:"http"`
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
	HMACSecret  notify.Secret            `mapstructure:"hmac_secret"`
}

func (w *WebhookConfig) notifierConfig() webhook.Config {
	return webhook.Config{Name: w.Name, URL: w.URL, Headers: w.Headers, BearerToken: w.BearerToken,
		Timeout: w.Timeout, MaxAlerts: w.MaxAlerts, ExternalURL: w.ExternalURL, HMACSecret: w.HMACSecret}
}

// validate checks an enabled receiver. It is unexported so the collector,
// which validates nested structs, does not report it a second time.
func (w *WebhookConfig) validate() error {
	if w.Name == "" {
		return errors.New("name: required")
	}
	if w.URL == "" {
		return nil // disabled
	}
	c := w.notifierConfig()
	return c.Check()
}

// DefaultConfig returns the defaults, without spec files.
func DefaultConfig() Config {
	return Config{
		EvaluationInterval: time.Second,
		WatchInterval:      5 * time.Second,
		AllowedLateness:    2 * time.Minute,
		MaxFlows:           10_000,
		Alerting: AlertingConfig{RepeatInterval: route.DefaultRepeatInterval, Console: true, DefaultInhibitRules: true,
			Delivery: DeliveryConfig{ShutdownTimeout: 10 * time.Second}},
		Metrics: MetricsConfig{Level: MetricsBasic, MaxSeries: 100_000},
		Mode:    ModeStandalone,
		Agent:   DefaultAgentConfig(),
		Storage: StorageConfig{CheckpointInterval: 30 * time.Second, CheckpointWALSize: 64 << 20, Acknowledge: AckAlways,
			History: HistoryConfig{MaxSize: 64 << 20, MaxAge: 24 * time.Hour, MaxFiles: 10}},
	}
}

// Check checks the configuration without reading the spec files; each
// error names its key. (It is not named Validate so that the collector,
// which calls Validate on every nested struct, does not report its errors
// twice where the burnwatch extension embeds Config.)
func (c *Config) Check() error {
	var errs []error
	if len(c.Files) == 0 {
		errs = append(errs, errors.New("files: at least one spec file or glob is required, e.g. files: [/etc/burnwatch/*.yaml]"))
	}
	for i, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, fmt.Errorf("files[%d]: is empty", i))
			continue
		}
		if _, err := filepath.Match(f, ""); err != nil {
			errs = append(errs, fmt.Errorf("files[%d]: %q is not a valid glob: %w", i, f, err))
		}
	}
	if c.EvaluationInterval <= 0 {
		errs = append(errs, fmt.Errorf("evaluation_interval: %v must be positive", c.EvaluationInterval))
	}
	if c.WatchInterval < 0 {
		errs = append(errs, fmt.Errorf("watch_interval: %v must not be negative", c.WatchInterval))
	}
	if c.AllowedLateness < 0 {
		errs = append(errs, fmt.Errorf("allowed_lateness: %v must not be negative", c.AllowedLateness))
	}
	if c.MaxFlows < 0 {
		errs = append(errs, fmt.Errorf("max_flows: %d must not be negative", c.MaxFlows))
	}
	switch c.Metrics.Level {
	case MetricsBasic, MetricsDetailed:
	default:
		errs = append(errs, fmt.Errorf("metrics.level: %q is not one of basic, detailed", c.Metrics.Level))
	}
	if c.Metrics.MaxSeries < 0 {
		errs = append(errs, fmt.Errorf("metrics.max_series: %d must not be negative", c.Metrics.MaxSeries))
	}
	return errors.Join(append(errs, c.Alerting.check(), c.Storage.validate(), c.checkMode())...)
}

func (c *AlertingConfig) check() error {
	var errs []error
	if c.RepeatInterval < 0 {
		errs = append(errs, fmt.Errorf("alerting.repeat_interval: %v must not be negative", c.RepeatInterval))
	}
	if c.FlapWindow < 0 {
		errs = append(errs, fmt.Errorf("alerting.flap_window: %v must not be negative", c.FlapWindow))
	}
	if c.KeepFiringFor < 0 {
		errs = append(errs, fmt.Errorf("alerting.keep_firing_for: %v must not be negative", c.KeepFiringFor))
	}
	names := map[string]string{}
	for i, r := range c.Receivers {
		if err := r.check(); err != nil {
			errs = append(errs, fmt.Errorf("alerting.receivers[%d]: %w", i, err))
		}
		if prev, dup := names[r.Name]; dup && r.Name != "" {
			errs = append(errs, fmt.Errorf("alerting.receivers[%d].name: %q is used twice (also %s)", i, r.Name, prev))
		}
		names[r.Name] = fmt.Sprintf("alerting.receivers[%d]", i)
	}
	if prev, dup := names["console"]; dup && c.Console {
		errs = append(errs, fmt.Errorf("alerting.console: the console receiver is named \"console\", which %s uses too", prev))
	}
	for i, w := range c.Webhooks {
		if prev, dup := names[w.Name]; dup {
			errs = append(errs, fmt.Errorf("alerting.webhooks[%d].name: %q is used twice (also %s)", i, w.Name, prev))
		}
		names[w.Name] = fmt.Sprintf("alerting.webhooks[%d]", i)
		if err := w.validate(); err != nil {
			errs = append(errs, fmt.Errorf("alerting.webhooks[%d]: %w", i, err))
		}
	}
	if c.Alertmanagers != nil {
		if err := c.Alertmanagers.Check(); err != nil {
			errs = append(errs, fmt.Errorf("alerting.alertmanagers.%w", err))
		}
	}
	if c.Route != nil && len(c.receivers()) == 0 {
		errs = append(errs, errors.New("alerting.route: there are no receivers to route to"))
	}
	if _, err := c.router(nil); err != nil {
		errs = append(errs, fmt.Errorf("alerting.%w", err))
	}
	d := c.Delivery
	if d.MaxPending < 0 || d.MaxAge < 0 || d.InitialBackoff < 0 || d.MaxBackoff < 0 || d.RateLimit < 0 || d.RateBurst < 0 || d.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("alerting.delivery: sizes, durations and rates must not be negative"))
	}
	if d.MaxBackoff > 0 && d.InitialBackoff > d.MaxBackoff {
		errs = append(errs, fmt.Errorf("alerting.delivery.max_backoff: %v is below initial_backoff %v", d.MaxBackoff, d.InitialBackoff))
	}
	return errors.Join(errs...)
}

// router builds the routing tree over the configured receivers; silences
// may be nil. It returns nil when there are no receivers.
func (c *AlertingConfig) router(silences route.Silencer) (*route.Router, error) {
	var rs []route.Receiver
	for _, r := range c.receivers() {
		rs = append(rs, route.Receiver{Name: r.Name, SendResolved: r.SendResolved == nil || *r.SendResolved})
	}
	rc, ok := c.routeConfig(rs)
	intervals, err := route.CompileTimeIntervals(c.TimeIntervals)
	if !ok || err != nil {
		return nil, err
	}
	inhibit := c.InhibitRules
	if c.DefaultInhibitRules {
		inhibit = append(route.DefaultInhibitRules(), inhibit...)
	}
	return route.New(route.Options{Route: rc, Receivers: rs, Inhibit: inhibit, Intervals: intervals, Silences: silences})
}

func (s *StorageConfig) validate() error {
	var errs []error
	if s.CheckpointInterval <= 0 {
		errs = append(errs, fmt.Errorf("storage.checkpoint_interval: %v must be positive", s.CheckpointInterval))
	}
	if s.CheckpointWALSize < -1 {
		errs = append(errs, fmt.Errorf("storage.checkpoint_wal_size: %v must be positive, or -1 for checkpoints by time only", s.CheckpointWALSize))
	}
	if s.WALSegmentSize < 0 {
		errs = append(errs, fmt.Errorf("storage.wal_segment_size: %v must not be negative", s.WALSegmentSize))
	}
	if h := s.History; h.MaxSize < -1 || h.MaxAge < -1 || h.MaxFiles < 0 {
		errs = append(errs, errors.New("storage.history: max_size and max_age must be positive, or -1 for off (an external logrotate); max_files not negative"))
	}
	if s.Directory == "" && s.History.Path != "" {
		errs = append(errs, errors.New("storage.history.path: needs storage.directory for the state it records"))
	}
	switch s.Acknowledge {
	case AckAlways:
	case AckDurable:
		if s.Directory == "" {
			errs = append(errs, errors.New("storage.acknowledge: durable needs storage.directory"))
		}
	default:
		errs = append(errs, fmt.Errorf("storage.acknowledge: %q is not one of always, durable", s.Acknowledge))
	}
	return errors.Join(errs...)
}
