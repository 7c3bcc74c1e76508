package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// flowSpecs are the flows of crashSpecs: checkout and search by route.
const flowSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  tier: critical
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: search}
spec:
  match: [{attribute: http.route, equals: /search}]
`

// steadySpecs adds n availability SLOs on checkout, slo-000 and on, each
// with one page tier over 1m and 2s windows. One outage batch (20 errors)
// fires them all within the tier's warm-up (1 s); without further spans
// they stay firing (an empty short window is no evidence of recovery), and
// good spans that dilute the errors below 14.4% resolve them after the
// tier's hold (its short window, 2 s): a test decides when alerts change.
func steadySpecs(n int) string {
	var b strings.Builder
	b.WriteString(flowSpecs)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: %s}
spec:
  flow: checkout
  target: 99
  period: 2h
  alerting: {min_events: 10, tiers: [{name: page, severity: page, long: 1m, short: 2s, factor: 14.4}]}
`, sloName(i))
	}
	return b.String()
}

func sloName(i int) string { return fmt.Sprintf("slo-%03d", i) }

// quickDelivery retries within a second and stops waiting for receivers
// after a second at shutdown, so a test's cleanup never waits long.
const quickDelivery = "      delivery: {initial_backoff: 200ms, max_backoff: 1s, shutdown_timeout: 1s}\n"

func redirectTo(location string) func(int, *http.Request) answer {
	return func(int, *http.Request) answer {
		return answer{status: http.StatusFound, header: map[string]string{"Location": location}}
	}
}

// failEvery fails every k-th request with 503 and accepts the others.
func failEvery(k int) func(int, *http.Request) answer {
	return func(n int, r *http.Request) answer {
		if n%k == 0 {
			return answer{status: http.StatusServiceUnavailable, body: "sink: failing on purpose"}
		}
		return accept(n, r)
	}
}

// TestDeliveryFaultsRecover sends the same three alert groups to a
// healthy receiver and to five failing ones: one throttles (429 with
// Retry-After: 1), one is unavailable (503), one accepts and never answers
// (receiver http timeout 1s), one refuses connections (nothing listens on
// its port), one redirects (302). Once each recovers it gets every alert.
// Along the way: the healthy receiver is not held back, Retry-After is
// honoured, the http timeout ends hanging attempts, a redirect is never a
// delivery nor followed, and a notification keeps its delivery id across
// retries and is accepted once.
func TestDeliveryFaultsRecover(t *testing.T) {
	healthy := newSink(t)
	throttled := newSink(t)
	throttled.set(failWith(http.StatusTooManyRequests, map[string]string{"Retry-After": "1"}))
	unavailable := newSink(t)
	unavailable.set(failWith(http.StatusServiceUnavailable, nil))
	hanging := newSink(t)
	hanging.set(hang)
	refusing := newSinkDown(t)
	elsewhere := newSink(t) // where the redirect points: nothing may arrive
	redirecting := newSink(t)
	redirecting.set(redirectTo(elsewhere.url("/alerts")))
	faulty := map[string]*sink{"throttled": throttled, "unavailable": unavailable, "hanging": hanging, "refusing": refusing, "redirecting": redirecting}

	alerting := fmt.Sprintf(`      receivers:
        - {name: healthy, webhook: {url: %q}}
        - {name: throttled, webhook: {url: %q}}
        - {name: unavailable, webhook: {url: %q}}
        - {name: hanging, http: {timeout: 1s}, webhook: {url: %q}}
        - {name: refusing, webhook: {url: %q}}
        - {name: redirecting, webhook: {url: %q}}
`, healthy.url("/alerts"), throttled.url("/alerts"), unavailable.url("/alerts"), hanging.url("/alerts"),
		refusing.url("/alerts"), redirecting.url("/alerts")) + quickDelivery
	d := startDaemonWith(t, &daemonConfig{specs: steadySpecs(3), alerting: alerting})
	exp := newExporter(t, d.grpc)
	fired := time.Now()
	exp.send(t, batch(rand.New(rand.NewPCG(5, 6)), 30, true))

	all := func(s *sink) bool { return len(s.firingSLOs()) == 3 }
	if !waitUntil(fired.Add(3*time.Second), func() bool { return all(healthy) }) {
		t.Fatalf("the healthy receiver did not get the 3 alerts within 3 s (failing receivers must not hold it back): %v", healthy.firingSLOs())
	}
	t.Logf("fire to the healthy receiver's last alert: %v", time.Since(fired).Round(time.Millisecond))

	// Let every fault show twice. Two hanging attempts within the wait
	// show the receiver's 1 s timeout is applied (the default is 10 s).
	attempts := func(receiver, outcome string) float64 {
		return max(metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_notification_attempts_total{receiver=%q,outcome=%q}`, receiver, outcome)), 0)
	}
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		for name, s := range faulty {
			if name != "refusing" && len(s.requests()) < 2 {
				return false
			}
		}
		return attempts("refusing", "retry") >= 2
	}) {
		t.Fatalf("faults not seen twice: throttled %d, unavailable %d, hanging %d, redirecting %d requests, refusing %v retries",
			len(throttled.requests()), len(unavailable.requests()), len(hanging.requests()), len(redirecting.requests()), attempts("refusing", "retry"))
	}
	for name := range faulty {
		if n := attempts(name, "delivered"); n != 0 {
			t.Errorf("%s: %v attempts counted delivered while it failed", name, n)
		}
		if n := attempts(name, "retry"); n < 1 {
			t.Errorf("%s: no attempt counted retry while it failed", name)
		}
	}
	failed := map[string][]request{}
	for name, s := range faulty {
		failed[name] = s.requests()
	}

	recovered := time.Now()
	for _, s := range faulty {
		s.set(accept)
	}
	refusing.up()
	if !waitUntil(recovered.Add(5*time.Second), func() bool {
		for _, s := range faulty {
			if !all(s) {
				return false
			}
		}
		return true
	}) {
		for name, s := range faulty {
			t.Errorf("%s: alerts delivered within 5 s of recovery: %v", name, s.firingSLOs())
		}
		t.FailNow()
	}
	t.Logf("recovery to every alert at every receiver: %v", time.Since(recovered).Round(time.Millisecond))

	// Retry-After: 1 holds the throttled receiver's attempts a second
	// apart, where the backoff alone would retry after 100-400 ms.
	reqs := failed["throttled"]
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].at.Sub(reqs[i-1].at); gap < 950*time.Millisecond {
			t.Errorf("throttled: attempt %d came %v after the 429 with Retry-After: 1", i+1, gap.Round(time.Millisecond))
		}
	}
	// The 1 s timeout ends each hanging attempt; the next follows after
	// the backoff (at most 1 s). The sink sees each attempt a little after
	// the daemon's timeout clock starts (a loaded machine: tens of ms), so
	// a gap may read a little under the timeout, never much.
	reqs = failed["hanging"]
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].at.Sub(reqs[i-1].at); gap < 900*time.Millisecond || gap > 2500*time.Millisecond {
			t.Errorf("hanging: attempt %d came %v after the previous one; want the 1 s timeout plus at most 1 s backoff", i+1, gap.Round(time.Millisecond))
		}
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect was followed: its target got %d requests", n)
	}
	if n := attempts("redirecting", "delivered"); n != 3 {
		t.Errorf("redirecting: %v attempts counted delivered, want the 3 made after the redirect stopped", n)
	}

	// A notification keeps its delivery id across retries, and is accepted
	// once: no receiver got a group twice.
	for name, s := range map[string]*sink{"healthy": healthy, "throttled": throttled, "unavailable": unavailable, "hanging": hanging, "refusing": refusing, "redirecting": redirecting} {
		accepted := map[string]int{}
		for _, p := range s.payloads() {
			accepted[p.id]++
			if p.at.Before(recovered) && name != "healthy" {
				t.Errorf("%s: accepted a delivery before it recovered", name)
			}
		}
		for id, n := range accepted {
			if id == "" || n != 1 {
				t.Errorf("%s: delivery id %q accepted %d times", name, id, n)
			}
		}
		if len(accepted) != 3 {
			t.Errorf("%s: %d notifications accepted, want one per group (3)", name, len(accepted))
		}
		for _, r := range failed[name] {
			if id := r.header.Get("X-Burnwatch-Delivery"); accepted[id] == 0 {
				t.Errorf("%s: failed attempt with delivery id %q, never accepted under that id", name, id)
			}
		}
	}
}
