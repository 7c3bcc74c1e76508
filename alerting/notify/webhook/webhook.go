package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Version is the Alertmanager webhook payload version Burnwatch speaks.
const Version = "4"

// Message is the payload: Alertmanager's webhook message, version 4. Fields
// are in Alertmanager's order so payloads diff cleanly against its own.
type Message struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []Alert           `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
}

// Alert is one alert of a Message.
type Alert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	// EndsAt is the zero time ("0001-01-01T00:00:00Z") while firing, as
	// Alertmanager sends it.
	EndsAt       time.Time `json:"endsAt"`
	GeneratorURL string    `json:"generatorURL"`
	Fingerprint  string    `json:"fingerprint"`
}

// Notifier POSTs notifications to one webhook. It is safe for concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	// target is the redacted URL, for errors.
	target string
}

// New validates cfg and returns its Notifier. client may be nil for a client
// that does not follow redirects (a redirected POST would lose its body;
// the 3xx is reported instead). The Notifier applies cfg.Timeout itself, so a
// given client needs no timeout of its own.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webhook %q: %w", cfg.Name, err)
	}
	if client == nil {
		client = &http.Client{
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &Notifier{cfg: cfg, client: client, target: redactURL(cfg.URL)}, nil
}

// Name is the receiver's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// String describes the notifier without secrets.
func (n *Notifier) String() string { return "webhook " + n.cfg.Name + " to " + n.target }

// Format keeps the unexported config out of %+v and %#v.
func (n *Notifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, n.String()) }

// Notify POSTs ns as one Message. Errors are *notify.DeliveryError:
// network errors and 408, 429, 5xx are retryable (with Retry-After); other
// statuses are permanent.
func (n *Notifier) Notify(ctx context.Context, ns []alerting.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	body, err := json.Marshal(n.Message(ns))
	if err != nil {
		return notify.Permanent(fmt.Errorf("encode webhook payload: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		// Validate accepted the URL, so this is unexpected; its text would
		// quote the URL.
		return notify.Permanent(fmt.Errorf("build request to %s", n.target))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Burnwatch")
	for name, v := range n.cfg.Headers {
		req.Header.Set(name, string(v))
	}
	if n.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+string(n.cfg.BearerToken))
	}

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

// Message builds the payload for ns: status is firing when any notification
// is; groupLabels are the group labels all notifications share; alerts beyond
// MaxAlerts are left out and counted in truncatedAlerts.
func (n *Notifier) Message(ns []alerting.Notification) *Message {
	m := &Message{
		Receiver:    n.cfg.Name,
		Status:      string(alerting.StateResolved),
		ExternalURL: n.cfg.ExternalURL,
		Version:     Version,
	}
	// Status looks at every notification, truncated ones too: a receiver
	// must not read "resolved" when a firing alert was cut.
	for _, x := range ns {
		if x.Alert.State == alerting.StateFiring {
			m.Status = string(alerting.StateFiring)
			break
		}
	}
	kept := ns
	if n.cfg.MaxAlerts > 0 && len(ns) > n.cfg.MaxAlerts {
		kept = ns[:n.cfg.MaxAlerts]
		m.TruncatedAlerts = uint64(len(ns) - n.cfg.MaxAlerts)
	}
	m.Alerts = make([]Alert, len(kept))
	var labels, annotations, groups []map[string]string
	for i, x := range kept {
		a := x.Alert
		m.Alerts[i] = Alert{
			Status:       string(a.State),
			Labels:       a.Labels,
			Annotations:  a.Annotations(),
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       a.EndsAt.UTC(),
			GeneratorURL: a.Dashboard,
			Fingerprint:  a.Fingerprint,
		}
		if m.Alerts[i].Labels == nil {
			m.Alerts[i].Labels = map[string]string{}
		}
		labels = append(labels, m.Alerts[i].Labels)
		annotations = append(annotations, m.Alerts[i].Annotations)
		groups = append(groups, x.GroupLabels)
	}
	m.GroupLabels = common(groups)
	m.CommonLabels = common(labels)
	m.CommonAnnotations = common(annotations)
	m.GroupKey = alerting.GroupKey(m.GroupLabels)
	return m
}

// common returns the pairs every map holds; never nil, since Alertmanager
// always sends objects.
func common(ms []map[string]string) map[string]string {
	out := map[string]string{}
	if len(ms) == 0 {
		return out
	}
	for k, v := range ms[0] {
		all := true
		for _, m := range ms[1:] {
			if w, ok := m[k]; !ok || w != v {
				all = false
				break
			}
		}
		if all {
			out[k] = v
		}
	}
	return out
}
