// Package alertmanager pushes Burnwatch's alerts to Alertmanager, the way
// Prometheus does, so a team that runs Alertmanager gets its routing,
// inhibition, silences and receivers for SLO alerts at once.
//
// It is not a grouped notifier: a Pusher is fed the daemon's whole alert set
// after each evaluation (Update) and POSTs it to /api/v2/alerts of every
// Alertmanager of an HA list, which deduplicate among themselves. Each
// Alertmanager has a goroutine of its own: one that fails (network, 429,
// 5xx) is retried with backoff without delaying the others, and one that
// rejects a payload (400) is reported, not retried until the set changes or
// the next resend.
//
// The set is sent at once when an alert starts, resolves, fires again or
// changes labels, and otherwise every resend interval. A firing alert's
// endsAt is four times the larger of the resend and evaluation intervals
// after its evaluation, Prometheus' rule, so Alertmanager keeps it firing
// between resends and resolves it by itself if Burnwatch goes away. A
// resolved alert is sent with its resolve time as endsAt until the resolved
// TTL has passed.
//
// Labels are the alert's (alertname, slo, flow, tier, severity and the
// SLO's own); annotations are those of notify.Message (summary,
// description, runbook_url, dashboard_url, the numbers and the SLO's
// templates). Credentials in a URL (https://user:pass@host) are sent as
// basic auth and never show in errors, reports or formatted output.
package alertmanager
