package flowprocessor

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id        string
		want      []string // Files, when the config is valid
		unmarshal string   // error from decoding the section
		validate  string   // error from Validate
	}{
		{id: "", want: []string{"testdata/specs/*.yaml"}},
		{id: "two_patterns", want: []string{"testdata/specs/flows.yaml", "testdata/specs/slos.yaml"}},
		{id: "builtin", want: []string{"builtin:examples.yaml"}},
		{id: "no_files", validate: "files: at least one spec file or glob is required"},
		{id: "missing_files", validate: "files: at least one spec file or glob is required"},
		{id: "blank", validate: "files[1]: is empty"},
		{id: "bad_glob", validate: `files[0]: "testdata/specs/[a-.yaml" is not a valid glob: syntax error in pattern`},
		{id: "unknown_key", unmarshal: "invalid keys: file"},
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
			if !reflect.DeepEqual(cfg.Files, tt.want) {
				t.Errorf("Files = %q, want %q", cfg.Files, tt.want)
			}
			// A valid config must also load: the files it names are good.
			if _, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(Type), cfg, consumertest.NewNop()); err != nil {
				t.Errorf("CreateTraces: %v", err)
			}
		})
	}
}

func TestDefaultConfigIsInvalid(t *testing.T) {
	// Without files there is nothing to classify: say so instead of
	// silently passing everything through.
	if err := confmap.Validate(createDefaultConfig()); err == nil {
		t.Error("default config validated")
	}
}
