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
		connector.WithTracesToMetrics(createTracesToMetrics, component.StabilityLevelAlpha),
		connector.WithMetricsToMetrics(createMetricsToMetrics, component.StabilityLevelAlpha))
}

func createTracesToMetrics(_ context.Context, set connector.Settings, cfg component.Config, next consumer.Metrics) (connector.Traces, error) {
	return &tracesConnector{cfg: cfg.(*Config), logger: set.Logger, next: next}, nil
}

// createMetricsToMetrics makes the metric SLI path: OTLP metrics in, for
// the SLOs metric and PromQL indicators measure (metrics.go).
func createMetricsToMetrics(_ context.Context, _ connector.Settings, cfg component.Config, _ consumer.Metrics) (connector.Metrics, error) {
	return &metricsConnector{cfg: cfg.(*Config)}, nil
}
