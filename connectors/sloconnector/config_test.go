package sloconnector

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		unmarshal string   // error decoding the section
		validate  []string // errors from validation
		check     func(t *testing.T, c *Config)
	}{
		{id: "", check: func(t *testing.T, c *Config) {
			if c.Extension != component.MustNewID("burnwatch") || c.MetricsInterval != 15*time.Second {
				t.Errorf("defaults not applied: %+v", c)
			}
		}},
		{id: "full", check: func(t *testing.T, c *Config) {
			if c.Extension != component.MustNewIDWithName("burnwatch", "gateway") || c.MetricsInterval != 5*time.Second {
				t.Errorf("full config decoded as %+v", c)
			}
		}},
		{id: "bad_interval", validate: []string{"metrics_interval: 0s must be positive"}},
		{id: "old_keys", validate: []string{
			"files: moved to the burnwatch extension: write it under extensions: burnwatch: files",
			"evaluation_interval: moved to the burnwatch extension",
			"storage: moved to the burnwatch extension",
			"alerting: moved to the burnwatch extension",
		}},
		{id: "unknown_key", unmarshal: "metrics_intervall"},
	}
	for _, tc := range tests {
		t.Run("slo/"+tc.id, func(t *testing.T) {
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
			if tc.validate != nil {
				for _, want := range tc.validate {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("validate error = %v, want it to contain %q", err, want)
					}
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
