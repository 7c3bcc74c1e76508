package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
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
	// target is the redacted URL, for errors; secrets are what a receiver's
	// error page might quote back, redacted from errors.
	target  string
	secrets []string
}

// New validates cfg and returns its Notifier. client may be nil for a client
// that does not follow redirects (a redirected POST would lose its body;
// the 3xx is reported instead). The Notifier applies cfg.Timeout itself, so a
// given client needs no timeout of its own.
func New(cfg Config, client *http.Client) (*Notifier, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("webhook %q: %w", cfg.Name, err)
	}
	if client == nil {
		client = notify.NoRedirects()
	}
	secrets := notify.URLSecrets(cfg.URL)
	for _, v := range cfg.Headers {
		secrets = append(secrets, string(v))
	}
	secrets = append(secrets, string(cfg.BearerToken), string(cfg.HMACSecret))
	return &Notifier{cfg: cfg, client: client, target: notify.RedactURL(cfg.URL), secrets: secrets}, nil
}

// Name is the receiver's name.
func (n *Notifier) Name() string { return n.cfg.Name }

// String describes the notifier without secrets.
func (n *Notifier) String() string { return "webhook " + n.cfg.Name + " to " + n.target }

// Format keeps the unexported config out of %+v and %#v.
func (n *Notifier) Format(f fmt.State, _ rune) { fmt.Fprint(f, n.String()) }

// Header names of a delivery: the notification's ID, the same on every
// retry and after a restart (a receiver drops repeats by it), and, with an
// hmac_secret, the signature of the body.
const (
	HeaderDelivery  = "X-Burnwatch-Delivery"
	HeaderSignature = "X-Burnwatch-Signature"
)

// Notify POSTs m as one Alertmanager v4 payload. Errors are
// *notify.DeliveryError: network errors and 3xx, 408, 429, 5xx are
// retryable (with Retry-After); other statuses are permanent.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	body, err := json.Marshal(n.Payload(m))
	if err != nil {
		return notify.Permanent(fmt.Errorf("encode webhook payload: %w", err))
	}
	err = notify.Post(ctx, n.client, n.cfg.URL, n.target, n.cfg.Timeout, body, func(h http.Header) {
		h.Set(HeaderDelivery, m.ID)
		for name, v := range n.cfg.Headers {
			h.Set(name, string(v))
		}
		if n.cfg.BearerToken != "" {
			h.Set("Authorization", "Bearer "+string(n.cfg.BearerToken))
		}
		if n.cfg.HMACSecret != "" {
			h.Set(HeaderSignature, Sign(string(n.cfg.HMACSecret), time.Now(), body))
		}
	})
	return notify.Redact(err, n.secrets...)
}

// Sign is the value of HeaderSignature for body sent at t, as Stripe signs
// its webhooks: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">". A
// receiver recomputes it with the shared secret and rejects old
// timestamps, so a captured request cannot be replayed later.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Payload builds the payload for m, Alertmanager's way: the group's
// alerts as they stand, status firing while any fires, groupLabels and
// groupKey of the group; alerts beyond MaxAlerts (firing ones kept first)
// are left out and counted in truncatedAlerts.
func (n *Notifier) Payload(m *notify.Message) *Message {
	p := &Message{
		Receiver:    n.cfg.Name,
		Status:      string(m.Status()),
		ExternalURL: n.cfg.ExternalURL,
		Version:     Version,
		GroupLabels: maps.Clone(m.GroupLabels),
		GroupKey:    m.GroupKey,
	}
	if p.GroupLabels == nil {
		p.GroupLabels = map[string]string{}
	}
	kept := m.Alerts
	if n.cfg.MaxAlerts > 0 && len(kept) > n.cfg.MaxAlerts {
		kept = slices.Clone(kept)
		slices.SortStableFunc(kept, func(a, b alerting.Alert) int {
			// Firing alerts first: a receiver must see what still burns.
			return boolRank(a.State != alerting.StateFiring) - boolRank(b.State != alerting.StateFiring)
		})
		kept = kept[:n.cfg.MaxAlerts]
		p.TruncatedAlerts = uint64(len(m.Alerts) - n.cfg.MaxAlerts)
	}
	p.Alerts = make([]Alert, len(kept))
	var labels, annotations []map[string]string
	for i := range kept {
		a := &kept[i]
		p.Alerts[i] = Alert{
			Status:       string(a.State),
			Labels:       maps.Clone(a.Labels),
			Annotations:  m.Annotations(a),
			StartsAt:     a.StartsAt.UTC(),
			EndsAt:       a.EndsAt.UTC(),
			GeneratorURL: a.Dashboard,
			Fingerprint:  a.Fingerprint,
		}
		if p.Alerts[i].Labels == nil {
			p.Alerts[i].Labels = map[string]string{}
		}
		labels = append(labels, p.Alerts[i].Labels)
		annotations = append(annotations, p.Alerts[i].Annotations)
	}
	p.CommonLabels = common(labels)
	p.CommonAnnotations = common(annotations)
	return p
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
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
