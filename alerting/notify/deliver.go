package notify

import (
	"fmt"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// run delivers r's notifications until Close.
func (o *Outbox) run(r *receiver) {
	defer o.wg.Done()
	for {
		n, number, ok := o.next(r)
		if !ok {
			return
		}
		o.send(r, n, number)
	}
}

// next waits until r has a notification due and returns a copy of it with
// its attempt number, or false when the receiver's goroutine should exit:
// Close cancelled, or Close began and r has nothing it can deliver now.
func (o *Outbox) next(r *receiver) (alerting.Notification, int, bool) {
	for {
		closing := isDone(o.closing)
		if o.ctx.Err() != nil {
			return alerting.Notification{}, 0, false
		}
		r.mu.Lock()
		now := time.Now()
		var wait time.Duration
		switch {
		case len(r.order) == 0:
			if closing {
				r.mu.Unlock()
				return alerting.Notification{}, 0, false
			}
			wait = -1 // until woken
		case closing && r.failures > 0:
			// Shutting down: a failing receiver is not waited for.
			r.mu.Unlock()
			return alerting.Notification{}, 0, false
		case now.Before(r.retryAt):
			wait = r.retryAt.Sub(now)
		default:
			if d := r.take(now, o.opts); d > 0 {
				wait = d
				break
			}
			key := r.order[0]
			n := *r.pending[key]
			if o.opts.Now().Sub(n.At) > o.opts.MaxAge {
				dl := DeadLetter{Notification: n, Reason: fmt.Sprintf("not delivered within %v", o.opts.MaxAge), Attempts: r.attempts[key]}
				r.remove(key)
				o.deadLetter(r, dl)
				r.mu.Unlock()
				continue
			}
			r.attempts[key]++
			number := r.attempts[key]
			r.mu.Unlock()
			return n, number, true
		}
		r.mu.Unlock()
		o.sleep(r, wait, closing)
	}
}

// take spends a rate-limit token at now, or returns how long until one is
// there. The caller holds r.mu.
func (r *receiver) take(now time.Time, opts Options) time.Duration {
	if opts.RateLimit <= 0 {
		return 0
	}
	if !r.refilled.IsZero() {
		r.tokens = min(float64(opts.RateBurst), r.tokens+now.Sub(r.refilled).Seconds()*opts.RateLimit)
	}
	r.refilled = now
	if r.tokens >= 1 {
		r.tokens--
		return 0
	}
	return time.Duration((1 - r.tokens) / opts.RateLimit * float64(time.Second))
}

// sleep waits d (forever when negative) or until r is woken or Close
// begins or stops waiting.
func (o *Outbox) sleep(r *receiver, d time.Duration, closing bool) {
	var timer <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	closeCh := o.closing
	if closing {
		closeCh = nil // already closing: do not spin on it
	}
	select {
	case <-timer:
	case <-r.wake:
	case <-closeCh:
	case <-o.ctx.Done():
	}
}

// send makes one attempt at n, attempt number of its group, and settles it.
func (o *Outbox) send(r *receiver, n alerting.Notification, number int) {
	start := time.Now()
	err := r.notifier.Notify(o.ctx, NewMessage(&n, r.templates))
	end := time.Now()
	a := Attempt{Receiver: r.name, ID: n.ID, GroupKey: n.GroupKey, Number: number, At: start, Duration: end.Sub(start), Err: err}
	for _, al := range n.Alerts {
		a.Fingerprints = append(a.Fingerprints, al.Fingerprint)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Attempts++
	cur := r.pending[n.GroupKey]
	same := cur != nil && cur.ID == n.ID
	retryable, after := IsRetryable(err)
	switch {
	case err == nil:
		a.Outcome = OutcomeDelivered
		r.failures, r.retryAt = 0, time.Time{}
		r.stats.Delivered++
		if same {
			r.remove(n.GroupKey)
			if o.opts.OnDone != nil {
				defer o.opts.OnDone(n.Receiver, n.GroupKey, n.ID)
			}
		} else {
			// Superseded while in flight: the newer one goes next.
			r.attempts[n.GroupKey] = 0
		}
	case o.ctx.Err() != nil:
		a.Outcome = OutcomeAborted
	case retryable:
		r.failures++
		wait := max(o.backoff(r.failures), after)
		a.Outcome, a.NextAt = OutcomeRetry, end.Add(wait)
		r.retryAt = a.NextAt
		if same && a.NextAt.Sub(n.At) > o.opts.MaxAge {
			a.Outcome, a.NextAt = OutcomeFailed, time.Time{}
			r.remove(n.GroupKey)
			defer o.deadLetter(r, DeadLetter{Notification: n, Reason: fmt.Sprintf("not delivered within %v: %v", o.opts.MaxAge, err), Attempts: number})
		}
	default:
		// Permanent: this notification is refused (a bad payload, a
		// revoked key); the receiver is not backed off for it.
		a.Outcome = OutcomeFailed
		if same {
			r.remove(n.GroupKey)
			defer o.deadLetter(r, DeadLetter{Notification: n, Reason: err.Error(), Attempts: number})
		}
	}
	// The attempt is reported before the deferred done and dead letter.
	if o.opts.OnAttempt != nil {
		o.opts.OnAttempt(a)
	}
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
