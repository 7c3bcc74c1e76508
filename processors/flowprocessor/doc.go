// Package flowprocessor is the collector processor "flow": it names the flow
// of each span from the teams' spec files and marks whether it is an error,
// by setting the burnwatch.flow and burnwatch.error span attributes that the
// SLO connector counts.
//
// It only adds attributes: every span, classified or not, passes through.
// Self-metrics (github.com/VictoriaMetrics/metrics, default set) count spans
// received, entry spans, spans per flow and entry spans no flow matched, so
// nothing goes uncounted.
package flowprocessor
