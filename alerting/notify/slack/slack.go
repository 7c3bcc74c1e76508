package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Notifier posts notifications to one Slack incoming webhook. It is safe
// for concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	// target is the redacted URL, for errors.
	target string
}

var _ notify.Notifier = (*Notifier)(nil)

// New checks cfg and returns its Notifier. client may be nil for a client
// that does not follow redirects (a redirected POST would lose its body; the
// 3xx is reported instead). The Notifier applies cfg.Timeout itself, so a
// given client needs no timeout of its own.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("slack %q: %w", cfg.Name, err)
	}
	if client == nil {
		client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Notifier{cfg: cfg, client: client, target: redactURL(string(cfg.URL))}, nil
}

// Name is the receiver's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// String describes the notifier without secrets.
func (n *Notifier) String() string { return "slack " + n.cfg.Name + " to " + n.target }

// Format keeps the unexported config out of %+v and %#v.
func (n *Notifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, n.String()) }

// Notify posts m as one message. Errors are *notify.DeliveryError, classified
// by notify.CheckResponse; network errors and timeouts are retryable.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	if m == nil || m.Notification == nil || len(m.Alerts) == 0 {
		return nil
	}
	body, err := n.Payload(m)
	if err != nil {
		return notify.Permanent(fmt.Errorf("encode slack message: %w", err))
	}
	return n.post(ctx, body)
}

func (n *Notifier) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, string(n.cfg.URL), bytes.NewReader(body))
	if err != nil {
		// Check accepted the URL, so this is unexpected; its text would
		// quote the URL.
		return notify.Permanent(fmt.Errorf("build request to %s", n.target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Burnwatch")

	resp, err := n.client.Do(req)
	if err != nil {
		return notify.Retryable(fmt.Errorf("post to %s: %w", n.target, stripURL(err)), 0)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if err := notify.CheckResponse(resp, time.Now()); err != nil {
		return fmt.Errorf("post to %s: %w", n.target, err)
	}
	return nil
}

// stripURL drops the *url.Error wrapper, whose text quotes the full URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}
