package app

import (
	"bufio"
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// testConfig is a daemon on testdata/specs.yaml whose evaluations the test
// drives by hand (the loop ticks hourly), with no console output.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Files = []string{"testdata/specs.yaml"}
	cfg.EvaluationInterval = time.Hour
	cfg.Alerting.Console = false
	return cfg
}

// startApp builds and starts an App; it is shut down when the test ends
// unless the test did so (Shutdown is idempotent).
func startApp(t testing.TB, cfg Config) *App {
	t.Helper()
	a, err := New(cfg, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitRestored(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	})
	return a
}

// crash stops a as a kill -9 would: no final checkpoint, no delivery. Only
// what a dead process loses anyway (goroutines, file locks) is released.
func crash(a *App) {
	a.stopOnce.Do(func() {
		<-a.hold.restored
		a.stopWatching()
		a.cancel()
		<-a.done
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // abort delivery at once; pending stays pending
		_ = a.alerts.close(ctx)
		if a.persist != nil {
			a.persist.mu.Lock()
			_ = a.persist.closeLocked()
			a.persist.mu.Unlock()
		}
	})
}

// events are n events of flow ending at end: the first errs are errors,
// the next slow take 400 ms (over the 300 ms threshold), the rest 20 ms.
// Trace IDs count from 1.
func events(n int, flow string, end time.Time, errs, slow int) []slo.Event {
	evs := make([]slo.Event, n)
	for i := range evs {
		d := 20 * time.Millisecond
		if i >= errs && i < errs+slow {
			d = 400 * time.Millisecond
		}
		evs[i] = slo.Event{Flow: flow, End: end.UnixNano(), Duration: d, Error: i < errs,
			TraceID: [16]byte{byte(i + 1)}, SpanID: [8]byte{byte(i + 1)}}
	}
	return evs
}

// metric returns the value of the sample named exactly series (name and
// labels as /metrics writes them) and whether it is there.
func metric(a *App, series string) (float64, bool) {
	var buf bytes.Buffer
	a.WriteMetrics(&buf)
	s := bufio.NewScanner(&buf)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), " ")
		if ok && name == series {
			v, err := strconv.ParseFloat(value, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// warm evaluates a a minute before now, so that by now the engine has
// observed longer than the warm-up of every tier of the test specs (2h
// periods: at most 12s).
func warm(a *App, now time.Time) { a.evaluate(now.Add(-time.Minute)) }
