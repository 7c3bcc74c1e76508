package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// Outcome is what became of a delivery attempt.
type Outcome string

const (
	// OutcomeDelivered: the receiver accepted the notification.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeRetry: the attempt failed and another follows at NextAt.
	OutcomeRetry Outcome = "retry"
	// OutcomeFailed: the error was permanent, or MaxAge passed: the
	// notification is dead-lettered.
	OutcomeFailed Outcome = "failed"
	// OutcomeAborted: Close stopped the attempt; the notification stays
	// pending for the next start.
	OutcomeAborted Outcome = "aborted"
)

// Attempt is one call of a Notifier, reported to Options.OnAttempt so the
// host can journal every try.
type Attempt struct {
	Receiver, ID, GroupKey string
	// Fingerprints are those of the notification's alerts.
	Fingerprints []string
	// Number counts attempts at this notification's group since its last
	// delivery, from 1.
	Number   int
	At       time.Time
	Duration time.Duration
	Err      error
	Outcome  Outcome
	// NextAt is when the receiver is tried again, for OutcomeRetry.
	NextAt time.Time
}

// DeadLetter is a notification the outbox gave up on: a permanent error,
// MaxAge passed, or MaxPending exceeded. Nothing leaves the outbox
// undelivered without one.
type DeadLetter struct {
	Notification alerting.Notification
	Reason       string
	Attempts     int
}

// Options configure an Outbox. Zero values mean the defaults.
type Options struct {
	// MaxPending bounds the groups waiting per receiver (default 10,000):
	// past it the oldest is dead-lettered. A group holds one notification
	// at most, its newest, so this bounds groups, not transitions.
	MaxPending int
	// InitialBackoff is the wait after a first failed attempt (default 1s);
	// it doubles per failure up to MaxBackoff (default 1m), drawn from
	// [half, all] of that so receivers that failed together do not retry
	// together. A Retry-After longer than it is honoured.
	InitialBackoff, MaxBackoff time.Duration
	// MaxAge is how long a notification is retried, from its At (across
	// restarts too); then it is dead-lettered (default 24h).
	MaxAge time.Duration
	// Now is the clock notifications' At is read on, for MaxAge; nil for
	// the wall clock. Backoff and rate limits always run on the wall clock.
	Now func() time.Time
	// RateLimit, when positive, bounds a receiver's requests per second,
	// with bursts of RateBurst (default 1).
	RateLimit float64
	RateBurst int
	// Templates are each receiver's text templates, by receiver name.
	Templates map[string]*Templates

	// Hooks for a host that keeps the outbox on disk; each runs under the
	// receiver's lock, so a host sees a notification put before it sees it
	// done. They must return quickly.
	//
	// OnPut gets each notification as the outbox will keep it (merged with
	// the one it supersedes), before any attempt at it.
	OnPut func(alerting.Notification)
	// OnDone gets each notification that left the outbox: delivered,
	// superseded on delivery, or dead-lettered.
	OnDone func(receiver, groupKey, id string)
	// OnAttempt gets every attempt; OnDeadLetter every dead letter (after
	// OnDone).
	OnAttempt    func(Attempt)
	OnDeadLetter func(DeadLetter)
}

// Defaults of Options.
const (
	DefaultMaxPending     = 10_000
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultMaxAge         = 24 * time.Hour
)

func (o Options) withDefaults() (Options, error) {
	if o.MaxPending < 0 || o.InitialBackoff < 0 || o.MaxBackoff < 0 || o.MaxAge < 0 || o.RateLimit < 0 || o.RateBurst < 0 {
		return o, errors.New("outbox options: sizes, durations and rates must not be negative")
	}
	if o.MaxPending == 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.InitialBackoff {
		return o, fmt.Errorf("outbox options: max backoff %v is below initial backoff %v", o.MaxBackoff, o.InitialBackoff)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.RateBurst == 0 {
		o.RateBurst = 1
	}
	return o, nil
}

// ReceiverStats are one receiver's counters, of notifications but
// Attempts.
type ReceiverStats struct {
	Receiver string
	// Pending is what waits now, in flight included.
	Pending    int
	Put        uint64
	Superseded uint64
	Delivered  uint64
	DeadLetter uint64
	Attempts   uint64
}

// Outbox delivers notifications at least once, in order per group: each
// receiver keeps, per group, only the newest notification not yet
// delivered, so a notification that a later one supersedes is never sent
// after it (no firing after its resolution, not even across a restart).
// What the superseded one said that the newer does not (alerts it reported
// resolved) is merged in. One goroutine per receiver sends its groups
// oldest first, retries with backoff on retryable failures and
// dead-letters what it gives up on.
type Outbox struct {
	opts      Options
	receivers []*receiver
	byName    map[string]*receiver

	// ctx is what Notify and backoff waits see; cancelled when Close stops
	// waiting.
	ctx       context.Context
	cancel    context.CancelFunc
	closing   chan struct{}
	startOnce sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
	done      chan struct{}
}

type receiver struct {
	notifier  Notifier
	name      string
	templates *Templates
	wake      chan struct{} // capacity 1: "something changed"

	// mu guards everything below. order holds the group keys of pending
	// in the order they first became pending.
	mu       sync.Mutex
	order    []string
	pending  map[string]*alerting.Notification
	failures int       // consecutive failed attempts of this receiver
	retryAt  time.Time // no attempt before
	attempts map[string]int
	tokens   float64
	refilled time.Time
	stats    ReceiverStats
}

// NewOutbox returns an Outbox for notifiers, whose names must be non-empty
// and unique. It starts nothing: notifications put before Start wait.
func NewOutbox(notifiers []Notifier, opts Options) (*Outbox, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	o := &Outbox{opts: opts, byName: map[string]*receiver{}, closing: make(chan struct{}), done: make(chan struct{})}
	for i, n := range notifiers {
		if n == nil {
			return nil, fmt.Errorf("notifier %d is nil", i)
		}
		name := n.Name()
		if name == "" {
			return nil, fmt.Errorf("notifier %d has an empty name", i)
		}
		if _, dup := o.byName[name]; dup {
			return nil, fmt.Errorf("notifier name %q is used twice", name)
		}
		r := &receiver{notifier: n, name: name, templates: opts.Templates[name], wake: make(chan struct{}, 1),
			pending: map[string]*alerting.Notification{}, attempts: map[string]int{}, tokens: float64(opts.RateBurst)}
		r.stats.Receiver = name
		o.receivers = append(o.receivers, r)
		o.byName[name] = r
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	return o, nil
}

// Start starts one goroutine per receiver. It is safe to call more than
// once, and does nothing after Close.
func (o *Outbox) Start() {
	o.startOnce.Do(func() {
		for _, r := range o.receivers {
			o.wg.Add(1)
			go o.run(r)
		}
		go func() {
			o.wg.Wait()
			close(o.done)
		}()
	})
}

// Put queues notifications. One for a group that already waits replaces
// it, keeping its place and the alerts it reported resolved that the new
// one does not mention. A notification for a receiver the outbox does not
// have is dead-lettered.
func (o *Outbox) Put(ns ...alerting.Notification) {
	o.put(true, ns)
}

// Restore queues notifications that were pending before a restart, as Put
// does but without calling OnPut (they are on disk already).
func (o *Outbox) Restore(ns []alerting.Notification) {
	o.put(false, ns)
}

func (o *Outbox) put(hook bool, ns []alerting.Notification) {
	for i := range ns {
		n := ns[i]
		r, ok := o.byName[n.Receiver]
		if !ok {
			o.deadLetter(nil, DeadLetter{Notification: n, Reason: fmt.Sprintf("receiver %q is not configured", n.Receiver)})
			continue
		}
		r.mu.Lock()
		if old := r.pending[n.GroupKey]; old != nil {
			n = merge(*old, n)
			r.stats.Superseded++
		} else {
			if len(r.order) >= o.opts.MaxPending {
				oldest := r.order[0]
				dl := DeadLetter{Notification: *r.pending[oldest], Reason: fmt.Sprintf("more than %d groups pending", o.opts.MaxPending), Attempts: r.attempts[oldest]}
				r.remove(oldest)
				o.deadLetter(r, dl)
			}
			r.order = append(r.order, n.GroupKey)
		}
		stored := n
		r.pending[n.GroupKey] = &stored
		r.stats.Put++
		if hook && o.opts.OnPut != nil {
			o.opts.OnPut(stored)
		}
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

// merge returns newer with what older reported resolved and newer does
// not mention: a receiver must hear of every resolution it was promised.
func merge(older, newer alerting.Notification) alerting.Notification {
	var add []alerting.Alert
	for _, a := range older.Alerts {
		if a.State != alerting.StateResolved {
			continue
		}
		if !slices.ContainsFunc(newer.Alerts, func(b alerting.Alert) bool { return b.Fingerprint == a.Fingerprint }) {
			add = append(add, a)
		}
	}
	if len(add) > 0 {
		newer.Alerts = append(slices.Clone(newer.Alerts), add...)
		slices.SortFunc(newer.Alerts, func(x, y alerting.Alert) int {
			if x.SLO != y.SLO {
				return cmpString(x.SLO, y.SLO)
			}
			return cmpString(x.Tier, y.Tier)
		})
	}
	if older.At.Before(newer.At) {
		// The give-up deadline counts from the first notification waiting.
		newer.At = older.At
	}
	return newer
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// remove drops group key from r's queue; the caller holds r.mu.
func (r *receiver) remove(key string) {
	delete(r.pending, key)
	delete(r.attempts, key)
	if i := slices.Index(r.order, key); i >= 0 {
		r.order = slices.Delete(r.order, i, i+1)
	}
}

// Pending returns every notification waiting, receiver by receiver in
// queue order, for a checkpoint.
func (o *Outbox) Pending() []alerting.Notification {
	var out []alerting.Notification
	for _, r := range o.receivers {
		r.mu.Lock()
		for _, key := range r.order {
			out = append(out, *r.pending[key])
		}
		r.mu.Unlock()
	}
	return out
}

// Stats returns every receiver's counters, in the order of the notifiers.
func (o *Outbox) Stats() []ReceiverStats {
	out := make([]ReceiverStats, 0, len(o.receivers))
	for _, r := range o.receivers {
		r.mu.Lock()
		s := r.stats
		s.Pending = len(r.order)
		r.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// Close stops delivery: each receiver finishes what it is sending and,
// while its receiver answers, what is due, until ctx is done; a receiver
// that is failing is not waited for. Attempts still in flight when ctx is
// done are cancelled. What was not delivered stays pending. Close is safe
// to call more than once and without Start.
func (o *Outbox) Close(ctx context.Context) error {
	o.closeOnce.Do(func() { close(o.closing) })
	o.startOnce.Do(func() { close(o.done) })
	select {
	case <-o.done:
	case <-ctx.Done():
	}
	o.cancel()
	<-o.done
	if n := len(o.Pending()); n > 0 && ctx.Err() != nil {
		return fmt.Errorf("close outbox: %d notifications left pending: %w", n, ctx.Err())
	}
	return nil
}

// deadLetter reports a notification the outbox gives up on; r (locked by
// the caller) is nil for an unknown receiver.
func (o *Outbox) deadLetter(r *receiver, dl DeadLetter) {
	if r != nil {
		r.stats.DeadLetter++
	}
	if o.opts.OnDone != nil {
		o.opts.OnDone(dl.Notification.Receiver, dl.Notification.GroupKey, dl.Notification.ID)
	}
	if o.opts.OnDeadLetter != nil {
		o.opts.OnDeadLetter(dl)
	}
}

// backoff is the jittered wait after the receiver's failures-th failure.
func (o *Outbox) backoff(failures int) time.Duration {
	b := o.opts.InitialBackoff
	for i := 1; i < failures && b < o.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, o.opts.MaxBackoff)
	half := b / 2
	return half + rand.N(b-half+1)
}
