// Package specs loads the teams' spec files, the one source of truth for
// flows and SLOs: Kubernetes-style YAML documents (apiVersion
// burnwatch.dev/v1, kind Flow or SLO, metadata, spec), several per file.
//
// Loading validates everything a file can get wrong and reports every
// problem at once, each as file:line: key.path: what is wrong and what is
// allowed, so that a broken file fails startup with a message that says what
// to change. The result is plain flows.Spec and slo.Spec values with defaults
// applied, each SLO carrying its flow's labels and criticality for its
// alerts; docs/spec.md is the reference for the format.
//
// An SLO may be measured from metrics instead (spec.indicator: a
// metricsli.Indicator in Set.Indicators), and OpenSLO v1 and Sloth
// prometheus/v1 files are read as they are and mapped onto such SLOs;
// docs/indicators.md describes both.
package specs
