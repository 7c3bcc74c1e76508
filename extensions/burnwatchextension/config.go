package burnwatchextension

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"

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
	ProcessMetrics bool      `mapstructure:"process_metrics"`
	API            APIConfig `mapstructure:"api"`
}

// APIConfig guards the HTTP API's writes (silences).
type APIConfig struct {
	// BearerToken, when set, is required of every write; without it,
	// writes are served on a loopback listener only.
	BearerToken configopaque.String `mapstructure:"bearer_token"`
}

// Validate checks the daemon's settings; each error names its key.
func (c *Config) Validate() error {
	errs := []error{c.Config.Check()}
	if am := c.Alerting.Alertmanagers; am != nil && len(am.HTTP) > 0 {
		if _, err := clientConfig(am.HTTP); err != nil {
			errs = append(errs, fmt.Errorf("alerting.alertmanagers.http: %w", err))
		}
	}
	for i, r := range c.Alerting.Receivers {
		if len(r.HTTP) == 0 {
			continue
		}
		if _, err := clientConfig(r.HTTP); err != nil {
			errs = append(errs, fmt.Errorf("alerting.receivers[%d].http: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// clientConfig reads a receiver's http settings as the collector's
// confighttp client config and checks them.
func clientConfig(raw map[string]any) (confighttp.ClientConfig, error) {
	cc := confighttp.NewDefaultClientConfig()
	if err := confmap.NewFromStringMap(raw).Unmarshal(&cc); err != nil {
		return cc, err
	}
	if cc.Endpoint != "" {
		return cc, errors.New("endpoint: the receiver's own url says where to send; leave endpoint out")
	}
	return cc, cc.Validate()
}

func createDefaultConfig() *Config {
	http := confighttp.NewDefaultServerConfig()
	http.NetAddr.Endpoint = "localhost:9464"
	return &Config{Config: app.DefaultConfig(), HTTP: http, ProcessMetrics: true}
}
