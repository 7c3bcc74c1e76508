package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
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

// hookMessage is the part of Alertmanager's webhook payload the test reads.
type hookMessage struct {
	Status string `json:"status"`
	Alerts []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// hookSink is a webhook receiver keeping what Alertmanager sends.
type hookSink struct {
	mu   sync.Mutex
	msgs []hookMessage
}

func (h *hookSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m hookMessage
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, m)
	h.mu.Unlock()
}

func (h *hookSink) statuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var s []string
	for _, m := range h.msgs {
		s = append(s, m.Status)
	}
	return s
}

// TestRealAlertmanager pushes an alert to a real Alertmanager whose route
// sends to a webhook: the webhook hears it firing, Alertmanager keeps it
// firing while Burnwatch evaluates and resends, and the webhook hears it
// resolved once it is pushed resolved.
func TestRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Alertmanager")
	}
	bin := alertmanagerBinary()
	if bin == "" {
		t.Skip("no Alertmanager binary: apt-get install prometheus-alertmanager, put alertmanager on PATH, or set ALERTMANAGER_BIN")
	}

	defer http.DefaultClient.CloseIdleConnections() // for goleak
	hook := &hookSink{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

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
      - url: %s/hook
        send_resolved: true
`, hookSrv.URL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=warn")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", bin, logs.String())
		}
	}()
	base := "http://" + addr
	waitFor(t, 10*time.Second, "Alertmanager ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var rep attempts
	p, err := NewWithOptions(Config{URLs: []string{base}, ResendInterval: time.Second}, nil, Options{OnAttempt: rep.add})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	p.Start()
	a := alertNow("page-fast")
	p.Update(time.Now(), []alerting.Alert{a}, nil)
	waitFor(t, 5*time.Second, "the webhook to hear the alert firing", func() bool {
		s := hook.statuses()
		return len(s) > 0 && s[0] == "firing"
	})

	// Evaluations every 250ms, resends every second: past the first
	// endsAt (4s), Alertmanager must still hold the alert firing.
	keep := time.Now().Add(5 * time.Second)
	for time.Now().Before(keep) {
		time.Sleep(250 * time.Millisecond)
		p.Update(time.Now(), []alerting.Alert{a}, nil)
	}
	if state := alertState(t, base); state != "active" {
		t.Fatalf("after 5 resend intervals Alertmanager holds the alert %q, want active", state)
	}
	if s := hook.statuses(); len(s) != 1 {
		t.Errorf("webhook heard %v while the alert kept firing, want one firing notification", s)
	}
	if n := len(rep.of(base)); n < 4 {
		t.Errorf("%d pushes in 5 resend intervals, want at least 4", n)
	}

	p.Update(time.Now(), nil, []alerting.Alert{resolved(a, time.Now())})
	waitFor(t, 5*time.Second, "the webhook to hear the alert resolved", func() bool {
		s := hook.statuses()
		return len(s) > 0 && s[len(s)-1] == "resolved"
	})
	for _, at := range rep.of(base) {
		if at.Err != nil {
			t.Errorf("push failed: %v", at.Err)
		}
	}
}

func resolved(a alerting.Alert, at time.Time) alerting.Alert {
	a.State, a.EndsAt = alerting.StateResolved, at
	return a
}

// alertState is the state Alertmanager gives the test's alert ("active",
// "suppressed", "unprocessed"), or "missing".
func alertState(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			State string `json:"state"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		if a.Labels[alerting.LabelTier] == "page-fast" {
			return a.Status.State
		}
	}
	return "missing"
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond until it holds or timeout passes: the real binary
// runs on the wall clock.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
