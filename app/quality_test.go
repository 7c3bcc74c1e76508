package app

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

// Alert quality as on-call people meet it, on the injected clock: the App
// is driven second by second with events and evaluated every 10 s, and
// what counts is the alert transitions it makes (each one a notification).

// qualitySpecs is a checkout availability SLO of target% over 30 days with
// tiers (YAML, empty for the defaults).
func qualitySpecs(target, tiers string) string {
	s := fmt.Sprintf(`
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  flow: checkout
  target: %s
  period: 30d
`, target)
	if tiers != "" {
		s += "  alerting:\n    tiers:\n" + tiers
	}
	return s
}

// drive feeds rps events a second from t0 for d, each an error with
// probability p, evaluating every 10 s, and returns the times of the
// evaluations that made transitions, with how many each made.
func drive(t *testing.T, a *App, rng *rand.Rand, t0 time.Time, d time.Duration, rps int, p float64) (at []time.Time, n []int) {
	t.Helper()
	evs := make([]slo.Event, rps)
	before, _ := metric(a, "burnwatch_alert_transitions_total")
	for s := time.Duration(0); s < d; s += time.Second {
		now := t0.Add(s + time.Second)
		for i := range evs {
			evs[i] = slo.Event{Flow: "checkout", End: now.UnixNano(), Duration: 20 * time.Millisecond, Error: rng.Float64() < p}
		}
		if err := a.observe(now, evs); err != nil {
			t.Fatal(err)
		}
		if (s+time.Second)%(10*time.Second) == 0 {
			a.evaluate(now)
			if after, _ := metric(a, "burnwatch_alert_transitions_total"); after != before {
				at, n = append(at, now), append(n, int(after-before))
				before = after
			}
		}
	}
	return at, n
}

// A cold start followed by ten minutes of 10 requests a second whose
// errors are drawn at random at half the budget sends nothing, although
// without the warm-up the same traffic fires: an early error is a large
// share of windows that hold a few seconds.
func TestColdStartAtHalfTheBudgetSendsNothing(t *testing.T) {
	const p = 0.5 * 0.001 // half the budget of 99.9%
	// A seed whose first error comes in the first 20 seconds, so that the
	// contrast below has something to fire on.
	seed := uint64(1)
	for ; ; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		early := false
		for i := 0; i < 200 && !early; i++ {
			early = rng.Float64() < p
		}
		if early {
			break
		}
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

	a := startApp(t, statusConfig(t, qualitySpecs("99.9", "")))
	a.evaluate(t0)
	if at, _ := drive(t, a, rand.New(rand.NewPCG(seed, 0)), t0, 10*time.Minute, 10, p); len(at) > 0 {
		t.Errorf("transitions at %v on traffic burning at 0.5x after a cold start, want none", at)
	}
	if n, _ := metric(a, "burnwatch_notifications_total"); n != 0 {
		t.Errorf("%v notifications, want none", n)
	}
	// Ten minutes in, the page tiers (warm-up 1m and 6m) are warm and the
	// ticket tiers (24m and 72m) are not, and /metrics says so.
	for tier, want := range map[string]float64{"page-fast": 0, "page-slow": 0, "ticket-fast": 1, "ticket-slow": 1} {
		series := `burnwatch_slo_tier_warming_up{slo="checkout-availability",tier="` + tier + `"}`
		if got, ok := metric(a, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}

	// The same traffic and the default tiers, each with a warm-up of a
	// second: the early error fires a ticket at once.
	var tiers string
	for _, tr := range slo.DefaultTiers(30 * 24 * time.Hour) {
		tiers += fmt.Sprintf("      - {name: %s, severity: %s, long: %s, short: %s, factor: %g, warm_up: 1s}\n",
			tr.Name, tr.Severity, slo.FormatDuration(tr.Long), slo.FormatDuration(tr.Short), tr.Factor)
	}
	cold := startApp(t, statusConfig(t, qualitySpecs("99.9", tiers)))
	cold.evaluate(t0)
	if at, _ := drive(t, cold, rand.New(rand.NewPCG(seed, 0)), t0, 10*time.Minute, 10, p); len(at) == 0 {
		t.Error("without a warm-up the same traffic made no transition: the test shows nothing")
	}
}

// Traffic burning right at a tier's factor, so that its windows hover
// between about 0.9x and 1.1x of it, gives at most one episode per hold:
// no episode begins within the hold time of the previous one's start. The
// same traffic with a hold of 10 s gives episodes closer together.
func TestHoveringAtTheFactorGivesOneEpisodePerHold(t *testing.T) {
	const hold = 5 * time.Minute
	tier := func(extra string) string {
		return "      - {name: page-fast, severity: page, long: 1h, short: 5m, factor: 14.4" + extra + "}\n"
	}
	episodes := func(tiers string) []time.Time {
		a := startApp(t, statusConfig(t, qualitySpecs("99.9", tiers)))
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		a.evaluate(t0)
		rng := rand.New(rand.NewPCG(3, 5))
		// 100 requests a second with errors at 14.4 times the budget: the
		// 5 m window's burn wanders about ±5% around the factor, the 1 h
		// window's about ±1.5%.
		at, n := drive(t, a, rng, t0, 3*time.Hour, 100, 14.4*0.001)
		var starts []time.Time
		firing := false
		for i := range at {
			// Each evaluation makes one transition of the one tier here:
			// firing, then resolved.
			if n[i] != 1 {
				t.Fatalf("%d transitions at %v, want 1", n[i], at[i])
			}
			if firing = !firing; firing {
				starts = append(starts, at[i])
			}
		}
		return starts
	}

	starts := episodes(tier(""))
	if len(starts) == 0 {
		t.Fatal("no episode: the traffic does not reach the factor")
	}
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < hold {
			t.Errorf("episode %d began %v after episode %d, within the %v hold", i+1, gap, i, hold)
		}
	}
	t.Logf("%d episodes in 3 h with the default hold", len(starts))

	loose := episodes(tier(", hold: 10s"))
	near := 0
	for i := 1; i < len(loose); i++ {
		if loose[i].Sub(loose[i-1]) < hold {
			near++
		}
	}
	if near == 0 {
		t.Errorf("with a 10s hold the same traffic gave %d episodes, none within 5m of another: the test shows nothing", len(loose))
	}
	t.Logf("%d episodes with a 10s hold, %d of them within 5m of the previous", len(loose), near)
}
