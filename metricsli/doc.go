// Package metricsli describes service level indicators read from OTLP
// metrics instead of spans: which metric streams count good, bad and all
// events, and how. It holds the model (Indicator, Source), the
// OpenTelemetry-to-Prometheus naming rules that let a PromQL selector name
// an OTLP metric, and CompilePromQL, which maps a documented subset of PromQL
// onto Sources and refuses everything else with the construct and its
// position.
//
// Runtime is what runs them: it turns OTLP data points (Point, no pdata)
// into the good and bad counts of each SLO, for slo.Engine.ObserveCounts,
// keeping cumulative streams' last points to count their increases.
//
// The package is pure: it imports no collector package. Package specs
// builds Indicators from spec files; the slo connector turns pdata into
// Points and the App runs them through a Runtime into its engine.
// docs/indicators.md is the reference.
package metricsli
