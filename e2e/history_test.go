package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
)

// historyLines reads every JSON line of the alert history files in dir.
func historyLines(t *testing.T, dir string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "alerts.jsonl*"))
	var out []map[string]any
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(fh)
		for s.Scan() {
			var m map[string]any
			if err := json.Unmarshal(s.Bytes(), &m); err != nil {
				t.Errorf("%s: a line that is not JSON: %q", f, s.Text())
				continue
			}
			m["_file"] = filepath.Base(f)
			out = append(out, m)
		}
		fh.Close()
	}
	return out
}

// TestHistorySurvivesMoveAndSIGHUP moves the alert history away while the
// daemon runs and sends SIGHUP, as logrotate's nocreate + postrotate does:
// every transition is recorded exactly once across the two files, each file
// starts with its header, and the webhook saw each transition.
func TestHistorySurvivesMoveAndSIGHUP(t *testing.T) {
	hook := newWebhook(t)
	data := t.TempDir()
	d := startDaemonWith(t, &daemonConfig{specs: coreSpecs, webhook: hook.URL, dataDir: data})
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(d.grpc), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, exp, "/checkout")
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.run(ctx, 200) }()
	defer func() { stop(); wg.Wait() }()

	// cycle runs one outage and its recovery and waits for both notifications.
	cycle := func(n int) {
		s.failing.Store(true)
		if !hook.waitFor(time.Now().Add(10*time.Second), func(as []alertEvent) bool {
			return count(as, "checkout-availability", "page-fast", "firing") >= n
		}) {
			t.Fatalf("cycle %d: no page", n)
		}
		s.failing.Store(false)
		if !hook.waitFor(time.Now().Add(10*time.Second), func(as []alertEvent) bool {
			return count(as, "checkout-availability", "page-fast", "resolved") >= n
		}) {
			t.Fatalf("cycle %d: no resolution", n)
		}
	}
	time.Sleep(2 * time.Second) // a healthy start for the windows of the real daemon
	cycle(1)
	hist := filepath.Join(data, "history")
	if err := os.Rename(filepath.Join(hist, "alerts.jsonl"), filepath.Join(hist, "alerts.jsonl.1")); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	cycle(2)
	d.stop()

	lines := historyLines(t, hist)
	headers := map[string]bool{}
	seen := map[string]string{}
	transitions := 0
	for _, l := range lines {
		if l["type"] == "header" {
			headers[l["_file"].(string)] = true
			continue
		}
		if l["event"] != "transition" {
			continue
		}
		id, _ := l["notification"].(string)
		if prev, dup := seen[id]; dup {
			t.Errorf("transition %s recorded twice (%s and %s)", id, prev, l["_file"])
		}
		seen[id] = l["_file"].(string)
		if l["slo"] == "checkout-availability" && l["tier"] == "page-fast" {
			transitions++
		}
	}
	if !headers["alerts.jsonl"] || !headers["alerts.jsonl.1"] {
		t.Errorf("files with a header: %v, want alerts.jsonl and alerts.jsonl.1", headers)
	}
	// Two cycles: firing and resolved twice. The webhook saw the same.
	hooked := count(hook.alerts(), "checkout-availability", "page-fast", "")
	if transitions != 4 || hooked != 4 {
		t.Errorf("page-fast transitions: %d in the history, %d at the webhook; want 4 and 4", transitions, hooked)
	}
	inNew := 0
	for _, f := range seen {
		if f == "alerts.jsonl" {
			inNew++
		}
	}
	if inNew == 0 {
		t.Error("nothing was written to the new file after SIGHUP")
	}
}
