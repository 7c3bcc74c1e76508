// Package burnwatchextensiontest starts a real burnwatch extension for the
// tests of the components that find it through the host.
package burnwatchextensiontest

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/burnwatch/burnwatch/app"
	"github.com/burnwatch/burnwatch/extensions/burnwatchextension"
)

// Host is a component.Host that holds extensions.
type Host struct {
	Extensions map[component.ID]component.Component
}

// GetExtensions returns the extensions.
func (h *Host) GetExtensions() map[component.ID]component.Component { return h.Extensions }

// Start creates and starts a burnwatch extension, under
// burnwatchextension.DefaultID, on files with a config change may adjust
// (its evaluation loop ticks hourly, its HTTP endpoint and console are
// off), and returns a host holding it and its App. The extension is shut
// down when the test ends.
func Start(tb testing.TB, change func(*burnwatchextension.Config), files ...string) (*Host, *app.App) {
	tb.Helper()
	f := burnwatchextension.NewFactory()
	cfg := f.CreateDefaultConfig().(*burnwatchextension.Config)
	cfg.Files = files
	cfg.EvaluationInterval = time.Hour
	cfg.Alerting.Console = false
	cfg.HTTP.NetAddr.Endpoint = ""
	if change != nil {
		change(cfg)
	}
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(burnwatchextension.Type), cfg)
	if err != nil {
		tb.Fatalf("create burnwatch extension: %v", err)
	}
	if err := ext.Start(context.Background(), componenttestHost{}); err != nil {
		tb.Fatalf("start burnwatch extension: %v", err)
	}
	tb.Cleanup(func() {
		if err := ext.Shutdown(context.Background()); err != nil {
			tb.Errorf("shut down burnwatch extension: %v", err)
		}
	})
	return &Host{Extensions: map[component.ID]component.Component{burnwatchextension.DefaultID: ext}},
		ext.(burnwatchextension.Host).App()
}

// componenttestHost is the host the extension itself starts with: no other
// extensions.
type componenttestHost struct{}

func (componenttestHost) GetExtensions() map[component.ID]component.Component { return nil }
