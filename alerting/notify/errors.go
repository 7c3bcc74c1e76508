package notify

import (
	"errors"
	"fmt"
	"time"
)

// DeliveryError is a failed delivery that says whether trying again may help.
// Notifiers return it (possibly wrapped); the Dispatcher finds it with
// errors.As. An error without one is treated as retryable, since most
// unclassified failures (network, timeouts) are transient.
type DeliveryError struct {
	// Retryable says a later attempt may succeed (429, 5xx, network).
	Retryable bool
	// RetryAfter, when positive, is the least wait the receiver asked for
	// (Retry-After); the Dispatcher does not try again sooner.
	RetryAfter time.Duration
	Err        error
}

func (e *DeliveryError) Error() string {
	if e.Err == nil {
		if e.Retryable {
			return "retryable delivery error"
		}
		return "permanent delivery error"
	}
	return e.Err.Error()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// Permanent marks err as not worth retrying (a 400 for a malformed payload,
// a revoked token).
func Permanent(err error) error { return &DeliveryError{Err: err} }

// Retryable marks err as transient; after, when positive, is the least wait
// before the next attempt.
func Retryable(err error, after time.Duration) error {
	return &DeliveryError{Retryable: true, RetryAfter: after, Err: err}
}

// IsRetryable reports whether a delivery that failed with err may succeed
// later, and the least wait the receiver asked for.
func IsRetryable(err error) (retryable bool, after time.Duration) {
	if err == nil {
		return false, 0
	}
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Retryable, max(de.RetryAfter, 0)
	}
	return true, 0
}

// Secret is a string that is redacted whenever it is formatted or encoded,
// for tokens, routing keys and header values in notifier configs: printing a
// config or an error then cannot leak it. Convert with string(s) to use it.
type Secret string

const redacted = "[REDACTED]"

// String returns the redaction mark, or "" when the secret is empty so a missing
// value is still visible.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("alerting.Secret(%q)", s.String()) }

// Format redacts every verb, including %x and %d which would otherwise print
// the bytes.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalText redacts the secret in JSON, YAML and text encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
