package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// run is t's goroutine: it sends the set when it changed and every resend
// interval, and backs off while t fails, apart from the other
// Alertmanagers.
func (p *Pusher) run(t *target) {
	defer p.wg.Done()
	var (
		sent     uint64    // the version t last accepted (or rejected)
		lastSent time.Time // when; zero while nothing was sent
		failures int       // consecutive retryable failures
		retryAt  time.Time // no attempt before, while failing
	)
	for {
		p.mu.Lock()
		version := p.version
		p.mu.Unlock()
		now := time.Now()
		var due time.Time // zero: nothing to send until Update
		switch {
		case version != sent:
			due = later(now, retryAt)
		case !lastSent.IsZero():
			due = later(lastSent.Add(p.cfg.ResendInterval), retryAt)
		}

		var timer *time.Timer
		var fire <-chan time.Time
		if !due.IsZero() {
			timer = time.NewTimer(due.Sub(now))
			fire = timer.C
		}
		select {
		case <-p.closing:
		case <-t.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}

		select {
		case <-p.closing:
			// The last change goes out unless t is backing off: Close is
			// not the time to wait for a failing Alertmanager.
			p.mu.Lock()
			version = p.version
			p.mu.Unlock()
			if version != sent && !time.Now().Before(retryAt) {
				p.attempt(t, failures+1)
			}
			return
		default:
		}
		if due.IsZero() || time.Now().Before(due) {
			continue // woken: look again
		}

		ver, a := p.attempt(t, failures+1)
		switch a.Outcome {
		case notify.OutcomeDelivered, notify.OutcomeFailed:
			sent, lastSent, failures, retryAt = ver, a.At, 0, time.Time{}
		case notify.OutcomeRetry:
			failures++
			retryAt = a.NextAt
		case notify.OutcomeAborted:
			return
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// attempt sends the current set to t once and reports it; number is the
// attempt's place in a run of failures (1 for a first try). It returns the
// version sent and the attempt. An empty set is not sent; it counts as
// delivered without a report.
func (p *Pusher) attempt(t *target, number int) (uint64, Attempt) {
	start := time.Now()
	body, n, version, err := p.snapshot(start)
	if err == nil && n == 0 {
		return version, Attempt{URL: t.url, At: start, Outcome: notify.OutcomeDelivered}
	}
	if err == nil {
		err = p.post(p.ctx, t, body)
	} else {
		err = notify.Permanent(err)
	}
	a := Attempt{URL: t.url, Alerts: n, At: start, Duration: time.Since(start), Err: err}
	retry, after := notify.IsRetryable(err)
	t.mu.Lock()
	switch {
	case err == nil:
		a.Outcome = notify.OutcomeDelivered
		t.stats.Sent++
		t.stats.LastSuccess = start.Add(a.Duration)
	case p.ctx.Err() != nil:
		a.Outcome = notify.OutcomeAborted
	case retry:
		a.Outcome = notify.OutcomeRetry
		// A Retry-After is honoured up to the endsAt allowance: waiting
		// longer would let this Alertmanager resolve firing alerts.
		a.NextAt = start.Add(a.Duration).Add(max(p.backoff(number), min(after, 4*p.delta)))
		t.stats.Failed++
	default:
		a.Outcome = notify.OutcomeFailed
		t.stats.Failed++
		t.stats.Rejected++
	}
	t.mu.Unlock()
	if p.opts.OnAttempt != nil {
		p.opts.OnAttempt(a)
	}
	return version, a
}

// backoff is the jittered wait after the failures-th consecutive failure.
func (p *Pusher) backoff(failures int) time.Duration {
	b := p.opts.InitialBackoff
	for i := 1; i < failures && b < p.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, p.opts.MaxBackoff)
	half := b / 2
	return half + rand.N(b-half+1)
}

// post sends body to t's /api/v2/alerts within the configured timeout.
// Errors are *notify.DeliveryError (see notify.CheckResponse: 400
// permanent; 3xx, 408, 429 and 5xx retryable with Retry-After) and never
// contain credentials or the query.
func (p *Pusher) post(ctx context.Context, t *target, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint, bytes.NewReader(body))
	if err != nil {
		// Check accepted the URL, so this is unexpected; its text would
		// quote the URL.
		return notify.Permanent(fmt.Errorf("build request to %s", t.url))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Burnwatch")
	if t.user != nil {
		pass, _ := t.user.Password()
		req.SetBasicAuth(t.user.Username(), pass)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return notify.Retryable(fmt.Errorf("post to %s: %w", t.url, notify.StripURL(err)), 0)
	}
	defer func() {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	if err := notify.CheckResponse(resp, time.Now()); err != nil {
		return fmt.Errorf("post to %s: %w", t.url, err)
	}
	return nil
}
