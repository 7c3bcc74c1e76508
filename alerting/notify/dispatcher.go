package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// Notifier delivers notifications to one receiver (a webhook, PagerDuty, a
// console). The Dispatcher calls Notify from one goroutine per Notifier, with
// a batch of notifications of one group (same GroupKey), oldest first.
//
// Notify must return when ctx is done, must not modify or keep ns, and
// should return a *DeliveryError (see Permanent, Retryable) so the Dispatcher
// knows whether to try again; other errors are retried.
type Notifier interface {
	// Name is the receiver's name, unique within a Dispatcher; it is what
	// alerting.Notification.Receiver refers to.
	Name() string
	Notify(ctx context.Context, ns []alerting.Notification) error
}

// Outcome is what became of a delivery attempt.
type Outcome string

const (
	// OutcomeDelivered: the receiver accepted the batch.
	OutcomeDelivered Outcome = "delivered"
	// OutcomeRetry: the attempt failed and another follows at NextAt.
	OutcomeRetry Outcome = "retry"
	// OutcomeFailed: the error was permanent, or MaxAge passed; the batch
	// is dropped and counted as failed.
	OutcomeFailed Outcome = "failed"
	// OutcomeAborted: Close stopped waiting; the batch stays pending.
	OutcomeAborted Outcome = "aborted"
)

// Attempt is one call of a Notifier, reported to DispatchOptions.OnAttempt so
// the host can journal every try.
type Attempt struct {
	Receiver string
	// IDs and Fingerprints are those of the batch's notifications, in
	// order.
	IDs          []string
	Fingerprints []string
	// Number counts attempts of this batch from 1.
	Number   int
	At       time.Time
	Duration time.Duration
	Err      error
	Outcome  Outcome
	// NextAt is when the next attempt starts, when Outcome is OutcomeRetry.
	NextAt time.Time
}

// DispatchOptions configure a Dispatcher. Zero values mean the defaults.
type DispatchOptions struct {
	// QueueSize bounds each receiver's queue, including the batch in flight
	// (default 1024). When full, new notifications are dropped and counted.
	QueueSize int
	// MaxBatch bounds the notifications per Notify call (default 64).
	MaxBatch int
	// InitialBackoff is the wait after a first failed attempt (default 1s);
	// it doubles per attempt up to MaxBackoff (default 1m). Each wait is
	// drawn from [half, all] of that so receivers that failed together do
	// not retry together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxAge is how long a notification is retried, counted from
	// alerting.Notification.At (or from Enqueue when At is zero); then it is counted
	// as failed (default 1h).
	MaxAge time.Duration
	// OnAttempt, when set, is called after every attempt from the
	// receiver's goroutine (concurrently for different receivers). It should
	// return quickly: the receiver's queue waits for it.
	OnAttempt func(Attempt)
}

// Defaults of DispatchOptions.
const (
	DefaultQueueSize      = 1024
	DefaultMaxBatch       = 64
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultMaxAge         = time.Hour
)

func (o DispatchOptions) withDefaults() (DispatchOptions, error) {
	if o.QueueSize < 0 || o.MaxBatch < 0 || o.InitialBackoff < 0 || o.MaxBackoff < 0 || o.MaxAge < 0 {
		return o, errors.New("dispatch options: sizes and durations must not be negative")
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.InitialBackoff == 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff == 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.InitialBackoff {
		return o, fmt.Errorf("dispatch options: max backoff %v is below initial backoff %v", o.MaxBackoff, o.InitialBackoff)
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	return o, nil
}

// ReceiverStats are one receiver's counters. Counts are of notifications,
// except Attempts, which counts Notify calls.
type ReceiverStats struct {
	Receiver string
	// Pending is queued plus in flight now.
	Pending   int
	Enqueued  uint64
	Delivered uint64
	Failed    uint64
	// Dropped counts notifications refused because the queue was full.
	Dropped  uint64
	Attempts uint64
}

// DispatchStats are a Dispatcher's counters.
type DispatchStats struct {
	Receivers []ReceiverStats
	// Unrouted counts notifications for a Receiver the Dispatcher does not
	// have.
	Unrouted uint64
}

// Dispatcher delivers notifications at least once: each receiver has a
// bounded queue and a goroutine that sends batches and retries retryable
// failures with backoff until MaxAge.
type Dispatcher struct {
	opts      DispatchOptions
	receivers []*receiver
	byName    map[string]*receiver
	unrouted  atomic.Uint64

	// ctx is what Notify and backoff waits see; it is cancelled when Close
	// stops waiting.
	ctx       context.Context
	cancel    context.CancelFunc
	closing   chan struct{} // closed by Close: drain the queues, then exit
	startOnce sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup
	done      chan struct{} // closed when every receiver goroutine exited
}

type queued struct {
	n        alerting.Notification
	groupKey string
	deadline time.Time
}

type receiver struct {
	notifier Notifier
	name     string
	wake     chan struct{} // capacity 1: "the queue may have grown"

	// mu guards queue and stats. The batch being sent is the head of queue;
	// it leaves the queue only once delivered or failed, so Pending always
	// lists it.
	mu    sync.Mutex
	queue []queued
	stats ReceiverStats
}

// NewDispatcher returns a Dispatcher for notifiers, whose names must be
// non-empty and unique. It starts nothing: notifications enqueued before
// Start wait in their queues.
func NewDispatcher(notifiers []Notifier, opts DispatchOptions) (*Dispatcher, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Dispatcher{
		opts:    opts,
		byName:  make(map[string]*receiver, len(notifiers)),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	for i, n := range notifiers {
		if n == nil {
			return nil, fmt.Errorf("notifier %d is nil", i)
		}
		name := n.Name()
		if name == "" {
			return nil, fmt.Errorf("notifier %d has an empty name", i)
		}
		if _, dup := d.byName[name]; dup {
			return nil, fmt.Errorf("notifier name %q is used twice", name)
		}
		r := &receiver{notifier: n, name: name, wake: make(chan struct{}, 1)}
		r.stats.Receiver = name
		d.receivers = append(d.receivers, r)
		d.byName[name] = r
	}
	// The dispatcher owns its background context: callers' contexts only
	// bound Close.
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d, nil
}

// Start starts one goroutine per notifier; Close stops them. It is safe to
// call more than once, and does nothing after Close.
func (d *Dispatcher) Start() {
	d.startOnce.Do(func() {
		for _, r := range d.receivers {
			d.wg.Add(1)
			go d.run(r)
		}
		go func() {
			d.wg.Wait()
			close(d.done)
		}()
	})
}

// Enqueue queues notifications for delivery and returns at once. A
// notification with an empty Receiver goes to every receiver; one with a
// Receiver goes to that receiver only, or is counted as unrouted. A full
// queue drops the notification and counts it.
//
// After Close, notifications are still queued (not sent) so that Pending can
// hand them to a checkpoint.
func (d *Dispatcher) Enqueue(ns ...alerting.Notification) {
	now := time.Now()
	for _, n := range ns {
		base := n.At
		if base.IsZero() {
			base = now
		}
		q := queued{n: n, groupKey: n.GroupKey(), deadline: base.Add(d.opts.MaxAge)}
		if n.Receiver != "" {
			r, ok := d.byName[n.Receiver]
			if !ok {
				d.unrouted.Add(1)
				continue
			}
			r.push(q, d.opts.QueueSize)
			continue
		}
		for _, r := range d.receivers {
			q.n.Receiver = r.name
			r.push(q, d.opts.QueueSize)
		}
	}
}

func (r *receiver) push(q queued, limit int) {
	r.mu.Lock()
	if len(r.queue) >= limit {
		r.stats.Dropped++
		r.mu.Unlock()
		return
	}
	r.queue = append(r.queue, q)
	r.stats.Enqueued++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Pending returns the notifications not yet delivered nor failed, in flight
// included, each with its Receiver set, receiver by receiver in queue order.
// Re-enqueued after a restart, each reaches only the receiver that had not
// acknowledged it.
func (d *Dispatcher) Pending() []alerting.Notification {
	var out []alerting.Notification
	for _, r := range d.receivers {
		r.mu.Lock()
		for _, q := range r.queue {
			out = append(out, q.n)
		}
		r.mu.Unlock()
	}
	return out
}

// Stats returns the counters of every receiver, in the order of the
// notifiers given to NewDispatcher.
func (d *Dispatcher) Stats() DispatchStats {
	s := DispatchStats{Unrouted: d.unrouted.Load()}
	for _, r := range d.receivers {
		r.mu.Lock()
		rs := r.stats
		rs.Pending = len(r.queue)
		r.mu.Unlock()
		s.Receivers = append(s.Receivers, rs)
	}
	return s
}

// Close shuts the dispatcher down gracefully, like http.Server.Shutdown: it
// keeps delivering (and retrying) what is queued until the queues are empty
// or ctx is done, then cancels attempts in flight and waits for every
// goroutine to exit. What was not delivered stays in Pending for a
// checkpoint. It returns nil when the queues drained, or ctx's error with the
// number left pending. Close is safe to call more than once.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.closeOnce.Do(func() { close(d.closing) })
	// Never started: no goroutine to wait for, and none may start now.
	d.startOnce.Do(func() { close(d.done) })
	select {
	case <-d.done:
		d.cancel()
		return nil
	case <-ctx.Done():
	}
	d.cancel()
	<-d.done
	if n := len(d.Pending()); n > 0 {
		return fmt.Errorf("close dispatcher: %d notifications left pending: %w", n, ctx.Err())
	}
	return nil
}

func (d *Dispatcher) run(r *receiver) {
	defer d.wg.Done()
	for {
		batch := d.next(r)
		if batch == nil {
			return
		}
		d.deliver(r, batch)
	}
}

// next waits for work and returns the head batch: consecutive
// notifications of one group, at most MaxBatch. It returns nil when the
// receiver should exit.
func (d *Dispatcher) next(r *receiver) []queued {
	for {
		if d.ctx.Err() != nil {
			return nil
		}
		r.mu.Lock()
		if len(r.queue) > 0 {
			key := r.queue[0].groupKey
			n := 1
			for n < len(r.queue) && n < d.opts.MaxBatch && r.queue[n].groupKey == key {
				n++
			}
			batch := append([]queued(nil), r.queue[:n]...)
			r.mu.Unlock()
			return batch
		}
		r.mu.Unlock()
		select {
		case <-d.closing:
			// Drained: the queue was empty after closing began.
			return nil
		default:
		}
		select {
		case <-r.wake:
		case <-d.closing:
		case <-d.ctx.Done():
		}
	}
}

// deliver sends one batch until it is delivered, fails, or Close aborts.
func (d *Dispatcher) deliver(r *receiver, batch []queued) {
	ns := make([]alerting.Notification, len(batch))
	ids := make([]string, len(batch))
	fps := make([]string, len(batch))
	deadline := batch[0].deadline
	for i, q := range batch {
		ns[i] = q.n
		ids[i] = q.n.ID
		fps[i] = q.n.Alert.Fingerprint
		if q.deadline.Before(deadline) {
			deadline = q.deadline
		}
	}
	for number := 1; ; number++ {
		start := time.Now()
		err := r.notifier.Notify(d.ctx, ns)
		end := time.Now()
		a := Attempt{
			Receiver: r.name, IDs: ids, Fingerprints: fps, Number: number,
			At: start, Duration: end.Sub(start), Err: err,
		}
		switch retryable, after := IsRetryable(err); {
		case err == nil:
			a.Outcome = OutcomeDelivered
		case d.ctx.Err() != nil:
			a.Outcome = OutcomeAborted
		case !retryable:
			a.Outcome = OutcomeFailed
		default:
			if next, ok := d.nextAttempt(number, end, after, deadline); ok {
				a.Outcome = OutcomeRetry
				a.NextAt = next
			} else {
				a.Outcome = OutcomeFailed
			}
		}
		r.settle(a.Outcome, len(batch))
		d.report(a)
		if a.Outcome != OutcomeRetry {
			return
		}

		t := time.NewTimer(a.NextAt.Sub(end))
		select {
		case <-t.C:
		case <-d.ctx.Done():
			// The batch stays queued, so Pending lists it.
			t.Stop()
			return
		}
	}
}

// nextAttempt is when to try again after attempt number failed at now, or
// false when that would be past the deadline. A Retry-After beyond the
// deadline gives up, since honouring it means no attempt in time; a backoff
// beyond it is cut short for one last try at the deadline.
func (d *Dispatcher) nextAttempt(number int, now time.Time, retryAfter time.Duration, deadline time.Time) (time.Time, bool) {
	wait := d.backoff(number)
	honour := retryAfter > wait
	if honour {
		wait = retryAfter
	}
	next := now.Add(wait)
	switch {
	case !next.After(deadline):
		return next, true
	case honour || !deadline.After(now):
		return time.Time{}, false
	}
	return deadline, true
}

func (d *Dispatcher) report(a Attempt) {
	if d.opts.OnAttempt != nil {
		d.opts.OnAttempt(a)
	}
}

// settle records an attempt at the in-flight batch of n notifications. A
// delivered or failed batch leaves the head of the queue (pushes only append
// and nothing else removes entries, so it is still there); an aborted or
// retried one stays.
func (r *receiver) settle(o Outcome, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Attempts++
	switch o {
	case OutcomeDelivered:
		r.stats.Delivered += uint64(n)
	case OutcomeFailed:
		r.stats.Failed += uint64(n)
	case OutcomeAborted, OutcomeRetry:
		return
	}
	r.queue = slices.Delete(r.queue, 0, n)
}

// backoff is the jittered wait after attempt number failed: InitialBackoff
// doubled per attempt, capped at MaxBackoff, drawn from [half, all] of it.
func (d *Dispatcher) backoff(number int) time.Duration {
	b := d.opts.InitialBackoff
	for i := 1; i < number && b < d.opts.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.opts.MaxBackoff)
	half := b / 2
	return half + rand.N(b-half+1)
}
