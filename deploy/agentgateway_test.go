package deploy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestAgentForwardsToGateway runs the agent and the gateway of
// deploy/kubernetes as they are, but on loopback ports and temporary
// directories: spans posted to the agent are classified there, forwarded,
// and counted by the gateway in their flows, errors included; a client's
// own burnwatch.flow attribute is removed by the agent, so the gateway,
// which trusts its agents' annotations, does not count a span no flow took.
// Both answer their probes.
func TestAgentForwardsToGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two daemons")
	}
	objs := decodeObjects(t, "specs", []byte(readFile(t, "deploy/kubernetes/common/specs.yaml")))
	objs = append(objs, decodeObjects(t, "gateway", []byte(readFile(t, "deploy/kubernetes/gateway/gateway.yaml")))...)
	objs = append(objs, decodeObjects(t, "agent", []byte(readFile(t, "deploy/kubernetes/agent/agent.yaml")))...)
	c := &manifestCheck{t: t, objs: objs}
	dir := t.TempDir()
	specDir := filepath.Join(dir, "specs")
	if err := os.MkdirAll(specDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range mapOf(get(c.find("ConfigMap", "burnwatch", "burnwatch-specs"), "data")) {
		if err := os.WriteFile(filepath.Join(specDir, k), []byte(str(v)), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	gwGRPC, gwHTTP, gwAPI := freePort(t), freePort(t), freePort(t)
	gateway := startFromManifest(t, str(get(c.find("ConfigMap", "burnwatch", "burnwatch-gateway-config"), "data", "config.yaml")), map[string]string{
		"/etc/burnwatch/specs": specDir,
		"/var/lib/burnwatch":   filepath.Join(dir, "gateway"),
		"0.0.0.0:4317":         "127.0.0.1:" + gwGRPC,
		"0.0.0.0:4318":         "127.0.0.1:" + gwHTTP,
		"0.0.0.0:9464":         "127.0.0.1:" + gwAPI,
		"port: 8888":           "port: " + freePort(t),
	}, "PAGERDUTY_ROUTING_KEY=test-routing-key")
	agGRPC, agHTTP, agAPI := freePort(t), freePort(t), freePort(t)
	agent := startFromManifest(t, str(get(c.find("ConfigMap", "burnwatch", "burnwatch-agent-config"), "data", "config.yaml")), map[string]string{
		"/etc/burnwatch/specs": specDir,
		"/var/lib/burnwatch":   filepath.Join(dir, "agent"),
		"0.0.0.0:4317":         "127.0.0.1:" + agGRPC,
		"0.0.0.0:4318":         "127.0.0.1:" + agHTTP,
		"0.0.0.0:9464":         "127.0.0.1:" + agAPI,
		"port: 8888":           "port: " + freePort(t),
		"burnwatch-gateway.burnwatch.svc.cluster.local:4317": "127.0.0.1:" + gwGRPC,
	})

	for _, d := range []*process{gateway, agent} {
		d.waitFor(t, "/-/ready", func(status int, _ string) bool { return status == http.StatusOK })
		d.waitFor(t, "/-/healthy", func(status int, _ string) bool { return status == http.StatusOK })
	}

	now := time.Now()
	spans := []string{
		span(0, now, "shop", "/checkout/pay", "", false),
		span(1, now, "shop", "/checkout/pay", "", true),
		span(2, now, "shop", "/checkout/cart", "", false),
		// Unmatched, with a client's claim to the login flow.
		span(3, now, "shop", "/about", "login", false),
	}
	body := `{"resourceSpans":[` + strings.Join(spans, ",") + `]}`
	if status, b := postJSON(t, "http://127.0.0.1:"+agHTTP+"/v1/traces", body); status != http.StatusOK {
		t.Fatalf("POST /v1/traces to the agent: %d %s", status, b)
	}

	gateway.waitFor(t, "/metrics", func(status int, page string) bool {
		return sample(page, `burnwatch_flow_events_total{flow="checkout"}`) == 3 &&
			sample(page, `burnwatch_flow_errors_total{flow="checkout"}`) == 1
	})
	page := gateway.get(t, "/metrics")
	if n := sample(page, `burnwatch_flow_events_total{flow="login"}`); n > 0 {
		t.Errorf("the gateway counted %v login events: a client's burnwatch.flow passed the agent", n)
	}
	// The gateway takes OTLP metrics on its OTLP port too (for metric SLOs).
	metricsBody := `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"cart.requests",` +
		`"sum":{"aggregationTemporality":1,"isMonotonic":true,"dataPoints":[{"asInt":"3","timeUnixNano":"1"}]}}]}]}]}`
	if status, b := postJSON(t, "http://127.0.0.1:"+gwHTTP+"/v1/metrics", metricsBody); status != http.StatusOK {
		t.Errorf("POST /v1/metrics to the gateway: %d %s", status, b)
	}
	if n := sample(gateway.get(t, "/metrics"), `burnwatch_metric_points_total{outcome="unused"}`); n != 1 {
		t.Errorf("the gateway's metric SLI runtime saw %v unused points, want the 1 sent", n)
	}
	agentPage := agent.get(t, "/metrics")
	if n := sample(agentPage, `burnwatch_spans_classified_total{flow="checkout"}`); n != 3 {
		t.Errorf("the agent classified %v checkout spans, want 3", n)
	}
	if n := sample(agentPage, `burnwatch_flow_events_total{flow="checkout"}`); n > 0 {
		t.Errorf("the agent counted %v checkout events itself; only the gateway should", n)
	}
}

// postJSON posts an OTLP/JSON body and returns the answer's status and
// body.
func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// span is one resourceSpans element of OTLP/JSON: server span n of
// service on route, ending now.
func span(n int, now time.Time, service, route, flowClaim string, failed bool) string {
	attrs := fmt.Sprintf(`{"key":"http.route","value":{"stringValue":%q}}`, route)
	if flowClaim != "" {
		attrs += fmt.Sprintf(`,{"key":"burnwatch.flow","value":{"stringValue":%q}}`, flowClaim)
	}
	status := `{}`
	if failed {
		status = `{"code":2}`
	}
	return fmt.Sprintf(`{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":%q}}]},`+
		`"scopeSpans":[{"spans":[{"traceId":"%032x","spanId":"%016x","name":"GET","kind":2,`+
		`"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":[%s],"status":%s}]}]}`,
		service, n+1, n+1, now.Add(-20*time.Millisecond).UnixNano(), now.UnixNano(), attrs, status)
}

// sample is the value of a series on a /metrics page, or -1.
func sample(page, series string) float64 {
	sc := bufio.NewScanner(strings.NewReader(page))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// process is a running burnwatch.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	api    string // the HTTP endpoint, host:port
	mu     sync.Mutex
	output bytes.Buffer
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.Write(b)
}

func (p *process) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// startFromManifest starts burnwatch on a config from the manifests with
// the replacements made, each of which must apply, and stops it when the
// test ends.
func startFromManifest(t *testing.T, cfg string, replace map[string]string, env ...string) *process {
	t.Helper()
	p := &process{}
	for from, to := range replace {
		if !strings.Contains(cfg, from) {
			t.Fatalf("the config no longer has %q; update this test:\n%s", from, cfg)
		}
		cfg = strings.ReplaceAll(cfg, from, to)
		if from == "0.0.0.0:9464" {
			p.api = to
		}
	}
	file := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(binary, "--config="+file)
	p.cmd.Env = append(baseEnv(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	p.exited = exited
	go func() { _ = p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("burnwatch --config=%s:\n%s", filepath.Base(file), p.log())
		}
	})
	return p
}

func (p *process) get(t *testing.T, path string) string {
	t.Helper()
	_, body, err := p.fetch(path)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func (p *process) fetch(path string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+p.api+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitFor polls path until ok holds, for at most a minute: the daemons run
// on the wall clock, with the manifests' own intervals.
func (p *process) waitFor(t *testing.T, path string, ok func(status int, body string) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last string
	for range tick.C {
		status, body, err := p.fetch(path)
		if err == nil && ok(status, body) {
			return
		}
		last = fmt.Sprintf("%d %v", status, err)
		if time.Now().After(deadline) {
			t.Fatalf("GET %s on %s: not as expected within a minute (last: %s)", path, p.api, last)
		}
		select {
		case <-p.exited:
			t.Fatalf("burnwatch exited:\n%s", p.log())
		default:
		}
	}
}
