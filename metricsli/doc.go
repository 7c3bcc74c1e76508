// Package metricsli describes service level indicators read from OTLP
// metrics instead of spans: which metric streams count good, bad and all
// events, and how. It holds the model (Indicator, Source), the
// OpenTelemetry-to-Prometheus naming rules that let a PromQL selector name
// an OTLP metric, and CompilePromQL, which maps a documented subset of PromQL
// onto Sources and refuses everything else with the construct and its
// position.
//
// The package is pure: it imports no collector package and runs nothing.
// Package specs builds Indicators from spec files; the runtime that ingests
// OTLP metrics feeds the counts they name into the SLO engine.
// docs/indicators.md is the reference.
package metricsli
