package otlpfastreceiver

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
)

// Config is the fast receiver's configuration:
//
//	receivers:
//	  otlpfast:
//	    protocols:
//	      grpc: {endpoint: localhost:4317}   # the collector's configgrpc server settings
//	      http: {endpoint: localhost:4318}   # the collector's confighttp server settings
//	  otlpfast/sidecar:
//	    forward: true                        # also pass the requests on, to ship them
//
// In a metrics pipeline too, the same receiver (one per name, as the otlp
// receiver) also takes OTLP metrics on the same servers and passes them on
// as pdata, for the slo connector's metric SLIs.
type Config struct {
	// Extension names the burnwatch extension whose App counts the spans
	// (default burnwatch).
	Extension component.ID `mapstructure:"extension"`
	// TrustAnnotations takes the burnwatch.flow and burnwatch.error
	// attributes spans arrive with as their classification, for a gateway
	// whose agents classified them (as the flow processor's option of the
	// same name). Off, the default, a client cannot choose its spans' flow.
	TrustAnnotations bool `mapstructure:"trust_annotations"`
	// Forward passes every request it accepted, unchanged, as pdata to
	// the next consumer in its pipeline (a sidecar that still ships
	// traces); off, the default, no pdata is built and the pipeline's
	// exporters get nothing. Do not put the flow processor and slo
	// connector after it: they would count the spans a second time.
	Forward bool `mapstructure:"forward"`
	// Protocols are the servers, as the otlp receiver's.
	Protocols Protocols `mapstructure:"protocols"`

	// Keep the struct closed to unkeyed literals so fields can be added.
	_ struct{}
}

// Protocols are OTLP/gRPC and OTLP/HTTP. A protocol is on when its key is
// written (`grpc: {}` takes every default: localhost:4317); at least one
// must be.
type Protocols struct {
	GRPC configoptional.Optional[configgrpc.ServerConfig] `mapstructure:"grpc"`
	HTTP configoptional.Optional[HTTPConfig]              `mapstructure:"http"`

	_ struct{}
}

// HTTPConfig is the OTLP/HTTP server: the collector's confighttp server
// settings and the traces path.
type HTTPConfig struct {
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`
	// TracesURLPath is where traces are posted (default /v1/traces).
	TracesURLPath string `mapstructure:"traces_url_path"`
	// MetricsURLPath is where metrics are posted (default /v1/metrics),
	// when the receiver is in a metrics pipeline.
	MetricsURLPath string `mapstructure:"metrics_url_path"`

	_ struct{}
}

// The defaults are the otlp receiver's.
func createDefaultConfig() component.Config {
	grpc := configgrpc.NewDefaultServerConfig()
	grpc.NetAddr.Endpoint = "localhost:4317"
	grpc.ReadBufferSize = 512 << 10
	http := HTTPConfig{ServerConfig: confighttp.NewDefaultServerConfig(), TracesURLPath: "/v1/traces", MetricsURLPath: "/v1/metrics"}
	http.ServerConfig.NetAddr.Endpoint = "localhost:4318"
	http.ServerConfig.TLS = configoptional.None[configtls.ServerConfig]()
	http.ServerConfig.ReadHeaderTimeout = 0
	http.ServerConfig.WriteTimeout = 0
	return &Config{
		Extension: burnwatchextension.DefaultID,
		Protocols: Protocols{GRPC: configoptional.Default(grpc), HTTP: configoptional.Default(http)},
	}
}

// Validate checks what the server settings' own Validate do not; each
// error names its key.
func (c *Config) Validate() error {
	var errs []error
	if !c.Protocols.GRPC.HasValue() && !c.Protocols.HTTP.HasValue() {
		errs = append(errs, errors.New("protocols: enable grpc, http or both (e.g. protocols: {grpc: {}})"))
	}
	if h := c.Protocols.HTTP.Get(); h != nil {
		if !strings.HasPrefix(h.TracesURLPath, "/") {
			errs = append(errs, fmt.Errorf("protocols.http.traces_url_path: %q must start with /", h.TracesURLPath))
		}
		if !strings.HasPrefix(h.MetricsURLPath, "/") {
			errs = append(errs, fmt.Errorf("protocols.http.metrics_url_path: %q must start with /", h.MetricsURLPath))
		} else if h.MetricsURLPath == h.TracesURLPath {
			errs = append(errs, fmt.Errorf("protocols.http.metrics_url_path: %q is the traces path too", h.MetricsURLPath))
		}
	}
	return errors.Join(errs...)
}
