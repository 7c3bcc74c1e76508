package burnwatchextension

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/burnwatch/burnwatch/app"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		unmarshal string // error decoding the section
		validate  string // error from validation
		check     func(t *testing.T, c *Config)
	}{
		{id: "", check: func(t *testing.T, c *Config) {
			if c.EvaluationInterval != time.Second || c.AllowedLateness != 2*time.Minute || !c.Alerting.Console ||
				c.Alerting.RepeatInterval != 4*time.Hour || c.HTTP.NetAddr.Endpoint != "localhost:9464" || !c.ProcessMetrics ||
				c.Storage.Acknowledge != app.AckAlways {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{id: "full", check: func(t *testing.T, c *Config) {
			if c.EvaluationInterval != 500*time.Millisecond || c.MaxFlows != 100 || c.Alerting.KeepFiringFor != 2*time.Minute ||
				len(c.Alerting.Webhooks) != 2 || c.Storage.Acknowledge != app.AckDurable || c.HTTP.NetAddr.Endpoint != "0.0.0.0:9464" || c.ProcessMetrics {
				t.Errorf("full config decoded as %+v", c)
			}
			// The token never shows when the config is printed.
			if s := fmt.Sprintf("%+v %#v", c, c); strings.Contains(s, "s3cr3t-token") {
				t.Errorf("config formatting leaks the bearer token: %s", s)
			}
		}},
		{id: "no_files", validate: "files: at least one spec file"},
		{id: "bad_interval", validate: "evaluation_interval: 0s must be positive"},
		{id: "bad_webhook", validate: "alerting.webhooks[0]: url: want http:// or https://"},
		{id: "duplicate_webhook", validate: `alerting.webhooks[1].name: "a" is used twice`},
		{id: "durable_in_memory", validate: "storage.acknowledge: durable needs storage.directory"},
		{id: "unknown_key", unmarshal: "evaluation_intervall"},
	}
	for _, tc := range tests {
		t.Run("burnwatch/"+tc.id, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(Type, tc.id).String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := NewFactory().CreateDefaultConfig()
			err = sub.Unmarshal(cfg)
			if tc.unmarshal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.unmarshal) {
					t.Fatalf("unmarshal error = %v, want it to mention %q", err, tc.unmarshal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = confmap.Validate(cfg)
			if tc.validate != "" {
				if err == nil || !strings.Contains(err.Error(), tc.validate) {
					t.Fatalf("validate error = %v, want it to contain %q", err, tc.validate)
				}
				if n := strings.Count(err.Error(), tc.validate); n != 1 {
					t.Errorf("the error is reported %d times: %v", n, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg.(*Config))
		})
	}
}
