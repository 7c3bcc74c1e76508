// Command burnwatch is the Burnwatch SLO daemon: a collector distribution
// with the OTLP receiver, the flow processor and the SLO connector. With no
// --config it runs on its embedded default (OTLP on localhost:4317/4318, the
// example flows and SLOs, alerts to the console).
package main

import (
	_ "embed"
	"log"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/fileprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/otelcol"
)

// defaultConfig is used when no --config flag is given.
//
//go:embed default.yaml
var defaultConfig string

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// reloadGates make SIGHUP restart only what changed in the collector
// config: receivers, or nothing. The burnwatch extension handles SIGHUP
// itself (spec files, the history file), so a reload neither closes the
// OTLP ports nor waits on a receiver.
var reloadGates = []string{"service.partialReload", "service.partialReloadReceivers"}

func main() {
	setMemoryLimit(memlimit.FromCgroup)
	setGCPercent()
	for _, g := range reloadGates {
		if err := featuregate.GlobalRegistry().Set(g, true); err != nil {
			log.Fatal(err)
		}
	}
	set := otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "burnwatch",
			Description: "Burnwatch: OpenTelemetry-native SLO alerting daemon",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{ResolverSettings: confmap.ResolverSettings{
			URIs:              []string{"yaml:" + defaultConfig},
			ProviderFactories: []confmap.ProviderFactory{fileprovider.NewFactory(), envprovider.NewFactory(), yamlprovider.NewFactory()},
			DefaultScheme:     "env",
		}},
	}
	cmd := otelcol.NewCommand(set)
	cmd.AddCommand(newReportCommand())
	cmd.AddCommand(newStatusCommand())
	cmd.AddCommand(newValidateCommand(cmd))
	cmd.AddCommand(newRulesCommand())
	if err := cmd.Execute(); err != nil {
		log.Fatal(err)
	}
}
