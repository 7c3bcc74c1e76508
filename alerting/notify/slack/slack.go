package slack

import (
	"context"
	"fmt"
	"net/http"

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
		client = notify.NoRedirects()
	}
	return &Notifier{cfg: cfg, client: client, target: notify.RedactURL(string(cfg.URL))}, nil
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
	err := notify.Post(ctx, n.client, string(n.cfg.URL), n.target, n.cfg.Timeout, body, nil)
	return notify.Redact(err, notify.URLSecrets(string(n.cfg.URL))...)
}
