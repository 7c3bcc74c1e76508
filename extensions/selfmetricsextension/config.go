package selfmetricsextension

import (
	"errors"
	"fmt"
	"net"
)

// Config is the extension's configuration.
type Config struct {
	// Endpoint is the address to listen on (default localhost:9464).
	Endpoint string `mapstructure:"endpoint"`
	// ProcessMetrics adds go_* and process_* metrics (default true).
	ProcessMetrics bool `mapstructure:"process_metrics"`
}

// Validate checks the configuration; errors name the key.
func (c *Config) Validate() error {
	if c.Endpoint == "" {
		return errors.New("endpoint: required (host:port)")
	}
	if _, _, err := net.SplitHostPort(c.Endpoint); err != nil {
		return fmt.Errorf("endpoint: %q is not host:port: %w", c.Endpoint, err)
	}
	return nil
}
