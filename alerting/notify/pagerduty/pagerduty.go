package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Notifier sends notifications to one PagerDuty service. It is safe for
// concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	// target is the redacted URL, for errors.
	target string
}

var _ notify.Notifier = (*Notifier)(nil)

// New checks cfg and returns its Notifier. client may be nil for a client
// that does not follow redirects (a redirected POST would lose its body;
// the 3xx is reported instead). The Notifier applies cfg.Timeout to each
// request itself, so a given client needs no timeout of its own.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("pagerduty %q: %w", cfg.Name, err)
	}
	if client == nil {
		client = notify.NoRedirects()
	}
	return &Notifier{cfg: cfg, client: client, target: notify.RedactURL(cfg.URL)}, nil
}

// Name is the receiver's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// String describes the notifier without secrets. It and Format have value
// receivers so that a Notifier value, not only a pointer, formats redacted:
// fmt would otherwise print the unexported config field by field.
func (n Notifier) String() string { return "pagerduty " + n.cfg.Name + " to " + n.target }

// Format keeps the config out of every verb.
func (n Notifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, n.String()) }

// Notify sends one event per alert of m, in order, each in a request of its
// own bounded by the configured timeout. Errors are *notify.DeliveryError
// and never contain the routing key or the URL's path and query.
//
// A retryable failure (network, timeout, 3xx, 408, 429, 5xx) stops at that
// event and makes the whole message retryable: the Outbox then sends every
// event again, which is safe because PagerDuty deduplicates by dedup_key (a
// repeated trigger updates the open incident, a repeated resolve is a
// no-op). A permanent failure of one event (400: PagerDuty rejected it) does
// not hold back the others; the message then fails permanently, naming each
// rejected event.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	events := n.Events(m)
	var rejected []error
	for i := range events {
		err := n.send(ctx, &events[i])
		if err == nil {
			continue
		}
		err = fmt.Errorf("event %d of %d (%s %s): %w", i+1, len(events), events[i].EventAction, events[i].DedupKey, err)
		if retry, after := notify.IsRetryable(err); retry {
			return &notify.DeliveryError{Retryable: true, RetryAfter: after, Err: errors.Join(append(rejected, err)...)}
		}
		rejected = append(rejected, err)
	}
	if len(rejected) > 0 {
		return &notify.DeliveryError{Err: errors.Join(rejected...)}
	}
	return nil
}

// send POSTs one event with the routing key.
func (n *Notifier) send(ctx context.Context, ev *Event) error {
	body, err := json.Marshal(struct {
		RoutingKey string `json:"routing_key"`
		*Event
	}{string(n.cfg.RoutingKey), ev})
	if err != nil {
		return notify.Permanent(fmt.Errorf("encode event: %w", n.redact(err)))
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		// Check accepted the URL, so this is unexpected; its text would
		// quote the URL.
		return notify.Permanent(fmt.Errorf("build request to %s", n.target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Burnwatch")

	resp, err := n.client.Do(req)
	if err != nil {
		return notify.Retryable(fmt.Errorf("post to %s: %w", n.target, n.redact(notify.StripURL(err))), 0)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if err := notify.CheckResponse(resp, time.Now()); err != nil {
		// The body excerpt may echo the event, routing key included.
		return fmt.Errorf("post to %s: %w", n.target, n.redact(err))
	}
	return nil
}

// redact returns err with the routing key replaced in its text, keeping a
// *notify.DeliveryError's classification and context errors (deadline,
// cancellation) for errors.Is. A response excerpt may end in the middle of
// an echoed key, so its leading parts are replaced too, down to
// minKeyPart characters. err is returned as is when it holds none.
func (n *Notifier) redact(err error) error {
	key := string(n.cfg.RoutingKey)
	msg := err.Error()
	for l := len(key); l >= minKeyPart; l-- {
		msg = strings.ReplaceAll(msg, key[:l], "[REDACTED]")
	}
	if msg == err.Error() {
		return err
	}
	clean := &redacted{msg: msg}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		clean.is = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		clean.is = context.Canceled
	}
	var de *notify.DeliveryError
	if errors.As(err, &de) {
		return &notify.DeliveryError{Retryable: de.Retryable, RetryAfter: de.RetryAfter, Err: clean}
	}
	return clean
}

// minKeyPart is the shortest start of the routing key redact replaces:
// shorter ones say little about the key and may be ordinary text.
const minKeyPart = 4

// redacted is an error's text without the routing key.
type redacted struct {
	msg string
	is  error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.is }
