package e2e

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

var sloInText = regexp.MustCompile(`slo-\d{3}`)

// TestOutboxOverflowDeadLetters fires 60 SLOs, each its own group, at a
// receiver that refuses connections while the outbox holds 20 groups per
// receiver. The outbox stays at its bound; once the receiver listens,
// every group is either delivered or dead-lettered, never both, 60 in all,
// and each dead letter has a history record, a log line and its count in
// burnwatch_notifications_dead_letter_total.
func TestOutboxOverflowDeadLetters(t *testing.T) {
	const slos, maxPending = 60, 20
	s := newSinkDown(t)
	data := t.TempDir()
	d := startDaemonWith(t, &daemonConfig{specs: steadySpecs(slos), dataDir: data, alerting: fmt.Sprintf(`      receivers:
        - {name: hook, webhook: {url: %q}}
      delivery: {max_pending: %d, initial_backoff: 200ms, max_backoff: 1s, shutdown_timeout: 1s}
`, s.url("/alerts"), maxPending)})
	newExporter(t, d.grpc).send(t, batch(rand.New(rand.NewPCG(4, 4)), 30, true))

	// Wait until each group is pending or dead-lettered: the bound held
	// or not, the outbox has taken all 60.
	pending := func() float64 { return metricValue(t, d.metrics, `burnwatch_outbox_pending{receiver="hook"}`) }
	dead := func() float64 {
		return max(metricValue(t, d.metrics, `burnwatch_notifications_dead_letter_total{receiver="hook"}`), 0)
	}
	if !waitUntil(time.Now().Add(10*time.Second), func() bool { return pending()+dead() >= slos }) {
		t.Fatalf("the outbox did not take the %d groups: %v pending, %v dead-lettered", slos, pending(), dead())
	}
	if n := pending(); n != maxPending {
		t.Errorf("outbox pending = %v with the receiver down, want the bound %d", n, maxPending)
	}

	s.up()
	if !waitUntil(time.Now().Add(10*time.Second), func() bool { return pending() == 0 }) {
		t.Fatalf("the outbox did not drain within 10 s of the receiver's return: %v pending", pending())
	}

	delivered := s.firingSLOs()
	deadHistory := map[string]int{}
	for _, r := range historyRecords(t, filepath.Join(data, "history")) {
		// The console receiver (console: true) overflows too: one
		// evaluation puts 60 groups before it prints the first.
		if r["event"] != "dead_letter" || r["receiver"] != "hook" {
			continue
		}
		group, _ := r["group"].(string)
		slo := sloInText.FindString(group)
		if slo == "" || r["notification"] == "" || r["error"] == "" {
			t.Errorf("dead letter record without its group, notification or reason: %v", r)
		}
		deadHistory[slo]++
	}
	deadLog := map[string]int{}
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if strings.Contains(line, "dead letter") && strings.Contains(line, `"receiver": "hook"`) {
			deadLog[sloInText.FindString(line)]++
		}
	}
	deadMetric := dead()
	t.Logf("%d groups delivered, %d dead-lettered (history), %d dead letter log lines, metric %v",
		len(delivered), len(deadHistory), len(deadLog), deadMetric)

	for i := 0; i < slos; i++ {
		slo := sloName(i)
		switch {
		case delivered[slo] && deadHistory[slo] > 0:
			t.Errorf("%s was delivered and dead-lettered", slo)
		case !delivered[slo] && deadHistory[slo] == 0:
			t.Errorf("%s was neither delivered nor dead-lettered", slo)
		case deadHistory[slo] > 1:
			t.Errorf("%s has %d dead letter records", slo, deadHistory[slo])
		}
	}
	var unlogged []string
	for slo, n := range deadHistory {
		if deadLog[slo] != n {
			unlogged = append(unlogged, slo)
		}
	}
	if len(unlogged) > 0 || len(deadLog) != len(deadHistory) {
		sort.Strings(unlogged)
		t.Errorf("%d dead letters have no log line of their own (%d lines for %d dead letters): %v",
			len(unlogged), len(deadLog), len(deadHistory), unlogged)
	}
	if len(delivered)+len(deadHistory) != slos {
		t.Errorf("%d delivered + %d dead-lettered, want %d", len(delivered), len(deadHistory), slos)
	}
	if len(deadHistory) != slos-maxPending {
		t.Errorf("%d groups dead-lettered, want the %d beyond max_pending", len(deadHistory), slos-maxPending)
	}
	if deadMetric != float64(len(deadHistory)) {
		t.Errorf("burnwatch_notifications_dead_letter_total = %v, %d dead letters in the history", deadMetric, len(deadHistory))
	}
}
