package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMWithUnreachableReceiver stops the daemon while its only
// receiver is unreachable, either accepting and never answering (with an
// http timeout of a minute, so only the shutdown bound can end the attempt)
// or refusing connections. It exits within delivery.shutdown_timeout (2 s)
// and a little for the collector, where waiting on the receiver would take
// a minute; after the next start, with the receiver back, the notification
// left pending is delivered under the same delivery id.
func TestSIGTERMWithUnreachableReceiver(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refuses bool
		bound   time.Duration
	}{
		// An attempt in flight is waited for up to shutdown_timeout.
		{name: "hangs", bound: 2*time.Second + 1500*time.Millisecond},
		// A receiver that is failing is not waited for at all.
		{name: "refuses", refuses: true, bound: 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSinkDown(t)
			if !tc.refuses {
				s.set(hang)
				s.up()
			}
			data := t.TempDir()
			cfg := &daemonConfig{specs: steadySpecs(1), dataDir: data, alerting: fmt.Sprintf(`      receivers:
        - {name: hook, http: {timeout: 1m}, webhook: {url: %q}}
      delivery: {initial_backoff: 200ms, max_backoff: 1s, shutdown_timeout: 2s}
`, s.url("/alerts"))}
			d := startDaemonWith(t, cfg)
			newExporter(t, d.grpc).send(t, batch(rand.New(rand.NewPCG(1, 9)), 30, true))

			// Stop once an attempt is in flight (hangs) or has failed (refuses).
			attempted := func() bool {
				if tc.refuses {
					return metricValue(t, d.metrics, `burnwatch_notification_attempts_total{receiver="hook",outcome="retry"}`) >= 1
				}
				return len(s.requests()) >= 1
			}
			if !waitUntil(time.Now().Add(5*time.Second), attempted) {
				t.Fatal("no delivery attempt within 5 s of the outage")
			}
			if n := metricValue(t, d.metrics, `burnwatch_outbox_pending{receiver="hook"}`); n != 1 {
				t.Fatalf("outbox pending = %v before the stop, want 1", n)
			}
			began := time.Now()
			if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-d.exited:
			case <-time.After(30 * time.Second):
				t.Fatalf("no exit within 30 s of SIGTERM:\n%s", d.stderr)
			}
			took := time.Since(began)
			t.Logf("SIGTERM to exit: %v (bound %v), exit code %d", took.Round(time.Millisecond), tc.bound, d.cmd.ProcessState.ExitCode())
			if took > tc.bound {
				t.Errorf("SIGTERM to exit took %v, want at most %v", took.Round(time.Millisecond), tc.bound)
			}
			if strings.Contains(d.stderr.String(), "panic") {
				t.Errorf("the stop panicked:\n%s", d.stderr)
			}

			// The history names the notification that was being sent.
			var pending string
			for _, r := range historyRecords(t, filepath.Join(data, "history")) {
				if r["event"] == "attempt" && r["receiver"] == "hook" {
					pending, _ = r["notification"].(string)
				}
			}
			if tc.refuses && pending == "" {
				t.Fatal("no attempt in the history before the stop")
			}
			if !tc.refuses {
				pending = s.requests()[0].header.Get("X-Burnwatch-Delivery")
			}

			s.set(accept)
			s.up()
			restarted := time.Now()
			d = startDaemonWith(t, cfg)
			if !waitUntil(restarted.Add(5*time.Second), func() bool { return len(s.payloads()) > 0 }) {
				t.Fatalf("the pending notification was not delivered within 5 s of the restart; requests: %d", len(s.requests()))
			}
			p := s.payloads()[0]
			if p.id != pending {
				t.Errorf("delivered id %q after the restart, want the pending notification's %q", p.id, pending)
			}
			if p.payload.Status != "firing" || len(p.payload.Alerts) != 1 || p.payload.Alerts[0].Labels["slo"] != "slo-000" {
				t.Errorf("delivered after the restart: %+v, want slo-000 firing", p.payload)
			}
		})
	}
}

// TestSIGHUPKeepsOTLPAccepting sends spans every 20 ms through the OTel
// SDK exporter, without retries, while the daemon gets four SIGHUPs and
// its receivers are unreachable (one hangs, one refuses connections, both
// with notifications pending): no export fails, and the daemon counted
// exactly what was sent.
func TestSIGHUPKeepsOTLPAccepting(t *testing.T) {
	hangs := newSink(t)
	hangs.set(hang)
	refuses := newSinkDown(t)
	cfg := &daemonConfig{specs: steadySpecs(1), dataDir: t.TempDir(), alerting: fmt.Sprintf(`      receivers:
        - {name: hangs, http: {timeout: 1m}, webhook: {url: %q}}
        - {name: refuses, webhook: {url: %q}}
`, hangs.url("/alerts"), refuses.url("/alerts")) + quickDelivery}
	d := startDaemonWith(t, cfg)
	exp := newExporter(t, d.grpc)
	rng := rand.New(rand.NewPCG(2, 8))
	exp.send(t, batch(rng, 30, true)) // 20 checkout errors, 10 search
	checkout, search := 20, 10
	if !waitUntil(time.Now().Add(5*time.Second), func() bool {
		return len(hangs.requests()) > 0 && metricValue(t, d.metrics, `burnwatch_outbox_pending{receiver="refuses"}`) == 1
	}) {
		t.Fatal("no notification pending at the unreachable receivers")
	}

	var mu sync.Mutex
	var failures []error
	exports := 0
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond) // a steady client, as the SDK's batcher would send
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			spans := batch(rng, 6, false) // 4 checkout, 2 search
			err := exp.exp.ExportSpans(context.Background(), spans)
			mu.Lock()
			exports++
			if err != nil {
				failures = append(failures, err)
			} else {
				checkout, search = checkout+4, search+2
			}
			mu.Unlock()
		}
	}()
	for i := 0; i < 4; i++ {
		time.Sleep(400 * time.Millisecond) // spans flow between the signals
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(400 * time.Millisecond) // and after the last
	close(stop)
	<-done

	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d exports, %d failed, across 4 SIGHUPs", exports, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d of %d exports failed across the SIGHUPs; first: %v", len(failures), exports, failures[0])
	}
	if exports < 60 {
		t.Errorf("only %d exports in 2 s: the sender was held up", exports)
	}
	select {
	case <-d.exited:
		t.Fatalf("the daemon exited on SIGHUP:\n%s", d.stderr)
	default:
	}
	// Every signal reached the daemon: each reopened the history.
	if n := strings.Count(d.stderr.String(), "alert history reopened"); n != 4 {
		t.Errorf("the history was reopened %d times, want once per SIGHUP (4)", n)
	}
	// Wait until the counts hold the last batch, then compare.
	flowEvents := func(flow string) float64 {
		return metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_flow_events_total{flow=%q}`, flow))
	}
	waitUntil(time.Now().Add(5*time.Second), func() bool {
		return flowEvents("checkout") >= float64(checkout) && flowEvents("search") >= float64(search)
	})
	for flow, sent := range map[string]int{"checkout": checkout, "search": search} {
		if got := flowEvents(flow); got != float64(sent) {
			t.Errorf("burnwatch_flow_events_total{flow=%q} = %v, %d spans were sent", flow, got, sent)
		}
	}
	if got := metricValue(t, d.metrics, "burnwatch_spans_received_total"); got != float64(checkout+search) {
		t.Errorf("burnwatch_spans_received_total = %v, %d spans were sent", got, checkout+search)
	}
	// The receivers' notifications are still pending: a reload dropped
	// nothing.
	for _, r := range []string{"hangs", "refuses"} {
		if n := metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_outbox_pending{receiver=%q}`, r)); n != 1 {
			t.Errorf("outbox pending at %s = %v after the SIGHUPs, want 1", r, n)
		}
	}
}
