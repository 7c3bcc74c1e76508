// Package notify delivers alert notifications at least once: the Dispatcher
// hands them to Notifiers (one package each under this one: webhook,
// console, ...), with one goroutine and one bounded queue per receiver,
// retries with exponential backoff and jitter that honour Retry-After, and a
// hook per attempt so the host can journal every try. Undelivered
// notifications can be listed for a checkpoint and re-enqueued after a
// restart.
//
// It also holds what every HTTP notifier shares: the classification of a
// response into delivered, retryable or permanent (CheckResponse), and
// Secret, a string that never prints.
//
// Like package alerting, it imports neither the collector nor a logger.
package notify
