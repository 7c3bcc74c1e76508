package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
)

// fakeNotifier answers calls with results in order, then nil; with block set,
// each call waits until block is closed or ctx is done.
type fakeNotifier struct {
	name  string
	block chan struct{}

	mu      sync.Mutex
	results []error
	calls   []fakeCall
}

type fakeCall struct {
	at  time.Time
	ids []string
}

func (f *fakeNotifier) Name() string { return f.name }

func (f *fakeNotifier) Notify(ctx context.Context, ns []alerting.Notification) error {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
		if n.Receiver != f.name {
			return Permanent(fmt.Errorf("notification %s for receiver %q reached %q", n.ID, n.Receiver, f.name))
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, fakeCall{at: time.Now(), ids: ids})
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

func (f *fakeNotifier) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// journal collects OnAttempt reports.
type journal struct {
	mu       sync.Mutex
	attempts []Attempt
}

func (j *journal) record(a Attempt) {
	j.mu.Lock()
	j.attempts = append(j.attempts, a)
	j.mu.Unlock()
}

func (j *journal) outcomes() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var s []string
	for _, a := range j.attempts {
		s = append(s, fmt.Sprintf("%s#%d:%s", a.Receiver, a.Number, a.Outcome))
	}
	return strings.Join(s, " ")
}

func notif(id, sloName string) alerting.Notification {
	return alerting.Notification{
		ID:          id,
		Alert:       alerting.Alert{Fingerprint: "fp-" + id, SLO: sloName, Tier: "page-fast", State: alerting.StateFiring},
		At:          time.Now(),
		GroupLabels: map[string]string{"slo": sloName},
	}
}

func newTestDispatcher(t *testing.T, opts DispatchOptions, ns ...Notifier) *Dispatcher {
	t.Helper()
	d, err := NewDispatcher(ns, opts)
	if err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = d.Close(ctx)
	})
	return d
}

func TestDispatcherBatchesByGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", block: make(chan struct{})}
		d := newTestDispatcher(t, DispatchOptions{MaxBatch: 2}, f)
		// The first call blocks until the rest is queued, so batching is
		// deterministic.
		d.Enqueue(notif("0", "checkout"))
		synctest.Wait()
		d.Enqueue(notif("1", "checkout"), notif("2", "checkout"), notif("3", "checkout"), notif("4", "login"), notif("5", "checkout"))
		close(f.block)
		synctest.Wait()

		var got []string
		for _, c := range f.Calls() {
			got = append(got, strings.Join(c.ids, ","))
		}
		if want := "0 1,2 3 4 5"; strings.Join(got, " ") != want {
			t.Errorf("batches %q, want %q", got, want)
		}
		st := d.Stats().Receivers[0]
		if st.Delivered != 6 || st.Attempts != 5 || st.Pending != 0 || st.Enqueued != 6 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestDispatcherRetriesWithBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transient := errors.New("connection refused")
		f := &fakeNotifier{name: "hook", results: []error{transient, transient, Retryable(transient, 0), transient}}
		var j journal
		d := newTestDispatcher(t, DispatchOptions{OnAttempt: j.record}, f)
		d.Enqueue(notif("a", "checkout"))
		time.Sleep(time.Hour)

		calls := f.Calls()
		if len(calls) != 5 {
			t.Fatalf("got %d calls, want 5", len(calls))
		}
		// Waits double from 1s, each drawn from [half, all] of it.
		for i, base := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
			gap := calls[i+1].at.Sub(calls[i].at)
			if gap < base/2 || gap > base {
				t.Errorf("wait before attempt %d = %v, want in [%v, %v]", i+2, gap, base/2, base)
			}
		}
		if want := "hook#1:retry hook#2:retry hook#3:retry hook#4:retry hook#5:delivered"; j.outcomes() != want {
			t.Errorf("journal %s, want %s", j.outcomes(), want)
		}
		j.mu.Lock()
		first := j.attempts[0]
		j.mu.Unlock()
		if !errors.Is(first.Err, transient) || first.NextAt.Sub(first.At) < 500*time.Millisecond || first.Fingerprints[0] != "fp-a" || first.IDs[0] != "a" {
			t.Errorf("first attempt %+v", first)
		}
		if st := d.Stats().Receivers[0]; st.Delivered != 1 || st.Failed != 0 || st.Attempts != 5 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestDispatcherHonoursRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", results: []error{Retryable(errors.New("429"), 45*time.Second)}}
		d := newTestDispatcher(t, DispatchOptions{}, f)
		d.Enqueue(notif("a", "checkout"))
		time.Sleep(44 * time.Second)
		if n := len(f.Calls()); n != 1 {
			t.Fatalf("%d calls before Retry-After passed, want 1", n)
		}
		time.Sleep(2 * time.Second)
		calls := f.Calls()
		if len(calls) != 2 || calls[1].at.Sub(calls[0].at) != 45*time.Second {
			t.Errorf("calls %+v, want a second one 45s after the first", calls)
		}
	})
}

func TestDispatcherGivesUp(t *testing.T) {
	forever := make([]error, 1000)
	for i := range forever {
		forever[i] = errors.New("503")
	}
	tests := []struct {
		name    string
		results []error
		// wantCalls bounds the attempts; wantLast bounds when the last one
		// starts, from enqueue.
		minCalls, maxCalls int
		wantLast           time.Duration
	}{
		{name: "permanent", results: []error{Permanent(errors.New("400 bad request"))}, minCalls: 1, maxCalls: 1},
		{name: "retry after beyond max age", results: []error{Retryable(errors.New("429"), 2*time.Hour)}, minCalls: 1, maxCalls: 1},
		// 1+2+...+32s then 1m waits: a last try exactly at MaxAge.
		{name: "max age", results: forever, minCalls: 60, maxCalls: 130, wantLast: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				f := &fakeNotifier{name: "hook", results: tt.results}
				var j journal
				d := newTestDispatcher(t, DispatchOptions{OnAttempt: j.record}, f)
				d.Enqueue(notif("a", "checkout"))
				time.Sleep(3 * time.Hour)

				calls := f.Calls()
				if len(calls) < tt.minCalls || len(calls) > tt.maxCalls {
					t.Fatalf("%d calls, want %d to %d", len(calls), tt.minCalls, tt.maxCalls)
				}
				if last := calls[len(calls)-1].at.Sub(start); last != tt.wantLast {
					t.Errorf("last attempt at +%v, want +%v", last, tt.wantLast)
				}
				if o := j.outcomes(); !strings.HasSuffix(o, fmt.Sprintf("hook#%d:failed", len(calls))) {
					t.Errorf("journal ends %q, want failed", o[max(0, len(o)-40):])
				}
				st := d.Stats().Receivers[0]
				if st.Failed != 1 || st.Delivered != 0 || st.Pending != 0 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

func TestDispatcherRouting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &fakeNotifier{name: "a"}
		b := &fakeNotifier{name: "b"}
		d := newTestDispatcher(t, DispatchOptions{}, a, b)
		all := notif("all", "checkout")
		onlyB := notif("only-b", "checkout")
		onlyB.Receiver = "b"
		nobody := notif("nobody", "checkout")
		nobody.Receiver = "c"
		d.Enqueue(all)
		synctest.Wait()
		d.Enqueue(onlyB, nobody)
		synctest.Wait()

		got := func(f *fakeNotifier) string {
			var ids []string
			for _, c := range f.Calls() {
				ids = append(ids, c.ids...)
			}
			return strings.Join(ids, ",")
		}
		if got(a) != "all" || got(b) != "all,only-b" {
			t.Errorf("a got %q, b got %q", got(a), got(b))
		}
		if s := d.Stats(); s.Unrouted != 1 {
			t.Errorf("unrouted %d, want 1", s.Unrouted)
		}
	})
}

func TestDispatcherQueueBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", block: make(chan struct{})}
		d := newTestDispatcher(t, DispatchOptions{QueueSize: 2}, f)
		d.Enqueue(notif("0", "a"))
		synctest.Wait() // "0" is in flight and still counts
		d.Enqueue(notif("1", "b"), notif("2", "c"), notif("3", "d"))
		st := d.Stats().Receivers[0]
		if st.Dropped != 2 || st.Pending != 2 || st.Enqueued != 2 {
			t.Errorf("stats %+v, want 2 dropped, 2 pending", st)
		}
		close(f.block)
		synctest.Wait()
		if st := d.Stats().Receivers[0]; st.Delivered != 2 || st.Pending != 0 {
			t.Errorf("stats after unblock %+v", st)
		}
	})
}

func TestDispatcherCloseDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeNotifier{name: "hook", results: []error{errors.New("503")}}
		d := newTestDispatcher(t, DispatchOptions{}, f)
		d.Enqueue(notif("a", "checkout"), notif("b", "login"))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Close waits through the retry of "a" and then sends "b".
		if err := d.Close(ctx); err != nil {
			t.Fatalf("Close = %v", err)
		}
		if err := d.Close(ctx); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if st := d.Stats().Receivers[0]; st.Delivered != 2 || st.Pending != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}

func TestDispatcherCloseAbortsAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := &fakeNotifier{name: "pager", results: []error{errors.New("503"), errors.New("503"), errors.New("503")}}
		up := &fakeNotifier{name: "chat"}
		var j journal
		d := newTestDispatcher(t, DispatchOptions{OnAttempt: j.record}, down, up)
		d.Enqueue(notif("a", "checkout"))
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := d.Close(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "1 notifications left pending") {
			t.Fatalf("Close = %v, want deadline exceeded with 1 pending", err)
		}
		pending := d.Pending()
		if len(pending) != 1 || pending[0].ID != "a" || pending[0].Receiver != "pager" {
			t.Fatalf("Pending() = %+v, want a for pager only", pending)
		}
		// Enqueued after Close: kept for the checkpoint, not sent.
		d.Enqueue(notif("late", "checkout"))
		synctest.Wait()
		if n := len(d.Pending()); n != 3 {
			t.Errorf("%d pending after a late Enqueue, want 3", n)
		}

		// After a restart, the pending notification reaches pager only.
		down2 := &fakeNotifier{name: "pager"}
		up2 := &fakeNotifier{name: "chat"}
		d2 := newTestDispatcher(t, DispatchOptions{}, down2, up2)
		// Through JSON, as a checkpoint stores it.
		b, err := json.Marshal(pending)
		if err != nil {
			t.Fatal(err)
		}
		var restored []alerting.Notification
		if err := json.Unmarshal(b, &restored); err != nil {
			t.Fatal(err)
		}
		d2.Enqueue(restored...)
		synctest.Wait()
		if c := down2.Calls(); len(c) != 1 || c[0].ids[0] != "a" {
			t.Errorf("pager after restart got %+v", c)
		}
		if c := up2.Calls(); len(c) != 0 {
			t.Errorf("chat after restart got %+v, want nothing (already delivered)", c)
		}
	})
}

func TestNewDispatcherErrors(t *testing.T) {
	tests := []struct {
		name      string
		notifiers []Notifier
		opts      DispatchOptions
		want      string
	}{
		{"duplicate name", []Notifier{&fakeNotifier{name: "a"}, &fakeNotifier{name: "a"}}, DispatchOptions{}, `notifier name "a" is used twice`},
		{"empty name", []Notifier{&fakeNotifier{}}, DispatchOptions{}, "empty name"},
		{"nil", []Notifier{nil}, DispatchOptions{}, "is nil"},
		{"negative", nil, DispatchOptions{QueueSize: -1}, "must not be negative"},
		{"max below initial", nil, DispatchOptions{InitialBackoff: time.Minute, MaxBackoff: time.Second}, "below initial backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDispatcher(tt.notifiers, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewDispatcher error = %v, want %q", err, tt.want)
			}
			if d != nil {
				t.Errorf("got a dispatcher with an error")
			}
		})
	}
}

func TestBackoffBounds(t *testing.T) {
	opts, err := DispatchOptions{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	d := &Dispatcher{opts: opts}
	for number := 1; number <= 70; number++ {
		base := min(time.Second<<min(number-1, 20), time.Minute)
		for range 50 {
			if b := d.backoff(number); b < base/2 || b > base {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", number, b, base/2, base)
			}
		}
	}
}
