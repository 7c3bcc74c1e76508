package flowprocessor

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/burnwatch/burnwatch/specs"
)

// Type is the processor's type name in collector configuration.
var Type = component.MustNewType("flow")

const stability = component.StabilityLevelAlpha

// NewFactory returns the factory of the flow processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(Type, createDefaultConfig,
		processor.WithTraces(createTraces, stability))
}

func createDefaultConfig() component.Config { return &Config{} }

// createTraces loads and validates the spec files here, not in Start, so a
// broken file fails the collector while it builds its pipelines, with the
// file:line messages of package specs.
func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	specSet, err := specs.Load(c.Files...)
	if err != nil {
		return nil, fmt.Errorf("flow processor: %w", err)
	}
	p, err := newFlowProcessor(specSet)
	if err != nil {
		return nil, fmt.Errorf("flow processor: %w", err)
	}
	return processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: true}))
}
