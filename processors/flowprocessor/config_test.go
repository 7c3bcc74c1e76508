package flowprocessor

import (
	"path/filepath"
	"strings"
	"testing"

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
		want      Config // when the config is valid
		unmarshal string // error from decoding the section
		validate  string // error from Validate
	}{
		{id: "", want: Config{Extension: component.MustNewID("burnwatch")}},
		{id: "named", want: Config{Extension: component.MustNewIDWithName("burnwatch", "gateway")}},
		{id: "gateway", want: Config{Extension: component.MustNewID("burnwatch"), TrustAnnotations: true}},
		{id: "old_files", validate: "files: moved to the burnwatch extension"},
		{id: "unknown_key", unmarshal: "invalid keys: trust_annotation"},
	}
	for _, tt := range tests {
		t.Run("flow/"+tt.id, func(t *testing.T) {
			sub, err := cm.Sub(component.NewIDWithName(Type, tt.id).String())
			if err != nil {
				t.Fatal(err)
			}
			cfg := NewFactory().CreateDefaultConfig().(*Config)
			err = sub.Unmarshal(cfg)
			if tt.unmarshal != "" {
				if err == nil || !strings.Contains(err.Error(), tt.unmarshal) {
					t.Fatalf("Unmarshal error = %v, want %q", err, tt.unmarshal)
				}
				return
			}
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			err = confmap.Validate(cfg)
			if tt.validate != "" {
				if err == nil || !strings.Contains(err.Error(), tt.validate) {
					t.Fatalf("Validate error = %v, want %q", err, tt.validate)
				}
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if cfg.Extension != tt.want.Extension || cfg.TrustAnnotations != tt.want.TrustAnnotations {
				t.Errorf("config = %+v, want %+v", *cfg, tt.want)
			}
		})
	}
}
