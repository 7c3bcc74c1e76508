// Package promrules writes Prometheus recording and alerting rules for the
// SLOs of a spec set, so teams that also run Prometheus, Thanos or Mimir get
// the same multi-window multi-burn-rate alerts the daemon evaluates.
//
// Every error ratio is a ratio of sums, sum(increase(bad[w])) /
// sum(increase(total[w])), never an average of per-window or per-instance
// ratios. SLOs measured from spans, or from OTLP metrics named as OTLP
// names them, read the exact per-SLO counters the daemon exposes
// (burnwatch_slo_events_total); SLOs written in PromQL read the team's own
// series, their window placeholder replaced by each window.
// docs/rules.md is the reference.
//
// The package is pure: it imports no collector package and runs nothing.
package promrules
