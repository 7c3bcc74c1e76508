// Package alerting turns SLO evaluations into alerts people can act on and
// delivers them at least once.
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
// The Dispatcher hands notifications to Notifiers (webhook, console, later
// PagerDuty, Slack, Teams): one goroutine and one bounded queue per receiver,
// retries with exponential backoff and jitter that honour Retry-After, and a
// hook per attempt so the host can journal every try. Undelivered
// notifications can be listed for a checkpoint and re-enqueued after a
// restart.
//
// Like package slo, this package imports neither the collector nor a logger:
// it returns errors and counts, and the host decides what to log.
package alerting
