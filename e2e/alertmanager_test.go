package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertmanagerBinary finds a real Alertmanager: $ALERTMANAGER_BIN, else
// alertmanager or Debian's prometheus-alertmanager on PATH.
func alertmanagerBinary() string {
	if bin := os.Getenv("ALERTMANAGER_BIN"); bin != "" {
		return bin
	}
	for _, name := range []string{"alertmanager", "prometheus-alertmanager"} {
		if bin, err := exec.LookPath(name); err == nil {
			return bin
		}
	}
	return ""
}

// lockedBuffer is a process's output, written by its goroutines and read
// by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startAlertmanager starts a real Alertmanager whose one route sends every
// alert to hook (group_by [slo], group_wait and group_interval 1s) and
// returns its base URL once it is ready.
func startAlertmanager(t *testing.T, bin, hook string) string {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: hook
  group_by: [slo]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - {url: %q, send_resolved: true}
`, hook)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "alertmanager.yml"), "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", logs)
		}
	})
	base := "http://" + addr
	if !waitUntil(time.Now().Add(10*time.Second), func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) {
		t.Fatalf("alertmanager not ready on %s within 10 s:\n%s", addr, logs)
	}
	return base
}

// pushes sums the daemon's burnwatch_alertmanager_pushes_total of outcome.
func pushes(t *testing.T, d *daemon, outcome string) float64 {
	sum := 0.0
	for _, line := range strings.Split(scrape(t, d.metrics), "\n") {
		if !strings.HasPrefix(line, "burnwatch_alertmanager_pushes_total{") || !strings.Contains(line, `outcome="`+outcome+`"`) {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// TestAlertmanagerReceivesPushedAlerts: a real Alertmanager (Debian's
// prometheus-alertmanager) that Burnwatch pushes its alerts to (resend
// every second, so each push says the alert holds for 4 s) routes them to
// its own webhook.
//
//	0s      cart fails: the webhook hears cart's page firing (after the
//	        Alertmanager's group_wait, 1 s)
//	f..f+6s Alertmanager lists the alert active all along, its endsAt
//	        moving ahead, with a push per second: six resend periods, past
//	        the 4 s one push would hold it for
//	r       cart recovers: after the hold the alert is pushed resolved, the
//	        webhook hears it resolved, and Alertmanager lists it no more
func TestAlertmanagerReceivesPushedAlerts(t *testing.T) {
	t.Parallel()
	bin := alertmanagerBinary()
	if bin == "" {
		t.Skip("no Alertmanager: apt-get install prometheus-alertmanager, put alertmanager on PATH, or set ALERTMANAGER_BIN")
	}
	hook := newSink(t)
	am := startAlertmanager(t, bin, hook.url("/hook"))
	alerting := fmt.Sprintf("      alertmanagers: {urls: [%q], resend_interval: 1s}\n", am)
	d := startDaemonWith(t, &daemonConfig{specs: acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}), alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 1)

	tl := startTimeline(t)
	r := tl.receiver("alertmanager's webhook", hook)
	exp.send(t, outage("cart"))
	r.expect(0, soon+2*time.Second, "firing", `{}:{slo="cart"}`, "cart/page/firing")
	if !hook.waitFor(time.Now().Add(soon+2*time.Second), func(rs []request) bool { return len(rs) > 0 }) {
		t.Fatal("alertmanager's webhook heard nothing within 3.5 s of the outage")
	}

	// Sample Alertmanager's view of the alert for six resend periods.
	const keep = 6 * time.Second
	before, kept := pushes(t, d, "delivered"), time.Now()
	var lastEnds time.Time
	for time.Since(kept) < keep {
		a, ok := findAlert(amAlerts(t, am, ""), "cart", "page")
		at := time.Now()
		switch {
		case !ok:
			t.Fatalf("%v after the first notification, Alertmanager no longer lists cart's page", time.Since(kept).Round(time.Millisecond))
		case a.Status.State != "active" || !a.EndsAt.After(at):
			t.Fatalf("%v after the first notification, Alertmanager holds cart's page %s until %v (now %v), want active until later",
				time.Since(kept).Round(time.Millisecond), a.Status.State, a.EndsAt, at)
		}
		if a.EndsAt.Before(lastEnds) {
			t.Errorf("cart's page endsAt went back from %v to %v", lastEnds, a.EndsAt)
		}
		lastEnds = a.EndsAt
		time.Sleep(500 * time.Millisecond) // sampling a real process
	}
	if n := pushes(t, d, "delivered") - before; n < 5 {
		t.Errorf("%v pushes delivered in %v with resend_interval 1s, want at least 5", n, keep)
	}
	if lastEnds.Sub(kept) < keep {
		t.Errorf("cart's page held until %v, want it pushed on past the %v sampled", lastEnds.Sub(kept), keep)
	}

	recovered := tl.now()
	exp.send(t, recovery("cart"))
	r.expect(recovered+hold, recovered+hold+soon+2*time.Second, "resolved", `{}:{slo="cart"}`, "cart/page/resolved")
	tl.finish(time.Second)
	if a, ok := findAlert(amAlerts(t, am, ""), "cart", "page"); ok {
		t.Errorf("Alertmanager still lists cart's page after it resolved: %+v", a)
	}
}
