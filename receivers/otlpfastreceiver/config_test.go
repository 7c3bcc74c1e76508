package otlpfastreceiver

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
		check     func(t *testing.T, c *Config) // when the config is valid
		unmarshal string                        // error from decoding the section
		validate  string                        // error from Validate
	}{
		{id: "", check: func(t *testing.T, c *Config) {
			g, h := c.Protocols.GRPC.Get(), c.Protocols.HTTP.Get()
			if g == nil || h == nil {
				t.Fatal("grpc: and http: should enable both")
			}
			if g.NetAddr.Endpoint != "localhost:4317" || h.ServerConfig.NetAddr.Endpoint != "localhost:4318" || h.TracesURLPath != "/v1/traces" {
				t.Errorf("defaults = %q %q %q, want the otlp receiver's", g.NetAddr.Endpoint, h.ServerConfig.NetAddr.Endpoint, h.TracesURLPath)
			}
			if h.MetricsURLPath != "/v1/metrics" {
				t.Errorf("metrics path %q, want the otlp receiver's /v1/metrics", h.MetricsURLPath)
			}
			if c.Extension != component.MustNewID("burnwatch") || c.TrustAnnotations || c.Forward {
				t.Errorf("config = %+v", c)
			}
		}},
		{id: "grpc_only", check: func(t *testing.T, c *Config) {
			if c.Protocols.HTTP.HasValue() || c.Protocols.GRPC.Get().MaxRecvMsgSizeMiB != 8 || c.Protocols.GRPC.Get().NetAddr.Endpoint != "0.0.0.0:14317" {
				t.Errorf("protocols = %+v", c.Protocols)
			}
			if c.Extension != component.MustNewIDWithName("burnwatch", "gateway") || !c.TrustAnnotations {
				t.Errorf("config = %+v", c)
			}
		}},
		{id: "sidecar", check: func(t *testing.T, c *Config) {
			h := c.Protocols.HTTP.Get()
			if !c.Forward || c.Protocols.GRPC.HasValue() || h.TracesURLPath != "/otlp/traces" || h.ServerConfig.MaxRequestBodySize != 1<<20 ||
				len(h.ServerConfig.CompressionAlgorithms) != 2 {
				t.Errorf("config = %+v, http %+v", c, h)
			}
		}},
		{id: "no_protocols", validate: "protocols: enable grpc, http or both"},
		{id: "bad_path", validate: `protocols.http.traces_url_path: "v1/traces" must start with /`},
		{id: "same_paths", validate: `protocols.http.metrics_url_path: "/v1/traces" is the traces path too`},
		{id: "unknown_key", unmarshal: "invalid keys: trust_annotation"},
	}
	for _, tt := range tests {
		t.Run("otlpfast/"+tt.id, func(t *testing.T) {
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
			tt.check(t, cfg)
		})
	}
}
