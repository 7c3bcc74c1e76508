package burnwatchextension

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"

	"github.com/burnwatch/burnwatch/app"
)

// Type is the extension's type name in collector config.
var Type = component.MustNewType("burnwatch")

// DefaultID is the extension the flow processor and slo connector look for
// unless their config names another.
var DefaultID = component.NewID(Type)

// Option changes how the factory builds its App.
type Option func(*app.Settings)

// WithClock makes the App read c instead of the wall clock; tests of the
// real binary use it to run hours of event time in seconds.
func WithClock(c app.Clock) Option {
	return func(s *app.Settings) { s.Clock = c }
}

// NewFactory returns the extension's factory.
func NewFactory(opts ...Option) extension.Factory {
	return extension.NewFactory(Type,
		func() component.Config { return createDefaultConfig() },
		func(ctx context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
			return create(ctx, set, cfg, opts)
		}, component.StabilityLevelAlpha)
}

// create builds the App here, not in Start, so that broken spec files fail
// the collector while it builds its components, with file:line messages.
func create(_ context.Context, set extension.Settings, cfg component.Config, opts []Option) (extension.Extension, error) {
	c := cfg.(*Config)
	e := &burnwatch{cfg: c, set: set}
	settings := app.Settings{Logger: set.Logger, HTTPClient: e.httpClient}
	for _, o := range opts {
		o(&settings)
	}
	a, err := app.New(c.Config, settings)
	if err != nil {
		return nil, fmt.Errorf("burnwatch: %w", err)
	}
	e.app = a
	return e, nil
}

// Host is what FindApp looks for: the burnwatch extension.
type Host interface {
	App() *app.App
}

// FindApp returns the App hosted by the burnwatch extension id, or an error
// that says what to configure.
func FindApp(host component.Host, id component.ID) (*app.App, error) {
	ext, ok := host.GetExtensions()[id]
	if !ok {
		return nil, fmt.Errorf("extension %q is not configured: add it under extensions: and to service.extensions (it holds the spec files, storage and alerting)", id)
	}
	h, ok := ext.(Host)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a burnwatch extension", id)
	}
	return h.App(), nil
}
