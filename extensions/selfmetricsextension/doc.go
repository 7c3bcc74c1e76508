// Package selfmetricsextension serves Burnwatch's own metrics (spans
// received, classified, unmatched, late, events per flow, evaluation time,
// alerts firing, delivery) in the Prometheus text format on /metrics. The
// components record them with VictoriaMetrics/metrics; this extension is
// the one place that exposes them.
package selfmetricsextension
