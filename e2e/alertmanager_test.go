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

// TestAlertmanagerReceivesPushedAlerts: two real Alertmanagers (Debian's
// prometheus-alertmanager), an HA pair as Burnwatch's alertmanagers.urls,
// get its alerts pushed (resent every second, so each push says the alert
// holds for 4 s) and route them to their own webhooks.
//
//	0s      cart fails: each webhook hears cart's page firing (after the
//	        Alertmanager's group_wait, 1 s)
//	f..f+6s both Alertmanagers list the alert active all along, its endsAt
//	        moving ahead, with a push per second: six resend periods, past
//	        the 4 s one push would hold it for
//	r       cart recovers: after the hold the alert is pushed resolved, each
//	        webhook hears it resolved, and the Alertmanagers list it no more
func TestAlertmanagerReceivesPushedAlerts(t *testing.T) {
	t.Parallel()
	bin := alertmanagerBinary()
	if bin == "" {
		t.Skip("no Alertmanager: apt-get install prometheus-alertmanager, put alertmanager on PATH, or set ALERTMANAGER_BIN")
	}
	hooks := []*sink{newSink(t), newSink(t)}
	ams := []string{startAlertmanager(t, bin, hooks[0].url("/hook")), startAlertmanager(t, bin, hooks[1].url("/hook"))}
	alerting := fmt.Sprintf("      alertmanagers: {urls: [%q, %q], resend_interval: 1s}\n", ams[0], ams[1])
	d := startDaemonWith(t, &daemonConfig{specs: acceptanceSpecs(acceptanceSLO{name: "cart", tiers: []string{pageTier}}), alerting: alerting})
	exp := newExporter(t, d.grpc)
	waitWarm(t, d, 1)

	tl := startTimeline(t)
	var rs []*expectations
	for i, h := range hooks {
		rs = append(rs, tl.receiver(fmt.Sprintf("webhook of alertmanager %d", i), h))
	}
	exp.send(t, outageSpans("cart"))
	for i, r := range rs {
		r.expect(0, notifyWithin+2*time.Second, "firing", `{}:{slo="cart"}`, "cart/page/firing")
		if !hooks[i].waitFor(tl.zero.Add(notifyWithin+2*time.Second), func(rs []request) bool { return len(rs) > 0 }) {
			t.Fatalf("alertmanager %d's webhook heard nothing within 3.5 s of the outage", i)
		}
	}

	// Sample the Alertmanagers' view of the alert for six resend periods.
	const keep = 6 * time.Second
	before, kept := pushes(t, d, "delivered"), time.Now()
	lastEnds := make([]time.Time, len(ams))
	for time.Since(kept) < keep {
		for i, am := range ams {
			a, ok := findAlert(amAlerts(t, am, ""), "cart", "page")
			at := time.Now()
			switch {
			case !ok:
				t.Fatalf("%v after the first notification, alertmanager %d no longer lists cart's page", time.Since(kept).Round(time.Millisecond), i)
			case a.Status.State != "active" || !a.EndsAt.After(at):
				t.Fatalf("%v after the first notification, alertmanager %d holds cart's page %s until %v (now %v), want active until later",
					time.Since(kept).Round(time.Millisecond), i, a.Status.State, a.EndsAt, at)
			}
			if a.EndsAt.Before(lastEnds[i]) {
				t.Errorf("alertmanager %d: cart's page endsAt went back from %v to %v", i, lastEnds[i], a.EndsAt)
			}
			lastEnds[i] = a.EndsAt
		}
		time.Sleep(500 * time.Millisecond) // sampling real processes
	}
	// A push goes to each Alertmanager: at least 5 resends each in 6 s.
	if n := pushes(t, d, "delivered") - before; n < 10 {
		t.Errorf("%v pushes delivered to 2 Alertmanagers in %v with resend_interval 1s, want at least 10", n, keep)
	}
	for i, e := range lastEnds {
		if e.Sub(kept) < keep {
			t.Errorf("alertmanager %d: cart's page held until %v, want it pushed on past the %v sampled", i, e.Sub(kept), keep)
		}
	}

	recovered := tl.now()
	exp.send(t, recoverySpans("cart"))
	for _, r := range rs {
		r.expect(recovered+tierHold, recovered+tierHold+notifyWithin+2*time.Second, "resolved", `{}:{slo="cart"}`, "cart/page/resolved")
	}
	tl.finish(time.Second)
	for i, am := range ams {
		if a, ok := findAlert(amAlerts(t, am, ""), "cart", "page"); ok {
			t.Errorf("alertmanager %d still lists cart's page after it resolved: %+v", i, a)
		}
	}
}
