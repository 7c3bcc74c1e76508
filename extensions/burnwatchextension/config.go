package burnwatchextension

import (
	"go.opentelemetry.io/collector/config/confighttp"

	"github.com/burnwatch/burnwatch/app"
)

// Config is the burnwatch extension's configuration:
//
//	extensions:
//	  burnwatch:
//	    files: [/etc/burnwatch/*.yaml]
//	    storage: {directory: /var/lib/burnwatch}
//	    alerting: {console: true}
//	    http: {endpoint: localhost:9464}
type Config struct {
	app.Config `mapstructure:",squash"`
	// HTTP is the daemon's endpoint (/metrics), with the collector's server
	// settings (TLS, auth, CORS). An empty endpoint serves nothing.
	HTTP confighttp.ServerConfig `mapstructure:"http"`
	// ProcessMetrics adds go_* and process_* metrics to /metrics (default
	// true).
	ProcessMetrics bool `mapstructure:"process_metrics"`
}

// Validate checks the daemon's settings; each error names its key.
func (c *Config) Validate() error { return c.Config.Check() }

func createDefaultConfig() *Config {
	http := confighttp.NewDefaultServerConfig()
	http.NetAddr.Endpoint = "localhost:9464"
	return &Config{Config: app.DefaultConfig(), HTTP: http, ProcessMetrics: true}
}
