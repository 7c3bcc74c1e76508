package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/notifytest"
)

func TestClassification(t *testing.T) {
	tests := []struct {
		name      string
		respond   func(http.ResponseWriter, []byte)
		ok        bool
		retryable bool
		after     time.Duration
		wantText  string
	}{
		{"202 accepted", status(http.StatusAccepted, nil, `{"status":"success"}`), true, false, 0, ""},
		{"400 invalid event", status(http.StatusBadRequest, nil, `{"status":"invalid event","message":"Event object is invalid"}`),
			false, false, 0, "unexpected status 400 Bad Request"},
		{"429 rate limited", status(http.StatusTooManyRequests, map[string]string{"Retry-After": "30"}, ""),
			false, true, 30 * time.Second, "unexpected status 429"},
		{"500", status(http.StatusInternalServerError, nil, "oops"), false, true, 0, "unexpected status 500"},
		{"302 not followed", status(http.StatusFound, map[string]string{"Location": "/elsewhere"}, ""),
			false, true, 0, "unexpected status 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, srv := serve(t, tt.respond)
			n := newNotifier(t, Config{URL: srv.URL + "/v2/enqueue"})
			err := n.Notify(context.Background(), message(notifytest.Alert("page-fast")))
			if got := len(r.Bodies()); got != 1 {
				t.Errorf("%d requests, want 1 (a redirect is not followed)", got)
			}
			if tt.ok {
				if err != nil {
					t.Fatalf("Notify() = %v", err)
				}
				return
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) {
				t.Fatalf("Notify() = %v, want a *notify.DeliveryError", err)
			}
			retryable, after := notify.IsRetryable(err)
			if retryable != tt.retryable || after != tt.after {
				t.Errorf("retryable %v after %v, want %v after %v", retryable, after, tt.retryable, tt.after)
			}
			want := "event 1 of 1 (trigger burnwatch-5eb672bf510f22f8): post to " + srv.URL + "/[REDACTED]: " + tt.wantText
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q, want it to start with %q", err, want)
			}
		})
	}
}

// TestPartialFailure: a rejected event does not hold back the next one; a
// retryable failure stops the message, which the Outbox sends again whole.
func TestPartialFailure(t *testing.T) {
	tests := []struct {
		name      string
		first     func(http.ResponseWriter, []byte)
		requests  int
		retryable bool
	}{
		{"rejected", status(http.StatusBadRequest, nil, "invalid event"), 2, false},
		{"unavailable", status(http.StatusServiceUnavailable, nil, ""), 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, srv := serve(t, tt.first)
			n := newNotifier(t, Config{URL: srv.URL})
			err := n.Notify(context.Background(), notify.NewMessage(notifytest.Notification("pagerduty"), nil))
			if got := len(r.Bodies()); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if retryable, _ := notify.IsRetryable(err); err == nil || retryable != tt.retryable {
				t.Errorf("Notify() = %v, retryable %v; want an error, retryable %v", err, retryable, tt.retryable)
			}
			if !strings.HasPrefix(err.Error(), "event 1 of 2 (resolve burnwatch-") {
				t.Errorf("error %q does not name the event", err)
			}
		})
	}
}

// TestTimeout: a receiver that never answers costs one timeout, and the
// failure is retryable.
func TestTimeout(t *testing.T) {
	// The handler returns once the client gives up, so srv.Close does not
	// wait for it. It reads the body first: the server notices a closed
	// connection only once the body is read.
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		<-req.Context().Done()
	}))
	defer srv.Close()

	const timeout = 100 * time.Millisecond
	n := newNotifier(t, Config{URL: srv.URL, Timeout: timeout})
	start := time.Now()
	err := n.Notify(context.Background(), message(notifytest.Alert("page-fast")))
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify() = %v, want a deadline error", err)
	}
	if retryable, _ := notify.IsRetryable(err); !retryable {
		t.Errorf("timeout is not retryable: %v", err)
	}
	if elapsed < timeout || elapsed > timeout+2*time.Second {
		t.Errorf("Notify returned after %v, want about %v", elapsed, timeout)
	}

	// A caller's cancellation ends it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Notify(ctx, message(notifytest.Alert("page-fast"))); !errors.Is(err, context.Canceled) {
		t.Errorf("Notify(cancelled) = %v", err)
	}
}

// TestNoSecretShown: the routing key and the URL's path and query show in
// no error, formatted value or log record, even when the receiver echoes
// the event in its answer.
func TestNoSecretShown(t *testing.T) {
	echo := func(w http.ResponseWriter, body []byte) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
	}
	// The second answer's excerpt (200 characters) ends inside the key.
	cut := func(w http.ResponseWriter, _ []byte) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, strings.Repeat("x", 190)+routingKey)
	}
	r, srv := serve(t, echo, cut)
	cfg := Config{RoutingKey: routingKey, URL: srv.URL + "/enqueue/pathsecret?token=querysecret"}
	n := newNotifier(t, cfg)
	err := n.Notify(context.Background(), notify.NewMessage(notifytest.Notification("pagerduty"), nil))
	if err == nil {
		t.Fatal("Notify() = nil, want the 400")
	}
	if !bytes.Contains(r.Bodies()[0], []byte(`"routing_key":"`+routingKey+`"`)) {
		t.Fatalf("the key was not sent: %s", r.Bodies()[0])
	}
	if !strings.Contains(err.Error(), `\"routing_key\":\"[REDACTED]\"`) {
		t.Errorf("error does not show the redacted echo: %v", err)
	}
	if retryable, _ := notify.IsRetryable(err); retryable {
		t.Errorf("redaction lost the classification: %v", err)
	}

	_, badKey := New(Config{RoutingKey: notify.Secret(routingKey[:16] + " " + routingKey[16:]), URL: cfg.URL}, nil)
	// shown must hold no secret; encoded (JSON) only no routing key, since
	// encoding/json shows the URL as configured (see Config).
	var shown, encoded []string
	for _, v := range []any{cfg, &cfg, n, *n, err, badKey, n.Events(notify.NewMessage(notifytest.Notification("pagerduty"), nil))} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			shown = append(shown, fmt.Sprintf(verb, v))
		}
		b, _ := json.Marshal(v)
		encoded = append(encoded, string(b))
	}
	var text, jsonLog bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Error("delivery failed", "config", cfg, "notifier", n, "err", err, "check", badKey)
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Error("delivery failed", "config", cfg, "notifier", n, "err", err, "check", badKey)
	shown = append(shown, cfg.String(), cfg.GoString(), n.String(), text.String())
	encoded = append(encoded, jsonLog.String())
	for _, s := range shown {
		for _, secret := range []string{routingKey[:10], "pathsecret", "querysecret"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q shows in %s", secret, s)
			}
		}
	}
	for _, s := range encoded {
		if strings.Contains(s, routingKey[:10]) {
			t.Errorf("the routing key shows in %s", s)
		}
	}
	if !strings.Contains(cfg.String(), `RoutingKey: "[REDACTED]"`) {
		t.Errorf("String() = %s", cfg.String())
	}
}
