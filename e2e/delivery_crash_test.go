package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// outageSpecs has two page tiers per SLO, so a group carries two alerts
// that fire and resolve at different times: page-fast resolves about a
// second after an outage ends, page-slow about three.
const outageSpecs = flowSpecs + `---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  flow: checkout
  target: 99
  period: 2h
  alerting:
    min_events: 10
    tiers:
      - {name: page-fast, severity: page, long: 10s, short: 1s, factor: 14.4}
      - {name: page-slow, severity: page, long: 30s, short: 3s, factor: 6}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: search-availability}
spec:
  flow: search
  target: 99
  period: 2h
  alerting:
    min_events: 10
    tiers:
      - {name: page-fast, severity: page, long: 10s, short: 1s, factor: 14.4}
`

// pdRoutingKey is a 32-character routing key of no real service.
const pdRoutingKey = "e2e0routing0key00000000000000001"

// TestKill9DeliversPendingWithoutGhosts runs an outage that starts and
// ends, twice, under load, and kills the daemon with SIGKILL six times:
// during the first outage with both receivers (PagerDuty and a webhook)
// down, after it with the resolution pending, and later while receivers
// fail one request in two or three. It shows what a receiver sees:
//   - the notifications pending at a kill are delivered after the restart,
//     once the receiver is back: PagerDuty gets the resolve of the incident
//     it was paged for before the kills, under the same dedup_key;
//   - per alert, no receiver ever gets a firing that is not newer than a
//     resolution it already got (no ghost re-fire);
//   - in the end every alert either receiver was told of is resolved there.
func TestKill9DeliversPendingWithoutGhosts(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of load and six restarts")
	}
	pd, hook := newSink(t), newSink(t)
	data := t.TempDir()
	cfg := &daemonConfig{specs: outageSpecs, dataDir: data, extra: "    allowed_lateness: 10m\n", alerting: fmt.Sprintf(`      receivers:
        - {name: pagerduty, pagerduty: {routing_key: %s, url: %q}}
        - {name: hook, webhook: {url: %q}}
`, pdRoutingKey, pd.url("/v2/enqueue"), hook.url("/alerts")) + quickDelivery}
	d := startDaemonWith(t, cfg)
	exp := newExporter(t, d.grpc)

	var outage atomic.Bool
	stopSending, senderDone := make(chan struct{}), make(chan int)
	go func() {
		sent := 0
		defer func() { senderDone <- sent }()
		rng := rand.New(rand.NewPCG(21, 22))
		for {
			select {
			case <-stopSending:
				return
			default:
			}
			spans := batch(rng, 20, outage.Load())
			if err := exp.trySend(spans); err != nil {
				t.Error(err)
				return
			}
			sent += len(spans)
			time.Sleep(50 * time.Millisecond) // pacing a real load: 400 spans/s
		}
	}()
	defer func() {
		select {
		case <-stopSending:
		default:
			close(stopSending)
			<-senderDone
		}
	}()

	kills := 0
	restart := func(why string) {
		t.Helper()
		d.kill()
		kills++
		if strings.Contains(d.stderr.String(), "panic") {
			t.Fatalf("run %d panicked:\n%s", kills, d.stderr)
		}
		d = startDaemonWith(t, cfg)
		t.Logf("kill -9 #%d %s", kills, why)
	}
	randomly := func(from, to time.Duration) {
		time.Sleep(from + rand.N(to-from)) // the next kill at a random moment of a real process's work
	}
	pending := func(receiver string) float64 {
		return metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_outbox_pending{receiver=%q}`, receiver))
	}
	isPageFast := func(e pdEvent) bool {
		return e.Action == "trigger" && e.Payload != nil && e.Payload.CustomDetails.SLO == "checkout-availability" && e.Payload.CustomDetails.Tier == "page-fast"
	}

	time.Sleep(2 * time.Second) // a healthy start: real load into real windows
	outage.Store(true)
	var paged pdEvent
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		for _, e := range pd.events() {
			if isPageFast(e) {
				paged = e
			}
		}
		return paged.DedupKey != "" && count(hookAlerts(hook), "checkout-availability", "page-fast", "firing") > 0
	}) {
		t.Fatalf("no page-fast page at both receivers within 8 s of the outage: %d PagerDuty events, %d webhook payloads", len(pd.events()), len(hook.payloads()))
	}

	// Both receivers down: nothing more can be delivered.
	pd.down()
	hook.set(failWith(503, nil))
	randomly(300*time.Millisecond, time.Second)
	restart("during the outage, receivers down")
	outage.Store(false)
	hist := filepath.Join(data, "history")
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		for _, r := range historyRecords(t, hist) {
			if r["event"] == "transition" && r["state"] == "resolved" && r["slo"] == "checkout-availability" && r["tier"] == "page-fast" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("page-fast did not resolve within 8 s of the outage's end")
	}
	if pending("pagerduty") < 1 || pending("hook") < 1 {
		t.Fatalf("nothing pending with the receivers down: pagerduty %v, hook %v", pending("pagerduty"), pending("hook"))
	}
	restart("after the outage, its resolution pending, receivers down")
	if pending("pagerduty") < 1 || pending("hook") < 1 {
		t.Errorf("the restart lost the pending notifications: pagerduty %v, hook %v", pending("pagerduty"), pending("hook"))
	}

	// The receivers come back, failing part of the time.
	pd.set(failEvery(3))
	pd.up()
	hook.set(failEvery(2))
	if !waitUntil(time.Now().Add(10*time.Second), func() bool {
		for _, e := range pd.events() {
			if e.Action == "resolve" && e.DedupKey == paged.DedupKey {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("PagerDuty did not get the resolve of %s within 10 s of its return: %+v", paged.DedupKey, pd.events())
	}
	randomly(100*time.Millisecond, time.Second)
	restart("with the receivers failing part of the time")

	// A second outage, killed during and after.
	randomly(time.Second, 2*time.Second)
	outage.Store(true)
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		for _, e := range pd.events() {
			if isPageFast(e) && e.Payload.Timestamp > paged.Payload.Timestamp {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the second outage did not page within 8 s")
	}
	randomly(200*time.Millisecond, 800*time.Millisecond)
	restart("during the second outage")
	randomly(500*time.Millisecond, time.Second)
	outage.Store(false)
	randomly(300*time.Millisecond, 1500*time.Millisecond)
	restart("after the second outage")
	randomly(300*time.Millisecond, 1500*time.Millisecond)
	restart("after the second outage, again")

	// Healthy receivers: everything settles.
	pd.set(accept)
	hook.set(accept)
	settled := func() bool {
		return pending("pagerduty") == 0 && pending("hook") == 0 && metricValue(t, d.metrics, "burnwatch_alerts_firing") == 0
	}
	if !waitUntil(time.Now().Add(15*time.Second), settled) {
		t.Fatalf("not settled 15 s after the second outage: pending pagerduty %v, hook %v, firing %v",
			pending("pagerduty"), pending("hook"), metricValue(t, d.metrics, "burnwatch_alerts_firing"))
	}
	close(stopSending)
	sent := <-senderDone
	t.Logf("%d spans sent, %d kills; PagerDuty got %d of %d requests, the webhook %d of %d",
		sent, kills, len(pd.events()), len(pd.requests()), len(hook.payloads()), len(hook.requests()))

	// PagerDuty: one dedup_key per alert across both outages and every
	// restart; no trigger of an incident already resolved; all resolved.
	keys := map[string]bool{}
	for _, e := range pd.events() {
		if isPageFast(e) {
			keys[e.DedupKey] = true
		}
		if e.RoutingKey != pdRoutingKey {
			t.Errorf("event with routing key %q", e.RoutingKey)
		}
	}
	if len(keys) != 1 || !keys[paged.DedupKey] {
		t.Errorf("page-fast triggers carry dedup keys %v, want only %s (the key before the kills)", keys, paged.DedupKey)
	}
	for _, ghost := range pdGhosts(pd.events()) {
		t.Error(ghost)
	}
	for _, ghost := range hookGhosts(hook.payloads()) {
		t.Error(ghost)
	}
	if n := count(hookAlerts(hook), "search-availability", "", ""); n != 0 {
		t.Errorf("the healthy flow alerted %d times", n)
	}
	if n := count(hookAlerts(hook), "checkout-availability", "page-fast", "firing"); n < 2 {
		t.Errorf("the webhook got %d page-fast firings, want one per outage at least", n)
	}
}

// hookAlerts flattens a sink's webhook payloads into alert events.
func hookAlerts(s *sink) []alertEvent {
	var out []alertEvent
	for _, d := range s.payloads() {
		for _, a := range d.payload.Alerts {
			out = append(out, alertEvent{at: d.at, status: a.Status, slo: a.Labels["slo"], tier: a.Labels["tier"], annotations: a.Annotations, labels: a.Labels})
		}
	}
	return out
}

// hookGhosts walks the webhook payloads in arrival order and reports every
// firing of an alert (by fingerprint) that does not start after a
// resolution of it the receiver already got, and every alert whose last
// word was not a resolution.
func hookGhosts(ds []hookDelivery) []string {
	var out []string
	resolved := map[string]time.Time{} // fingerprint: latest startsAt resolved
	last := map[string]string{}
	for i, d := range ds {
		for _, a := range d.payload.Alerts {
			fp := a.Fingerprint
			switch a.Status {
			case "resolved":
				if a.StartsAt.After(resolved[fp]) {
					resolved[fp] = a.StartsAt
				}
			case "firing":
				if r, ok := resolved[fp]; ok && !a.StartsAt.After(r) {
					out = append(out, fmt.Sprintf("webhook payload %d (id %s): %s/%s fires with startsAt %v after its resolution of startsAt %v",
						i+1, d.id, a.Labels["slo"], a.Labels["tier"], a.StartsAt, r))
				}
			}
			last[fp] = a.Status + " " + a.Labels["slo"] + "/" + a.Labels["tier"]
		}
	}
	for _, s := range sortedValues(last) {
		if !strings.HasPrefix(s, "resolved ") {
			out = append(out, "the webhook's last word on "+strings.TrimPrefix(s, "firing ")+" is firing")
		}
	}
	return out
}

// pdGhosts does the same for PagerDuty events: per dedup_key, a trigger
// whose timestamp (the alert's start) is not after that of a trigger
// already resolved is a ghost, and every key must end resolved.
func pdGhosts(es []pdEvent) []string {
	var out []string
	lastStart := map[string]string{} // dedup_key: timestamp of its latest trigger
	resolved := map[string]string{}  // dedup_key: latest start resolved
	last := map[string]string{}
	for i, e := range es {
		switch e.Action {
		case "trigger":
			ts := ""
			if e.Payload != nil {
				ts = e.Payload.Timestamp
			}
			// RFC 3339 in UTC at one precision: strings order as times.
			if r, ok := resolved[e.DedupKey]; ok && ts <= r {
				out = append(out, fmt.Sprintf("PagerDuty event %d: trigger of %s started %s, after its resolve of the incident started %s", i+1, e.DedupKey, ts, r))
			}
			if ts > lastStart[e.DedupKey] {
				lastStart[e.DedupKey] = ts
			}
		case "resolve":
			if s := lastStart[e.DedupKey]; s > resolved[e.DedupKey] {
				resolved[e.DedupKey] = s
			}
		}
		last[e.DedupKey] = e.Action + " " + e.DedupKey
	}
	for _, s := range sortedValues(last) {
		if !strings.HasPrefix(s, "resolve ") {
			out = append(out, "PagerDuty's last event for "+strings.TrimPrefix(s, "trigger ")+" is a trigger")
		}
	}
	return out
}

func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}
