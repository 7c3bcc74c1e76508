package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// load sends good spans of cart and search every 50 ms through the OTel
// SDK exporter until stopped, counting what the daemon accepted; a test
// pauses it to read counts that hold still.
type load struct {
	mu     sync.Mutex
	paused bool
	sent   map[string]int
	errs   []error
	stop   chan struct{}
	done   chan struct{}
}

func startLoad(t *testing.T, exp *exporter) *load {
	l := &load{sent: map[string]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
			l.mu.Lock()
			if !l.paused {
				spans := append(flowSpans("cart", 4, 0), flowSpans("search", 2, 0)...)
				if err := exp.exp.ExportSpans(context.Background(), spans); err != nil {
					l.errs = append(l.errs, err)
				} else {
					l.sent["cart"] += 4
					l.sent["search"] += 2
				}
			}
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		close(l.stop)
		<-l.done
		if len(l.errs) > 0 {
			t.Errorf("%d exports failed under reloads; first: %v", len(l.errs), l.errs[0])
		}
	})
	return l
}

// pause stops the load after the batch in flight and returns what was
// sent by then; resume lets it go on.
func (l *load) pause() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = true
	return map[string]int{"cart": l.sent["cart"], "search": l.sent["search"]}
}

func (l *load) resume() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.paused = false
}

// TestReloadUnderLoad edits the real daemon's spec file and sends SIGHUP
// while spans flow: a broken edit is rejected and the old set goes on
// counting and paging; a target change keeps the SLO's windows; a changed
// match rule of one flow restarts that flow's SLO and no other.
func TestReloadUnderLoad(t *testing.T) {
	hook := newSink(t)
	specs := acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}, acceptanceSLO{name: "search", tiers: []string{pageTier}})
	d := startDaemonWith(t, &daemonConfig{specs: specs, extra: "    watch_interval: 0s\n",
		alerting: hookReceivers(map[string]*sink{"hook": hook}) + "      route: {receiver: hook, group_by: [slo]}\n"})
	waitWarm(t, d, 2)
	exp := newExporter(t, d.grpc)
	l := startLoad(t, exp)

	// period is an SLO's 2 h window (its period): every span since the
	// start, unless the SLO restarted.
	period := func(slo string) int {
		c := windowCounts(t, d.metrics)
		return int(c[slo+"/2h/good"] + c[slo+"/2h/bad"])
	}
	// settled waits until the SLOs' periods hold want, spans the daemon
	// accepted and an evaluation has counted.
	settled := func(what string, want map[string]int) {
		t.Helper()
		if !waitUntil(time.Now().Add(5*time.Second), func() bool {
			return period("cart") == want["cart"] && period("search") == want["search"]
		}) {
			t.Fatalf("%s: periods cart %d, search %d; want %v", what, period("cart"), period("search"), want)
		}
	}
	edit := func(from, to string) {
		t.Helper()
		b, err := os.ReadFile(d.specPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), from) {
			t.Fatalf("the spec file has no %q", from)
		}
		if err := os.WriteFile(d.specPath, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	reloads := func(outcome string, n float64) {
		t.Helper()
		series := fmt.Sprintf(`burnwatch_spec_reloads_total{outcome=%q}`, outcome)
		if !waitUntil(time.Now().Add(5*time.Second), func() bool { return metricValue(t, d.metrics, series) == n }) {
			t.Fatalf("%s = %v, want %v", series, metricValue(t, d.metrics, series), n)
		}
	}
	pages := func(slo string, outage []sdktrace.ReadOnlySpan) {
		t.Helper()
		exp.send(t, outage)
		if !hook.waitFor(time.Now().Add(5*time.Second), func([]request) bool { return hook.firingSLOs()[slo] }) {
			t.Fatalf("no page for %s", slo)
		}
	}

	time.Sleep(time.Second) // spans flow before the first edit
	pages("cart", outageSpans("cart"))
	outages := map[string]int{"cart": 20}

	// A typo: rejected, and the running set still counts and pages.
	edit("  target: 99\n", "  target: 990\n")
	reloads("rejected", 1)
	pages("search", outageSpans("search"))
	outages["search"] = 20
	sent := l.pause()
	settled("after the rejected edit", map[string]int{"cart": sent["cart"] + outages["cart"], "search": sent["search"] + outages["search"]})

	// A new target for cart: its windows are kept.
	edit("  target: 990\n", "  target: 99.5\n")
	reloads("applied", 1)
	l.resume()
	time.Sleep(time.Second) // spans flow after the reload
	sent = l.pause()
	settled("after cart's new target", map[string]int{"cart": sent["cart"] + outages["cart"], "search": sent["search"] + outages["search"]})

	// search's flow gets another match rule: search starts again, cart
	// keeps its windows.
	edit("  match: [{attribute: http.route, equals: /search}]\n",
		"  match: [{attribute: http.route, equals: /search}, {attribute: service.name, equals: shop}]\n")
	reloads("applied", 2)
	atReload := sent["search"]
	settled("right after search's flow changed", map[string]int{"cart": sent["cart"] + outages["cart"], "search": 0})
	l.resume()
	time.Sleep(time.Second)
	sent = l.pause()
	if sent["search"] == atReload {
		t.Fatal("no search spans after the reload: the test shows nothing")
	}
	settled("after search's flow changed", map[string]int{"cart": sent["cart"] + outages["cart"], "search": sent["search"] - atReload})

	select {
	case <-d.exited:
		t.Fatalf("the daemon exited:\n%s", d.stderr)
	default:
	}
	if !strings.Contains(d.stderr.String(), "spec files rejected") {
		t.Error("the rejected edit was not logged")
	}
}
