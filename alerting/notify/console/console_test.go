package console

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func status(firing bool) slo.Status {
	spec := &slo.Spec{
		Name:        "checkout-latency",
		Description: "Checkout answers fast.",
		Flow:        "checkout",
		Objective:   slo.LatencyThreshold,
		Threshold:   300 * time.Millisecond,
		Target:      0.99,
		Period:      slo.DefaultPeriod,
		Tiers:       slo.DefaultTiers(slo.DefaultPeriod)[:1],
		Runbook:     "https://runbooks.example.com/checkout-latency",
	}
	ts := slo.TierStatus{
		Tier:   spec.Tiers[0],
		Long:   slo.WindowStats{Window: time.Hour, Total: 10_000, Bad: 2_010, Burn: 20.1},
		Short:  slo.WindowStats{Window: 5 * time.Minute, Total: 1_000, Bad: 352, Burn: 35.2},
		Enough: true,
		Firing: firing,
	}
	if !firing {
		ts.Long = slo.WindowStats{Window: time.Hour, Total: 10_000, Bad: 50, Burn: 0.5}
		ts.Short = slo.WindowStats{Window: 5 * time.Minute, Total: 1_000, Bad: 0, Burn: 0}
	}
	ex := []slo.Exemplar{{TraceID: [16]byte{0xab, 0xcd}}, {TraceID: [16]byte{0xef}}}
	ts.Exemplars = ex // both inside the tier's long window
	return slo.Status{
		SLO:        spec,
		Period:     slo.WindowStats{Window: spec.Period, Total: 1_000_000, Bad: 270},
		BudgetLeft: 0.973,
		Tiers:      []slo.TierStatus{ts},
		Exemplars:  ex,
	}
}

// message wraps alerts in a group notification without templates.
func message(alerts ...alerting.Alert) *notify.Message {
	return notify.NewMessage(&alerting.Notification{ID: "n-1", Receiver: "console", GroupKey: `{}:{slo="checkout-latency"}`, Alerts: alerts}, nil)
}

// notifications returns a firing and then a resolved transition.
func notifications(t *testing.T) (firing, resolved alerting.Transition) {
	t.Helper()
	m := alerting.NewManager(alerting.DefaultOptions())
	f := m.Update(t0, []slo.Status{status(true)})
	r := m.Update(t0.Add(90*time.Minute), []slo.Status{status(false)})
	if len(f) != 1 || len(r) != 1 {
		t.Fatalf("got %d firing and %d resolved notifications, want 1 and 1", len(f), len(r))
	}
	return f[0], r[0]
}

func TestFormat(t *testing.T) {
	firing, resolved := notifications(t)
	tests := []struct {
		name string
		n    alerting.Transition
		want string
	}{
		{"firing", firing, `FIRING page checkout-latency / page-fast (fingerprint ` + firing.Alert.Fingerprint + `)
  checkout-latency burns its 30d error budget at 20.1x (1h) and 35.2x (5m), factor 14.4; 97.3% budget left, exhausted in 1d 10h at this rate
  objective:  99% of requests succeed within 300ms over 30d, flow checkout
  burn rate:  20.1x over 1h (2010 bad of 10000), 35.2x over 5m (352 bad of 1000), factor 14.4
  budget:     97.3% left, exhausted in 1d 10h
  events:     999730 good of 1000000 over 30d
  firing:     since 2026-03-01T12:00:00Z, last evaluated 2026-03-01T12:00:00Z
  about:      Checkout answers fast.
  runbook:    https://runbooks.example.com/checkout-latency
  traces:     abcd0000000000000000000000000000, ef000000000000000000000000000000

`},
		{"resolved", resolved, `RESOLVED page checkout-latency / page-fast (fingerprint ` + firing.Alert.Fingerprint + `)
  checkout-latency no longer burns its 30d error budget above factor 14.4: 0.5x (1h) and 0.0x (5m); 97.3% budget left, exhausted in 58d 9h at this rate
  objective:  99% of requests succeed within 300ms over 30d, flow checkout
  burn rate:  0.5x over 1h (50 bad of 10000), 0.0x over 5m (0 bad of 1000), factor 14.4
  budget:     97.3% left, exhausted in 58d 9h
  events:     999730 good of 1000000 over 30d
  firing:     from 2026-03-01T12:00:00Z to 2026-03-01T13:30:00Z (1h 30m), last evaluated 2026-03-01T13:30:00Z
  about:      Checkout answers fast.
  runbook:    https://runbooks.example.com/checkout-latency
  traces:     abcd0000000000000000000000000000, ef000000000000000000000000000000

`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(message(), &tt.n.Alert); got != tt.want {
				t.Errorf("Format =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestFormatConditions renders one notification of each condition kind,
// made by a real Manager from a percentile SLO on a calendar month.
func TestFormatConditions(t *testing.T) {
	st := status(false)
	spec := st.SLO
	spec.Objective, spec.Percentile, spec.Slice = slo.PercentileSlices, 0.99, time.Minute
	spec.Calendar = &slo.Calendar{Unit: slo.Month}
	st.BudgetLeft = 0.477
	st.Conditions = []slo.ConditionStatus{
		{Name: "budget-50", Kind: slo.BudgetConsumed, Severity: slo.Ticket, Firing: true, Value: 0.523, Threshold: 0.5, Exemplars: st.Exemplars},
		{Name: "exhaustion-1d", Kind: slo.Exhaustion, Severity: slo.Page, Firing: true,
			Value: (18*time.Hour + 20*time.Minute).Seconds(), Threshold: 86400, Window: time.Hour, Burn: 3.2, Exemplars: st.Exemplars},
		{Name: "no-data", Kind: slo.NoData, Severity: slo.Ticket, Firing: true, Value: 720, Threshold: 600},
	}
	ns := alerting.NewManager(alerting.DefaultOptions()).Update(t0, []slo.Status{st})
	if len(ns) != 3 {
		t.Fatalf("got %d notifications, want 3", len(ns))
	}
	want := []string{`FIRING ticket checkout-latency / budget-50 (fingerprint ` + alerting.Fingerprint("checkout-latency", "budget-50") + `)
  checkout-latency has spent 52.3% of its month's error budget (threshold 50%)
  objective:  99% of 1m slices have p99 latency within 300ms over the calendar month, flow checkout
  budget:     52.3% spent, alert at 50%; 47.7% left
  events:     999730 good of 1000000 over the calendar month
  firing:     since 2026-03-01T12:00:00Z, last evaluated 2026-03-01T12:00:00Z
  about:      Checkout answers fast.
  runbook:    https://runbooks.example.com/checkout-latency
  traces:     abcd0000000000000000000000000000, ef000000000000000000000000000000

`, `FIRING page checkout-latency / exhaustion-1d (fingerprint ` + alerting.Fingerprint("checkout-latency", "exhaustion-1d") + `)
  checkout-latency will exhaust its error budget in 18h 20m at the 1h burn rate 3.2x (alert within 1d)
  objective:  99% of 1m slices have p99 latency within 300ms over the calendar month, flow checkout
  burn rate:  3.2x over 1h
  budget:     47.7% left, exhausted in 18h 20m, alert within 1d
  events:     999730 good of 1000000 over the calendar month
  firing:     since 2026-03-01T12:00:00Z, last evaluated 2026-03-01T12:00:00Z
  about:      Checkout answers fast.
  runbook:    https://runbooks.example.com/checkout-latency
  traces:     abcd0000000000000000000000000000, ef000000000000000000000000000000

`, `FIRING ticket checkout-latency / no-data (fingerprint ` + alerting.Fingerprint("checkout-latency", "no-data") + `)
  checkout has sent no events for 12m (alert after 10m)
  objective:  99% of 1m slices have p99 latency within 300ms over the calendar month, flow checkout
  silence:    no events for 12m, alert after 10m
  events:     999730 good of 1000000 over the calendar month
  firing:     since 2026-03-01T12:00:00Z, last evaluated 2026-03-01T12:00:00Z
  about:      Checkout answers fast.
  runbook:    https://runbooks.example.com/checkout-latency

`}
	for i, n := range ns {
		if got := Format(message(), &n.Alert); got != want[i] {
			t.Errorf("Format(%s) =\n%s\nwant\n%s", n.Alert.Tier, got, want[i])
		}
	}
}

// writeLog is a writer that is not safe for concurrent use on its own and
// records each Write, to check that blocks are written whole.
type writeLog struct {
	buf    bytes.Buffer
	writes []string
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return w.buf.Write(p)
}

func TestNotifyConcurrent(t *testing.T) {
	firing, resolved := notifications(t)
	w := &writeLog{}
	n := New("", w)
	if n.Name() != DefaultName {
		t.Errorf("Name() = %q, want %q", n.Name(), DefaultName)
	}
	const goroutines = 8
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			if err := n.Notify(context.Background(), message(firing.Alert, resolved.Alert)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	m := message(firing.Alert, resolved.Alert)
	want := "== FIRING {}:{slo=\"checkout-latency\"}: 1 of 2 alerts firing ==\n" + Format(m, &firing.Alert) + Format(m, &resolved.Alert)
	if len(w.writes) != goroutines {
		t.Fatalf("%d writes, want one per Notify (%d)", len(w.writes), goroutines)
	}
	for i, s := range w.writes {
		if s != want {
			t.Errorf("write %d is not the header and the two whole blocks:\n%s", i, s)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestNotifyErrors(t *testing.T) {
	firing, _ := notifications(t)
	err := New("stdout", failingWriter{}).Notify(context.Background(), message(firing.Alert))
	if retryable, _ := notify.IsRetryable(err); err == nil || retryable || !strings.Contains(err.Error(), "write stdout: broken pipe") {
		t.Errorf("Notify on a failing writer = %v, want a permanent write error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var buf bytes.Buffer
	err = New("", &buf).Notify(ctx, message(firing.Alert))
	if retryable, _ := notify.IsRetryable(err); !retryable || buf.Len() != 0 {
		t.Errorf("Notify with a cancelled context = %v and wrote %d bytes, want retryable and nothing", err, buf.Len())
	}
}
