package app

import (
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/promrules"
)

// TestSLOEventCounters checks burnwatch_slo_events_total, under the name
// and labels the rules of `burnwatch rules` read: each SLO's events by
// outcome as its objective judges them, unchanged by a crash and a restart
// (the WAL brings them back), growing after.
func TestSLOEventCounters(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	a1 := startApp(t, storedConfig(dir))
	// 10 checkouts: 3 errors, 2 slow (over checkout-latency's 300ms).
	if err := a1.observe(now, events(10, "checkout", now, 3, 2)); err != nil {
		t.Fatal(err)
	}
	if err := a1.persist.checkpoint(a1.Engine(), a1.alerts.state(true), now); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	if err := a1.observe(now, events(6, "checkout", now, 1, 1)); err != nil {
		t.Fatal(err)
	}
	a1.evaluate(now)
	want := map[string]float64{
		promrules.EventsMetric + `{slo="checkout-availability",outcome="good"}`: 12,
		promrules.EventsMetric + `{slo="checkout-availability",outcome="bad"}`:  4,
		promrules.EventsMetric + `{slo="checkout-latency",outcome="good"}`:      9,
		promrules.EventsMetric + `{slo="checkout-latency",outcome="bad"}`:       7,
	}
	check := func(a *App, when string) {
		t.Helper()
		for series, w := range want {
			if v, ok := metric(a, series); !ok || v != w {
				t.Errorf("%s: %s = %v (present %v), want %v", when, series, v, ok, w)
			}
		}
	}
	check(a1, "before the crash")
	crash(a1)

	a2 := startApp(t, storedConfig(dir))
	a2.evaluate(now)
	check(a2, "after the restart")
	if err := a2.observe(now, events(5, "checkout", now, 5, 0)); err != nil {
		t.Fatal(err)
	}
	a2.evaluate(now)
	want[promrules.EventsMetric+`{slo="checkout-availability",outcome="bad"}`] = 9
	want[promrules.EventsMetric+`{slo="checkout-latency",outcome="bad"}`] = 12
	check(a2, "after more events")
}
