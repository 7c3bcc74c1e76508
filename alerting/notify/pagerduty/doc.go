// Package pagerduty is a notifier for the PagerDuty Events API v2: it turns
// each alert of a notification into one event, a trigger while the alert
// fires and a resolve once it is resolved, so one PagerDuty incident follows
// one (SLO, tier) alert from page to recovery.
//
// Each event's dedup_key derives from the alert's fingerprint, which depends
// only on the SLO and tier names: the resolve finds the incident its trigger
// opened across restarts and config reloads, and a trigger sent twice (a
// retried notification) updates the open incident instead of opening another.
//
// Responses are classified for the Outbox's retries (202 delivered; 3xx,
// 408, 429 and 5xx retryable with Retry-After; 400 and other 4xx
// permanent). The routing key, which is all it takes to open incidents on
// the service, never shows in errors or formatted output, nor do the URL's
// path and query.
package pagerduty
