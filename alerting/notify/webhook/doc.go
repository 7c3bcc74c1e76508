// Package webhook is a generic webhook notifier: it POSTs alert batches as
// JSON in the shape of Alertmanager's webhook payload, version "4", so
// receivers written for Alertmanager (alert bridges, chat relays, ticketing
// hooks) accept Burnwatch alerts unchanged.
//
// It classifies responses for the Dispatcher's retries (2xx delivered; 408,
// 429 and 5xx retryable with Retry-After; other statuses permanent) and keeps
// the bearer token, header values and the URL's path out of errors and
// formatted output, since webhook URLs often embed credentials.
package webhook
