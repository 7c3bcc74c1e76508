package webhook

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/burnwatch/burnwatch/alerting/notify"
)

// pipeListener is an in-memory network for a synctest bubble: goroutines
// blocked on a loopback socket are not durably blocked, so the bubble's clock
// would never advance; net.Pipe blocks on channels, which are.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "hooks.example.com:80" }

// TestOutboxDeliversThroughRetries: the receiver answers 429 with
// Retry-After, then 500, then 200. The group must arrive once, after the
// Retry-After, with the same delivery id on every attempt and every attempt
// reported.
func TestOutboxDeliversThroughRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{responses: []func(http.ResponseWriter){
			respond(http.StatusTooManyRequests, map[string]string{"Retry-After": "30"}, "slow down"),
			respond(http.StatusInternalServerError, nil, "oops"),
		}}
		l := newPipeListener()
		srv := httptest.NewUnstartedServer(rec)
		srv.Listener.Close() // the real socket it opened; the pipe replaces it
		srv.Listener = l
		srv.Start()
		defer srv.Close()
		tr := &http.Transport{DialContext: l.DialContext}
		defer tr.CloseIdleConnections()

		hook, err := New(testConfig("http://hooks.example.com"), &http.Client{Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var attempts []notify.Attempt
		o, err := notify.NewOutbox([]notify.Notifier{hook}, notify.Options{
			OnAttempt: func(a notify.Attempt) {
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		o.Start()

		n := *batch(t).Notification
		n.At = time.Now()
		o.Put(n)
		time.Sleep(time.Hour)
		if err := o.Close(context.Background()); err != nil {
			t.Fatalf("Close = %v", err)
		}

		reqs := rec.Requests()
		if len(reqs) != 3 {
			t.Fatalf("got %d requests, want 3", len(reqs))
		}
		for i, r := range reqs {
			if id := r.header.Get(HeaderDelivery); id != n.ID {
				t.Errorf("attempt %d carries delivery id %q, want %q on every retry", i+1, id, n.ID)
			}
		}
		if reqs[2].status != http.StatusOK {
			t.Errorf("statuses %d %d %d: want the group delivered last", reqs[0].status, reqs[1].status, reqs[2].status)
		}
		var msg Message
		if err := json.Unmarshal(reqs[2].body, &msg); err != nil {
			t.Fatal(err)
		}
		if msg.GroupKey != n.GroupKey || msg.Status != "firing" {
			t.Errorf("delivered %s %s, want the group firing", msg.GroupKey, msg.Status)
		}
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 30*time.Second {
			t.Errorf("second attempt %v after the 429, want at least its Retry-After of 30s", gap)
		}
		if gap := reqs[2].at.Sub(reqs[1].at); gap < time.Second || gap > 2*time.Second {
			t.Errorf("third attempt %v after the 500, want the third backoff step, 1s to 2s", gap)
		}

		mu.Lock()
		defer mu.Unlock()
		want := []notify.Outcome{notify.OutcomeRetry, notify.OutcomeRetry, notify.OutcomeDelivered}
		if len(attempts) != len(want) {
			t.Fatalf("reported %d attempts, want %d", len(attempts), len(want))
		}
		for i, a := range attempts {
			if a.Outcome != want[i] || a.Number != i+1 || a.Receiver != "team-hook" || a.ID != n.ID {
				t.Errorf("attempt %d = %+v, want %s", i+1, a, want[i])
			}
		}
		if a := attempts[0]; a.Err == nil || !a.NextAt.Equal(a.At.Add(a.Duration).Add(30*time.Second)) {
			t.Errorf("first attempt err %v next %v, want the 429 and a retry 30s later", a.Err, a.NextAt)
		}
		if st := o.Stats()[0]; st.Delivered != 1 || st.Attempts != 3 || st.DeadLetter != 0 {
			t.Errorf("stats %+v", st)
		}
	})
}
