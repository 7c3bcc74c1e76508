package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
)

// Options are a Pusher's hooks and tuning, beside its Config. Zero values
// mean the defaults.
type Options struct {
	// OnAttempt gets every POST to an Alertmanager, from that
	// Alertmanager's goroutine; it must return quickly.
	OnAttempt func(Attempt)
	// EvaluationInterval is how often the host calls Update. A firing
	// alert's endsAt allows for four of it or of the resend interval,
	// whichever is longer (see Update).
	EvaluationInterval time.Duration
	// Templates render summary and description (default: the SLO's
	// annotations, else Burnwatch's texts).
	Templates *notify.Templates
	// InitialBackoff is the wait after an Alertmanager's first failed
	// attempt (default 1s, at most MaxBackoff); it doubles per failure up
	// to MaxBackoff (default the resend interval), drawn from [half, all]
	// of that. A longer Retry-After is honoured.
	InitialBackoff, MaxBackoff time.Duration
}

// Attempt is one POST of the alert set to one Alertmanager, for
// Options.OnAttempt.
type Attempt struct {
	// URL is the Alertmanager's base URL, without credentials or query.
	URL string
	// Alerts is how many alerts the payload held.
	Alerts   int
	At       time.Time
	Duration time.Duration
	Err      error
	// Outcome is notify.OutcomeDelivered, OutcomeRetry (NextAt says
	// when), OutcomeFailed (Alertmanager rejected the payload, a 400: it
	// is not sent again until the next change or resend) or
	// OutcomeAborted (Close).
	Outcome notify.Outcome
	NextAt  time.Time
}

// Stats are one Alertmanager's counters.
type Stats struct {
	// URL is the base URL, without credentials or query.
	URL string
	// Sent counts payloads the Alertmanager accepted; Failed the attempts
	// that failed, Rejected among them those it answered 400 or another
	// permanent error.
	Sent, Failed, Rejected uint64
	// LastSuccess is when it last accepted a payload; zero if never.
	LastSuccess time.Time
}

// Pusher keeps Burnwatch's alert set and pushes it to Alertmanagers, as
// Prometheus does: each Alertmanager gets the whole set at once when it
// changes, and again every resend interval. It is safe for concurrent use.
type Pusher struct {
	cfg    Config // URLs cleared: the targets hold them, credentials apart
	opts   Options
	client *http.Client
	// ownClient: the Pusher made client, and closes its idle connections
	// on Close.
	ownClient bool
	message   *notify.Message
	// delta is the larger of the resend and evaluation intervals; a firing
	// alert's endsAt is four of it after its evaluation.
	delta   time.Duration
	targets []*target

	// mu guards everything below. alerts is the set, keyed by label set
	// (Alertmanager's identity of an alert). version counts the changes
	// Alertmanagers must hear of at once: an alert started, resolved,
	// fired again or changed labels. seq counts every change, fresh
	// numbers included; body is the payload of seq bodySeq, with count
	// alerts.
	mu      sync.Mutex
	alerts  map[string]*entry
	version uint64
	seq     uint64
	body    []byte
	bodySeq uint64
	count   int

	// ctx is what requests see; cancelled when Close stops waiting.
	ctx       context.Context
	cancel    context.CancelFunc
	closing   chan struct{}
	startOnce sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
	done      chan struct{}
}

// New checks cfg and returns its Pusher with default Options; see
// NewWithOptions.
func New(cfg Config, client *http.Client) (*Pusher, error) {
	return NewWithOptions(cfg, client, Options{})
}

// NewWithOptions checks cfg and returns its Pusher. client may be nil for
// one that does not follow redirects (a redirected POST would lose its
// body; the 3xx is reported and retried instead). The Pusher applies
// cfg.Timeout to each request itself, so a given client needs no timeout
// of its own. Nothing is sent before Start.
func NewWithOptions(cfg Config, client *http.Client, opts Options) (*Pusher, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Check(); err != nil {
		return nil, fmt.Errorf("alertmanager: %w", err)
	}
	if opts.EvaluationInterval < 0 || opts.InitialBackoff < 0 || opts.MaxBackoff < 0 {
		return nil, errors.New("alertmanager options: durations must not be negative")
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = cfg.ResendInterval
	}
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = min(time.Second, opts.MaxBackoff)
	}
	if opts.MaxBackoff < opts.InitialBackoff {
		return nil, fmt.Errorf("alertmanager options: max backoff %v is below initial backoff %v", opts.MaxBackoff, opts.InitialBackoff)
	}
	ownClient := client == nil
	if ownClient {
		tr := &http.Transport{Proxy: http.ProxyFromEnvironment}
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			tr = dt.Clone() // its own, so Close can drop its idle connections
		}
		client = &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	p := &Pusher{
		ownClient: ownClient,
		opts:      opts,
		client:    client,
		message:   notify.NewMessage(&alerting.Notification{Receiver: "alertmanager"}, opts.Templates),
		delta:     max(cfg.ResendInterval, opts.EvaluationInterval),
		alerts:    map[string]*entry{},
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	for _, raw := range cfg.URLs {
		u, _ := parseBase(raw) // Check parsed it
		p.targets = append(p.targets, &target{
			url: redactURL(raw), endpoint: endpoint(u).String(), user: u.User,
			wake: make(chan struct{}, 1), stats: Stats{URL: redactURL(raw)},
		})
	}
	cfg.URLs = nil
	p.cfg = cfg
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

// String names the Alertmanagers without credentials.
func (p *Pusher) String() string {
	urls := make([]string, len(p.targets))
	for i, t := range p.targets {
		urls[i] = t.url
	}
	return "alertmanager pusher to " + strings.Join(urls, ", ")
}

// Update replaces the alert set after an evaluation at now: firing holds
// every alert firing now, with fresh numbers, and resolved those that
// resolved at this evaluation (with their EndsAt). A firing alert missing
// from firing is taken as resolved at now. Resolved alerts are kept and
// sent until ResolvedTTL after their EndsAt. Update does not block on the
// network: the Alertmanagers' goroutines send.
//
// A firing alert's endsAt is now + 4 × max(resend interval, evaluation
// interval), Prometheus' rule (rules/alerting.go sendAlerts: "allow for
// two Eval or Alertmanager send failures"): Alertmanager keeps the alert
// firing between resends and through a failed one or two, and resolves it
// by itself if Burnwatch stops evaluating. endsAt counts from the
// evaluation, not from the send, so resends without evaluations do not
// keep a stale alert alive.
//
// Only changes Alertmanager acts on are pushed at once: an alert that
// starts, resolves, fires again or changes labels (a new label set is a new
// alert to Alertmanager; the old one is resolved). Annotations, which carry
// the numbers of every evaluation, ride with the next push or resend, as in
// Prometheus: pushing each evaluation's numbers would make every
// evaluation a push.
func (p *Pusher) Update(now time.Time, firing, resolved []alerting.Alert) {
	validUntil := now.Add(4 * p.delta)
	p.mu.Lock()
	changed := false
	fired := make(map[string]bool, len(firing))
	for i := range firing {
		a := firing[i].Clone()
		key := labelKey(labels(&a))
		old := p.alerts[key]
		a.State, a.EndsAt = alerting.StateFiring, time.Time{}
		if a.StartsAt.IsZero() {
			a.StartsAt = now
			if old != nil && !old.resolved() {
				a.StartsAt = old.alert.StartsAt
			}
		}
		if old == nil || old.resolved() || !old.alert.StartsAt.Equal(a.StartsAt) {
			changed = true
		}
		p.alerts[key] = &entry{alert: a, validUntil: validUntil}
		fired[key] = true
	}
	for i := range resolved {
		a := resolved[i].Clone()
		key := labelKey(labels(&a))
		if fired[key] {
			continue // it fired again at this evaluation: firing wins
		}
		a.State = alerting.StateResolved
		if a.EndsAt.IsZero() {
			a.EndsAt = now
		}
		if old := p.alerts[key]; old == nil || !old.resolved() || !old.alert.EndsAt.Equal(a.EndsAt) {
			changed = true
		}
		p.alerts[key] = &entry{alert: a, validUntil: a.EndsAt}
	}
	for key, e := range p.alerts {
		if !e.resolved() && !fired[key] {
			e.alert.State, e.alert.EndsAt, e.validUntil = alerting.StateResolved, now, now
			changed = true
		}
	}
	p.expire(now)
	p.seq++
	if changed {
		p.version++
	}
	p.mu.Unlock()
	if changed {
		for _, t := range p.targets {
			select {
			case t.wake <- struct{}{}:
			default:
			}
		}
	}
}

// expire drops resolved alerts ResolvedTTL after they resolved; the caller
// holds mu. The set is bounded by the alerts the SLOs define (one per label
// set) plus those resolved within the TTL.
func (p *Pusher) expire(now time.Time) {
	for key, e := range p.alerts {
		if e.resolved() && now.Sub(e.alert.EndsAt) > p.cfg.ResolvedTTL {
			delete(p.alerts, key)
			p.seq++
		}
	}
}

// labelKey identifies a label set, as Alertmanager does.
func labelKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0xff) // never in UTF-8, so no two sets share a key
		b.WriteString(l[k])
		b.WriteByte(0xff)
	}
	return b.String()
}

// snapshot returns the payload of the set as of now, how many alerts it
// holds and the version it reflects. Annotations are rendered outside mu,
// so Update does not wait on templates.
func (p *Pusher) snapshot(now time.Time) (body []byte, n int, version uint64, err error) {
	p.mu.Lock()
	p.expire(now)
	seq, version := p.seq, p.version
	if p.body != nil && p.bodySeq == seq {
		defer p.mu.Unlock()
		return p.body, p.count, version, nil
	}
	es := make([]*entry, 0, len(p.alerts))
	for _, e := range p.alerts {
		c := *e // Update replaces entries, but changes State and EndsAt in place
		es = append(es, &c)
	}
	p.mu.Unlock()

	if len(es) == 0 {
		return nil, 0, version, nil
	}
	sortEntries(es)
	alerts := make([]postableAlert, len(es))
	for i, e := range es {
		alerts[i] = e.postable(p.message, p.cfg.ExternalURL)
	}
	body, err = json.Marshal(alerts)
	if err != nil {
		return nil, len(alerts), version, fmt.Errorf("encode alerts: %w", err)
	}
	p.mu.Lock()
	if p.seq == seq {
		p.body, p.bodySeq, p.count = body, seq, len(alerts)
	}
	p.mu.Unlock()
	return body, len(alerts), version, nil
}

// Start starts one goroutine per Alertmanager. It is safe to call more
// than once, and does nothing after Close.
func (p *Pusher) Start() {
	p.startOnce.Do(func() {
		for _, t := range p.targets {
			p.wg.Add(1)
			go p.run(t)
		}
		go func() {
			p.wg.Wait()
			close(p.done)
		}()
	})
}

// Close stops pushing. Each Alertmanager that has not heard of the last
// change and is not backing off is sent it once more, until ctx is done;
// then requests in flight are cancelled. Alertmanager keeps firing alerts
// until their endsAt, so a restart within it is seamless. Close is safe to
// call more than once and without Start.
func (p *Pusher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() { close(p.closing) })
	p.startOnce.Do(func() { close(p.done) })
	var err error
	select {
	case <-p.done:
	case <-ctx.Done():
		err = fmt.Errorf("close alertmanager pusher: %w", ctx.Err())
	}
	p.cancel()
	<-p.done
	if p.ownClient {
		p.client.CloseIdleConnections()
	}
	return err
}

// Stats returns each Alertmanager's counters, in the order of the URLs.
func (p *Pusher) Stats() []Stats {
	out := make([]Stats, len(p.targets))
	for i, t := range p.targets {
		t.mu.Lock()
		out[i] = t.stats
		t.mu.Unlock()
	}
	return out
}

// target is one Alertmanager.
type target struct {
	url      string // redacted base URL, for errors and reports
	endpoint string // without credentials
	user     *url.Userinfo
	wake     chan struct{} // capacity 1: "the set changed"

	mu    sync.Mutex // guards stats
	stats Stats
}
