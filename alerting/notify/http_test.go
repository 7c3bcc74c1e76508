package notify

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRedact: a receiver's error page quoting the request back loses every
// secret, and the error keeps whether and when to retry.
func TestRedact(t *testing.T) {
	url := "https://user:pw-s3cr3t@hooks.example.com/services/T000/B000/tok-s3cr3t?token=q-s3cr3t"
	err := Retryable(errors.New(`post to https://hooks.example.com/[REDACTED]: unexpected status 503: "Cannot POST /services/T000/B000/tok-s3cr3t?token=q-s3cr3t (Bearer bearer-s3cr3t) user:pw-s3cr3t"`), 30*time.Second)
	got := Redact(err, append(URLSecrets(url), "bearer-s3cr3t", "", "ab")...)
	if strings.Contains(got.Error(), "s3cr3t") {
		t.Errorf("secret left in %q", got)
	}
	if !strings.Contains(got.Error(), "unexpected status 503") {
		t.Errorf("the rest of the error is gone: %q", got)
	}
	if retryable, after := IsRetryable(got); !retryable || after != 30*time.Second {
		t.Errorf("retryable %v after %v, want true 30s", retryable, after)
	}
	plain := errors.New("connection refused")
	if Redact(plain, "s3cr3t") != plain || Redact(nil, "x") != nil {
		t.Error("Redact changed an error without secrets, or made one from nil")
	}
}
