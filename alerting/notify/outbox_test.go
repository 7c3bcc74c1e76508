package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// fakeNotifier answers calls with results in order, then nil; with block
// set, each call waits until a value arrives on it or ctx is done.
type fakeNotifier struct {
	name  string
	block chan struct{}

	mu      sync.Mutex
	results []error
	calls   []*Message
	times   []time.Time
}

func (f *fakeNotifier) Name() string { return f.name }

func (f *fakeNotifier) Notify(ctx context.Context, m *Message) error {
	if m.Receiver != f.name {
		return Permanent(fmt.Errorf("notification %s for receiver %q reached %q", m.ID, m.Receiver, f.name))
	}
	f.mu.Lock()
	f.calls = append(f.calls, m)
	f.times = append(f.times, time.Now())
	var err error
	if len(f.results) > 0 {
		err, f.results = f.results[0], f.results[1:]
	}
	f.mu.Unlock()
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return Retryable(ctx.Err(), 0)
		}
	}
	return err
}

// seen lists the calls as id[fingerprint:state,...].
func (f *fakeNotifier) seen() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s []string
	for _, m := range f.calls {
		var as []string
		for _, a := range m.Alerts {
			as = append(as, a.Tier+":"+string(a.State))
		}
		s = append(s, m.ID+"["+strings.Join(as, ",")+"]")
	}
	return strings.Join(s, " ")
}

// hooks records what the outbox tells its host, in order.
type hooks struct {
	mu     sync.Mutex
	events []string
	dead   []DeadLetter
}

func (h *hooks) add(s string) { h.mu.Lock(); h.events = append(h.events, s); h.mu.Unlock() }

func (h *hooks) log() string { h.mu.Lock(); defer h.mu.Unlock(); return strings.Join(h.events, " ") }

func (h *hooks) options(o Options) Options {
	o.OnPut = func(n alerting.Notification) { h.add("put:" + n.ID) }
	o.OnDone = func(_, _, id string) { h.add("done:" + id) }
	o.OnAttempt = func(a Attempt) { h.add(fmt.Sprintf("attempt:%s#%d:%s", a.ID, a.Number, a.Outcome)) }
	o.OnDeadLetter = func(d DeadLetter) { h.mu.Lock(); h.dead = append(h.dead, d); h.mu.Unlock() }
	return o
}

// note is a notification of group slo with alerts tier:state.
func note(id, receiver, slo string, alerts ...string) alerting.Notification {
	n := alerting.Notification{ID: id, Receiver: receiver, GroupKey: alerting.GroupKey(map[string]string{"slo": slo}),
		GroupLabels: map[string]string{"slo": slo}, At: time.Now()}
	for _, a := range alerts {
		tier, state, _ := strings.Cut(a, ":")
		n.Alerts = append(n.Alerts, alerting.Alert{SLO: slo, Tier: tier, Fingerprint: alerting.Fingerprint(slo, tier), State: alerting.State(state)})
	}
	return n
}

func newTestOutbox(t *testing.T, opts Options, ns ...Notifier) *Outbox {
	t.Helper()
	o, err := NewOutbox(ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	o.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = o.Close(ctx)
	})
	return o
}

// TestSupersededIsNeverSentAfter: per group, the newest notification
// replaces one still waiting, so a receiver never sees a firing after the
// resolution that followed it; the resolution an older one carried is
// merged into the newer.
func TestSupersededIsNeverSentAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", block: make(chan struct{})}
		o := newTestOutbox(t, Options{}, f)
		o.Put(note("1", "hook", "login", "page-fast:firing"))
		synctest.Wait() // 1 is in flight, blocked
		o.Put(note("2", "hook", "checkout", "page-fast:firing", "page-slow:resolved"))
		o.Put(note("3", "hook", "checkout", "page-fast:resolved"))
		o.Put(note("4", "hook", "checkout", "page-fast:firing"))
		close(f.block)
		synctest.Wait()
		want := "1[page-fast:firing] 4[page-fast:firing,page-slow:resolved]"
		if got := f.seen(); got != want {
			t.Errorf("receiver saw %s, want %s", got, want)
		}
		st := o.Stats()[0]
		if st.Delivered != 2 || st.Superseded != 2 || st.Pending != 0 || st.Put != 4 {
			t.Errorf("stats %+v", st)
		}
	})
}

// TestSupersededInFlight: a notification replaced while it is being sent
// is not retried when that attempt fails; the newer one is sent instead.
func TestSupersededInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", block: make(chan struct{}), results: []error{Retryable(errors.New("503"), 0)}}
		h := &hooks{}
		o := newTestOutbox(t, h.options(Options{}), f)
		o.Put(note("1", "hook", "checkout", "page-fast:firing"))
		synctest.Wait()
		o.Put(note("2", "hook", "checkout", "page-fast:resolved"))
		f.block <- struct{}{} // 1 fails
		synctest.Wait()
		time.Sleep(time.Minute) // past the backoff
		f.block <- struct{}{}   // 2 succeeds
		synctest.Wait()
		if got, want := f.seen(), "1[page-fast:firing] 2[page-fast:resolved]"; got != want {
			t.Errorf("receiver saw %s, want %s", got, want)
		}
		if got, want := h.log(), "put:1 put:2 attempt:1#1:retry attempt:2#2:delivered done:2"; got != want {
			t.Errorf("hooks %s, want %s", got, want)
		}
	})
}

func TestRetriesWithBackoffAndRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", results: []error{
			errors.New("connection refused"), Retryable(errors.New("429"), 30*time.Second), Retryable(errors.New("503"), 0),
		}}
		h := &hooks{}
		start := time.Now()
		o := newTestOutbox(t, h.options(Options{InitialBackoff: time.Second, MaxBackoff: 4 * time.Second}), f)
		o.Put(note("1", "hook", "checkout", "page-fast:firing"))
		synctest.Wait()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if got, want := h.log(), "put:1 attempt:1#1:retry attempt:1#2:retry attempt:1#3:retry attempt:1#4:delivered done:1"; got != want {
			t.Fatalf("hooks %s, want %s", got, want)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		gap := func(i int) time.Duration { return f.times[i].Sub(f.times[i-1]) }
		// 1st wait in [0.5s, 1s]; 2nd honours Retry-After 30s; 3rd in [1s, 4s].
		if f.times[0] != start || gap(1) < 500*time.Millisecond || gap(1) > time.Second ||
			gap(2) != 30*time.Second || gap(3) < time.Second || gap(3) > 4*time.Second {
			t.Errorf("attempt times %v", f.times)
		}
	})
}

// TestReceiverBackoffHoldsEveryGroup: a receiver that fails is backed off
// as a whole; its other groups wait rather than hammer it.
func TestReceiverBackoffHoldsEveryGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("connection refused")
		f := &fakeNotifier{name: "hook", results: []error{down, down, down}}
		o := newTestOutbox(t, Options{InitialBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second}, f)
		for i := range 5 {
			o.Put(note(fmt.Sprint(i), "hook", fmt.Sprint("slo-", i), "page-fast:firing"))
		}
		// The first wait is at least half the 10s backoff.
		time.Sleep(4 * time.Second)
		synctest.Wait()
		f.mu.Lock()
		calls := len(f.calls)
		f.mu.Unlock()
		if calls != 1 {
			t.Errorf("%d attempts in 4s at a down receiver backing off 5-10s, want 1", calls)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := o.Stats()[0]; st.Delivered != 5 || st.Pending != 0 {
			t.Errorf("after recovery: %+v", st)
		}
	})
}

func TestDeadLetters(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		results []error
		puts    int
		wait    time.Duration
		reason  string
		left    int
	}{
		{name: "permanent error", results: []error{Permanent(errors.New("400 invalid event"))}, puts: 1, wait: time.Second, reason: "400 invalid event"},
		{name: "gave up after max age", opts: Options{MaxAge: time.Minute, MaxBackoff: 10 * time.Second},
			results: slices.Repeat([]error{errors.New("down")}, 100),
			puts:    1, wait: 5 * time.Minute, reason: "not delivered within 1m0s"},
		{name: "more groups than max pending", opts: Options{MaxPending: 3, InitialBackoff: time.Hour, MaxBackoff: time.Hour},
			results: []error{errors.New("down")}, puts: 5, wait: time.Second, reason: "more than 3 groups pending", left: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeNotifier{name: "hook", results: tc.results}
				h := &hooks{}
				o := newTestOutbox(t, h.options(tc.opts), f)
				for i := range tc.puts {
					o.Put(note(fmt.Sprint(i), "hook", fmt.Sprint("slo-", i), "page-fast:firing"))
				}
				time.Sleep(tc.wait)
				synctest.Wait()
				h.mu.Lock()
				defer h.mu.Unlock()
				if len(h.dead) == 0 || !strings.Contains(h.dead[0].Reason, tc.reason) {
					t.Fatalf("dead letters %+v, want one for %q", h.dead, tc.reason)
				}
				if st := o.Stats()[0]; st.Pending != tc.left || st.DeadLetter != uint64(len(h.dead)) {
					t.Errorf("stats %+v with %d dead letters, want %d left", st, len(h.dead), tc.left)
				}
				if !strings.Contains(strings.Join(h.events, " "), "done:"+h.dead[0].Notification.ID) {
					t.Errorf("a dead letter was not reported done: %v", h.events)
				}
			})
		})
	}
}

func TestUnknownReceiverIsDeadLettered(t *testing.T) {
	h := &hooks{}
	o, err := NewOutbox([]Notifier{&fakeNotifier{name: "hook"}}, h.options(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	o.Put(note("1", "elsewhere", "checkout", "page-fast:firing"))
	if len(h.dead) != 1 || len(o.Pending()) != 0 {
		t.Errorf("dead letters %+v, pending %v", h.dead, o.Pending())
	}
}

// TestCloseIsBounded: Close drains a receiver that answers, does not wait
// for one that fails, and cancels attempts still in flight when its context
// ends; what is left stays pending.
func TestCloseIsBounded(t *testing.T) {
	t.Run("drains a healthy receiver", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeNotifier{name: "hook"}
			o, _ := NewOutbox([]Notifier{f}, Options{RateLimit: 1})
			o.Put(note("1", "hook", "a", "t:firing"), note("2", "hook", "b", "t:firing"), note("3", "hook", "c", "t:firing"))
			o.Start()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := o.Close(ctx); err != nil || len(o.Pending()) != 0 {
				t.Errorf("Close = %v with %d pending, want all delivered", err, len(o.Pending()))
			}
		})
	})
	t.Run("does not wait for a failing receiver", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeNotifier{name: "hook", results: []error{errors.New("connection refused")}}
			o, _ := NewOutbox([]Notifier{f}, Options{InitialBackoff: time.Minute, MaxBackoff: time.Minute})
			o.Start()
			o.Put(note("1", "hook", "a", "t:firing"))
			synctest.Wait()
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = o.Close(ctx)
			if d := time.Since(start); d != 0 || len(o.Pending()) != 1 {
				t.Errorf("Close took %v with %d pending, want at once with 1", d, len(o.Pending()))
			}
		})
	})
	t.Run("cancels an attempt in flight at its deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeNotifier{name: "hook", block: make(chan struct{})} // accepts and never answers
			h := &hooks{}
			o, _ := NewOutbox([]Notifier{f}, h.options(Options{}))
			o.Start()
			o.Put(note("1", "hook", "a", "t:firing"))
			synctest.Wait()
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := o.Close(ctx); err == nil || time.Since(start) != 10*time.Second {
				t.Errorf("Close = %v after %v, want an error after 10s", err, time.Since(start))
			}
			if len(o.Pending()) != 1 || !strings.Contains(h.log(), "attempt:1#1:aborted") {
				t.Errorf("pending %d, hooks %s", len(o.Pending()), h.log())
			}
		})
	})
	t.Run("without start", func(t *testing.T) {
		o, _ := NewOutbox([]Notifier{&fakeNotifier{name: "hook"}}, Options{})
		o.Put(note("1", "hook", "a", "t:firing"))
		if err := o.Close(context.Background()); err != nil || len(o.Pending()) != 1 {
			t.Errorf("Close = %v, pending %d", err, len(o.Pending()))
		}
	})
}

// TestRestoreResumesWithoutWritingAhead: notifications restored after a
// restart are delivered and reported done, but not written again.
func TestRestoreResumesWithoutWritingAhead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook"}
		h := &hooks{}
		o, _ := NewOutbox([]Notifier{f}, h.options(Options{}))
		o.Restore([]alerting.Notification{note("1", "hook", "a", "t:firing")})
		o.Start()
		synctest.Wait()
		if got, want := h.log(), "attempt:1#1:delivered done:1"; got != want {
			t.Errorf("hooks %s, want %s", got, want)
		}
		_ = o.Close(context.Background())
	})
}

func TestRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook"}
		o := newTestOutbox(t, Options{RateLimit: 2, RateBurst: 2}, f)
		for i := range 10 {
			o.Put(note(fmt.Sprint(i), "hook", fmt.Sprint("slo-", i), "t:firing"))
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		f.mu.Lock()
		n := len(f.calls)
		f.mu.Unlock()
		// A burst of 2, then 2 a second: 6 by 2s.
		if n != 6 {
			t.Errorf("%d deliveries in 2s at 2/s with a burst of 2, want 6", n)
		}
	})
}

func TestNewOutboxErrors(t *testing.T) {
	for _, tc := range []struct {
		ns   []Notifier
		opts Options
		want string
	}{
		{[]Notifier{nil}, Options{}, "notifier 0 is nil"},
		{[]Notifier{&fakeNotifier{}}, Options{}, "empty name"},
		{[]Notifier{&fakeNotifier{name: "a"}, &fakeNotifier{name: "a"}}, Options{}, `"a" is used twice`},
		{nil, Options{MaxAge: -1}, "must not be negative"},
		{nil, Options{InitialBackoff: time.Minute, MaxBackoff: time.Second}, "below initial backoff"},
	} {
		if _, err := NewOutbox(tc.ns, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewOutbox = %v, want %q", err, tc.want)
		}
	}
}
