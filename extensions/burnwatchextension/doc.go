// Package burnwatchextension hosts the Burnwatch daemon (one app.App) in a
// collector: its config is what users write once (spec files, evaluation,
// storage, alerting) and its HTTP endpoint serves /metrics. The flow
// processor and the slo connector find the App through the host with
// FindApp. Extensions start before pipelines and stop after them, so the
// App's final checkpoint follows the last batch.
package burnwatchextension
