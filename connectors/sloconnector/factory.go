package sloconnector

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/consumer"
)

// Type is the connector's type name in collector config.
var Type = component.MustNewType("slo")

// NewFactory returns the slo connector's factory.
func NewFactory() connector.Factory {
	return connector.NewFactory(Type,
		func() component.Config { return createDefaultConfig() },
		connector.WithTracesToMetrics(createTracesToMetrics, component.StabilityLevelAlpha))
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return &tracesConnector{cfg: cfg.(*Config), logger: set.Logger, next: next}, nil
}
