package selfmetricsextension

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the extension's type name in collector config.
var Type = component.MustNewType("selfmetrics")

// NewFactory returns the extension's factory.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type,
		func() component.Config { return &Config{Endpoint: "localhost:9464", ProcessMetrics: true} },
		func(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			return newServer(cfg.(*Config), set.Logger), nil
		},
		component.StabilityLevelAlpha)
}
