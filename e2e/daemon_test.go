package e2e

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the burnwatch executable built by TestMain; clockBinary is
// the same built with -tags burnwatch_testclock, whose clock
// BURNWATCH_TEST_CLOCK can make run fast (see fastClock).
var binary, clockBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "burnwatch-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "burnwatch")
	clockBinary = filepath.Join(dir, "burnwatch-testclock")
	for _, args := range [][]string{
		{"build", "-o", binary, "../cmd/burnwatch"},
		{"build", "-tags", "burnwatch_testclock", "-o", clockBinary, "../cmd/burnwatch"},
	} {
		build := exec.Command("go", args...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building burnwatch:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// daemon is a running burnwatch process.
type daemon struct {
	cmd        *exec.Cmd
	grpc, http string // OTLP endpoints
	metrics    string
	specPath   string // the spec file, for tests that edit it
	stdout     *lineLog
	stderr     *lineLog
	exited     chan struct{}
}

// lineLog collects a process's output lines for assertions and failure logs.
type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) collect(r io.Reader) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, s.Text())
		l.mu.Unlock()
	}
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// daemonConfig is what a test varies in the daemon's config. Addresses left
// empty are picked free; a restart passes the same config to keep them.
type daemonConfig struct {
	specs   string
	webhook string
	dataDir string // storage.directory; empty keeps state in memory
	grpc    string
	http    string
	metrics string
	// extra is YAML added under extensions.burnwatch (indented by 4 spaces).
	extra string
	// alerting is YAML added under extensions.burnwatch.alerting (indented
	// by 6 spaces): receivers, route, delivery.
	alerting string
	// clock, when set, runs the test build of the binary on this fast
	// clock.
	clock *fastClock
	// evaluation is the evaluation interval; empty for 250ms.
	evaluation string
	// metricsIn adds a metrics pipeline from the otlp receiver into the
	// slo connector, for metric SLIs.
	metricsIn bool
	// checkpoint is storage.checkpoint_interval; empty for 1s.
	checkpoint string
}

// startDaemon writes the spec file and a collector config and starts the
// binary, waiting until its OTLP gRPC port accepts connections.
func startDaemon(t *testing.T, specYAML, webhookURL string) *daemon {
	t.Helper()
	return startDaemonWith(t, &daemonConfig{specs: specYAML, webhook: webhookURL})
}

func startDaemonWith(t *testing.T, dc *daemonConfig) *daemon {
	t.Helper()
	dir := t.TempDir()
	specPath := filepath.Join(dir, "slos.yaml")
	if err := os.WriteFile(specPath, []byte(dc.specs), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*string{&dc.grpc, &dc.http, &dc.metrics} {
		if *a == "" {
			*a = freeAddr(t)
		}
	}
	d := &daemon{grpc: dc.grpc, http: dc.http, metrics: dc.metrics, specPath: specPath}
	storage := ""
	if dc.dataDir != "" {
		storage = fmt.Sprintf("    storage: {directory: %q, checkpoint_interval: %s, wal_segment_size: 16384}\n", dc.dataDir, cmp.Or(dc.checkpoint, "1s"))
	}
	if dc.evaluation == "" {
		dc.evaluation = "250ms"
	}
	pipelines := ""
	if dc.metricsIn {
		pipelines = "    metrics/in: {receivers: [otlp], exporters: [slo]}\n"
	}
	cfg := fmt.Sprintf(`
extensions:
  burnwatch:
    files: [%q]
    evaluation_interval: %s
    metrics: {level: detailed}
    alerting:
      console: true
      webhooks:
        - name: test
          url: %q
%s    http: {endpoint: %q}
%s%s
receivers:
  otlp:
    protocols:
      grpc: {endpoint: %q}
      http: {endpoint: %q}
processors:
  flow: {}
connectors:
  slo: {}
exporters:
  nop: {}
service:
  extensions: [burnwatch]
  telemetry:
    metrics: {level: none}
  pipelines:
    traces: {receivers: [otlp], processors: [flow], exporters: [slo]}
    metrics: {receivers: [slo], exporters: [nop]}
%s`, specPath, dc.evaluation, dc.webhook, dc.alerting, d.metrics, storage, dc.extra, d.grpc, d.http, pipelines)
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(binary, "--config", cfgPath)
	if dc.clock != nil {
		d.cmd = exec.Command(clockBinary, "--config", cfgPath)
		d.cmd.Env = append(os.Environ(), "BURNWATCH_TEST_CLOCK="+dc.clock.env())
	}
	d.run(t)
	d.waitListening(t, d.grpc)
	return d
}

// run starts d.cmd with its output collected, and stops it with SIGTERM
// when the test ends, showing its output if the test failed.
func (d *daemon) run(t *testing.T) {
	t.Helper()
	d.stdout, d.stderr, d.exited = &lineLog{}, &lineLog{}, make(chan struct{})
	stdout, _ := d.cmd.StdoutPipe()
	stderr, _ := d.cmd.StderrPipe()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go d.stdout.collect(stdout)
	go d.stderr.collect(stderr)
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("burnwatch (grpc %s) stderr:\n%s\nstdout:\n%s", d.grpc, d.stderr, d.stdout)
		}
	})
}

// waitListening waits until every address accepts connections, for at
// most 20 s, failing if the daemon exits first.
func (d *daemon) waitListening(t *testing.T, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range addrs {
		for {
			if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
				c.Close()
				break
			}
			select {
			case <-d.exited:
				t.Fatalf("burnwatch exited at start:\n%s", d.stderr)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("burnwatch did not listen on %s:\n%s", addr, d.stderr)
			}
			time.Sleep(50 * time.Millisecond) // polling a real process, not standing in for a clock
		}
	}
}

// stop ends the daemon with SIGTERM (a clean shutdown), killing it if it
// does not exit within 10 s. Safe to call after it exited.
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.exited
	}
}

// kill ends the daemon with SIGKILL: no shutdown code runs.
func (d *daemon) kill() {
	_ = d.cmd.Process.Kill()
	<-d.exited
}

// delivery is one webhook request as the test server saw it.
type delivery struct {
	at      time.Time
	payload webhookPayload
}

// webhookPayload is the Alertmanager webhook v4 shape, as a receiver reads it.
type webhookPayload struct {
	Version  string            `json:"version"`
	Status   string            `json:"status"`
	Receiver string            `json:"receiver"`
	GroupKey string            `json:"groupKey"`
	Common   map[string]string `json:"commonLabels"`
	Alerts   []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		Fingerprint  string            `json:"fingerprint"`
		GeneratorURL string            `json:"generatorURL"`
	} `json:"alerts"`
}

// webhook is a real HTTP receiver that records every delivery.
type webhook struct {
	*httptest.Server
	mu         sync.Mutex
	deliveries []delivery
	arrived    chan struct{}
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{arrived: make(chan struct{}, 1000)}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var p webhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				// The body ended early: the sender was killed in the
				// middle of it (the kill -9 tests). Nothing arrived; the
				// sender's outbox sends it again after its restart.
				rw.WriteHeader(http.StatusBadRequest)
				return
			}
			t.Errorf("webhook body is not v4 JSON: %v", err)
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.deliveries = append(w.deliveries, delivery{at: time.Now(), payload: p})
		w.mu.Unlock()
		w.arrived <- struct{}{}
		rw.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(w.Close)
	return w
}

// alertEvent is one alert inside a delivery.
type alertEvent struct {
	at                time.Time
	status, slo, tier string
	annotations       map[string]string
	labels            map[string]string
}

func (w *webhook) alerts() []alertEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []alertEvent
	for _, d := range w.deliveries {
		for _, a := range d.payload.Alerts {
			out = append(out, alertEvent{at: d.at, status: a.Status, slo: a.Labels["slo"], tier: a.Labels["tier"], annotations: a.Annotations, labels: a.Labels})
		}
	}
	return out
}

// waitFor waits until pred holds over the alerts seen so far, or the deadline.
func (w *webhook) waitFor(deadline time.Time, pred func([]alertEvent) bool) bool {
	for {
		if pred(w.alerts()) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		select {
		case <-w.arrived:
		case <-time.After(left):
		}
	}
}

func count(as []alertEvent, slo, tier, status string) int {
	n := 0
	for _, a := range as {
		if a.slo == slo && (tier == "" || a.tier == tier) && (status == "" || a.status == status) {
			n++
		}
	}
	return n
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

var _ = context.Background
