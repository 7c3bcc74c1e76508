// Package alerting turns SLO evaluations into alerts people can act on: the
// alert model, its lifecycle and its text.
//
// An alert is one (SLO, tier) pair, where a tier is a multi-window burn-rate
// tier or one of the SLO's other conditions: budget consumed, budget
// exhaustion within a horizon, no data (Alert.Kind tells them apart). The
// Manager follows each pair's condition across evaluations and yields a
// Notification when an alert starts firing, repeats after RepeatInterval, and
// resolves once the condition has not held for KeepFiringFor. Its state is a
// plain exported struct (Snapshot/Restore) so a restart keeps firing alerts
// firing without paging again.
//
// Delivery lives in package notify and the notifier packages under it.
//
// Like package slo, this package imports neither the collector nor a logger:
// it returns errors and counts, and the host decides what to log.
package alerting
