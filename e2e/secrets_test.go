package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// quoting answers status with a body that quotes the request back, as
// many gateways and frameworks do in their error pages ("Cannot POST
// /path"): the path and query, the credentials it came with, and the start
// of its body.
func quoting(status int) func(int, *http.Request) answer {
	return func(_ int, r *http.Request) answer {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 120))
		return answer{status: status, body: fmt.Sprintf("Cannot POST %s (authorization %q, x-api-key %q): %s",
			r.URL.RequestURI(), r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"), body)}
	}
}

// script answers the n-th request with steps[n-1], and accepts the rest.
func script(steps ...func(int, *http.Request) answer) func(int, *http.Request) answer {
	return func(n int, r *http.Request) answer {
		if n <= len(steps) {
			return steps[n-1](n, r)
		}
		return accept(n, r)
	}
}

// TestSecretsStayOutOfOutput configures a PagerDuty routing key; a
// webhook with a bearer token, a secret header, an HMAC secret and a token
// in both its URL's path and query; and Teams and Slack URLs with their
// tokens in the path. Every receiver fails every way a receiver can (503,
// 302, no answer within the 1 s timeout, 401), each error page quoting the
// request back (path, query, credentials, body) as many gateways and
// frameworks do, then recovers; the daemon is stopped, restarted, killed
// and restarted with notifications pending. No secret appears in standard
// output or error of any run, on /metrics, in the alert history or in any
// file of the data directory (compressed ones decompressed).
func TestSecretsStayOutOfOutput(t *testing.T) {
	secrets := map[string]string{
		"routing key":   "pdKey0Secret0aaaabbbbccccdddd0e2", // 32 characters, as PagerDuty's
		"bearer token":  "bearer-5ecret-9f8e7d6c",
		"path token":    "path-5ecret-1a2b3c4d",
		"query token":   "query-5ecret-4d5e6f7a",
		"header value":  "header-5ecret-7a8b9c0d",
		"hmac secret":   "hmac-5ecret-0f1e2d3c4b",
		"teams token":   "teams-5ecret-2b3c4d5e",
		"slack token":   "slack-5ecret-6f7a8b9c",
		"redirect hint": "location-5ecret-5e6f7a8b",
	}
	receivers := []string{"pagerduty", "hook", "teams", "slack"}
	paths := map[string]string{
		"pagerduty": "/v2/enqueue",
		"hook":      "/hooks/" + secrets["path token"] + "?token=" + secrets["query token"],
		"teams":     "/webhookb2/" + secrets["teams token"] + "/IncomingWebhook",
		"slack":     "/services/T0/B0/" + secrets["slack token"],
	}
	sinks := map[string]*sink{}
	for _, r := range receivers {
		s := newSink(t)
		sep := "?"
		if strings.Contains(paths[r], "?") {
			sep = "&"
		}
		s.set(script(quoting(http.StatusServiceUnavailable), redirectTo(s.url(paths[r]+sep+"moved="+secrets["redirect hint"])),
			hang, quoting(http.StatusUnauthorized)))
		sinks[r] = s
	}

	data := t.TempDir()
	cfg := &daemonConfig{specs: steadySpecs(1), dataDir: data, alerting: fmt.Sprintf(`      receivers:
        - name: pagerduty
          http: {timeout: 1s}
          pagerduty: {routing_key: %q, url: %q}
        - name: hook
          http: {timeout: 1s}
          webhook:
            url: %q
            bearer_token: %q
            headers: {X-Api-Key: %q}
            hmac_secret: %q
        - {name: teams, http: {timeout: 1s}, teams: {url: %q}}
        - {name: slack, http: {timeout: 1s}, slack: {url: %q}}
`, secrets["routing key"], sinks["pagerduty"].url(paths["pagerduty"]), sinks["hook"].url(paths["hook"]), secrets["bearer token"],
		secrets["header value"], secrets["hmac secret"], sinks["teams"].url(paths["teams"]), sinks["slack"].url(paths["slack"])) + quickDelivery}
	var runs []*daemon
	start := func() *daemon {
		d := startDaemonWith(t, cfg)
		runs = append(runs, d)
		return d
	}
	d := start()
	exp := newExporter(t, d.grpc)
	rng := rand.New(rand.NewPCG(6, 6))
	every := func(pred func(receiver string) bool) bool {
		for _, r := range receivers {
			if !pred(r) {
				return false
			}
		}
		return true
	}
	deadLetters := func(receiver string) float64 {
		return metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_notifications_dead_letter_total{receiver=%q}`, receiver))
	}
	delivered := func(receiver string, n int) bool {
		c := 0
		for _, r := range sinks[receiver].requests() {
			if r.delivered() {
				c++
			}
		}
		return c >= n
	}

	// Fire: 503, 302, a hang past the 1 s timeout, then 401 dead-letters
	// the notification; its resolution is accepted.
	exp.send(t, batch(rng, 30, true))
	if !waitUntil(time.Now().Add(10*time.Second), func() bool { return every(func(r string) bool { return deadLetters(r) == 1 }) }) {
		t.Fatalf("the failing script did not end in a dead letter at each receiver:\n%s", scrape(t, d.metrics))
	}
	// Healthy spans, as a recovered service sends them, until the
	// resolution is accepted.
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		exp.send(t, batch(rng, 30, false))
		return every(func(r string) bool { return delivered(r, 1) })
	}) {
		t.Fatal("the resolution was not delivered everywhere")
	}

	// Fire again at receivers that fail: pending through a stop, a start,
	// a kill -9 and a start, then accepted.
	for _, r := range receivers {
		sinks[r].set(quoting(http.StatusBadGateway))
	}
	if !waitUntil(time.Now().Add(8*time.Second), func() bool {
		exp.send(t, batch(rng, 60, true))
		return metricValue(t, d.metrics, "burnwatch_alerts_firing") == 1
	}) {
		t.Fatal("the second outage did not fire")
	}
	if !waitUntil(time.Now().Add(5*time.Second), func() bool {
		return every(func(r string) bool {
			return metricValue(t, d.metrics, fmt.Sprintf(`burnwatch_notification_attempts_total{receiver=%q,outcome="retry"}`, r)) >= 1
		})
	}) {
		t.Fatal("the second firing was not attempted at every receiver")
	}
	d.stop()
	d = start()
	d.kill()
	d = start()
	for _, r := range receivers {
		sinks[r].set(accept)
	}
	if !waitUntil(time.Now().Add(5*time.Second), func() bool { return every(func(r string) bool { return delivered(r, 2) }) }) {
		t.Fatal("the second firing was not delivered everywhere after the restarts")
	}
	metrics := scrape(t, d.metrics)
	// A SIGHUP reopens the history; a last stop writes a checkpoint.
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.stop()
	pd, hook := sinks["pagerduty"], sinks["hook"]

	// The secrets were in use: the receivers got them.
	var sawBearer, sawHeader, sawKey, sawSignature bool
	for _, r := range hook.requests() {
		sawBearer = sawBearer || r.header.Get("Authorization") == "Bearer "+secrets["bearer token"]
		sawHeader = sawHeader || r.header.Get("X-Api-Key") == secrets["header value"]
		sawSignature = sawSignature || r.header.Get("X-Burnwatch-Signature") != ""
		if !strings.Contains(r.uri, secrets["path token"]) || !strings.Contains(r.uri, secrets["query token"]) {
			t.Errorf("webhook request to %s, not the configured path and query", r.uri)
		}
	}
	for _, r := range pd.requests() {
		sawKey = sawKey || bytes.Contains(r.body, []byte(secrets["routing key"]))
	}
	if !sawBearer || !sawHeader || !sawKey || !sawSignature {
		t.Fatalf("secrets not in use: bearer %v, header %v, routing key %v, signature %v", sawBearer, sawHeader, sawKey, sawSignature)
	}
	// And the failures were written down: attempts with errors and the
	// dead letters, in the history.
	failures := 0
	for _, r := range historyRecords(t, filepath.Join(data, "history")) {
		if e, _ := r["error"].(string); e != "" {
			failures++
		}
	}
	if failures < 20 {
		t.Errorf("%d history records with an error, want the failures of every receiver (20 at least)", failures)
	}

	places := map[string][]byte{"/metrics": []byte(metrics)}
	for i, r := range runs {
		places[fmt.Sprintf("stdout of run %d", i+1)] = []byte(r.stdout.String())
		places[fmt.Sprintf("stderr of run %d", i+1)] = []byte(r.stderr.String())
	}
	files := readAll(t, data)
	for name, b := range files {
		places["data/"+name] = b
	}
	if len(files) < 4 {
		t.Errorf("only %d files in the data directory: %v", len(files), files)
	}
	var names []string
	for name := range places {
		names = append(names, name)
	}
	sort.Strings(names)
	var whats []string
	for what := range secrets {
		whats = append(whats, what)
	}
	sort.Strings(whats)
	for _, what := range whats {
		var in []string
		excerpt := ""
		for _, place := range names {
			b := places[place]
			if i := bytes.Index(b, []byte(secrets[what])); i >= 0 {
				in = append(in, place)
				if excerpt == "" {
					excerpt = string(b[max(0, i-100):min(len(b), i+len(secrets[what])+20)])
				}
			}
		}
		if len(in) > 0 {
			t.Errorf("the %s is in %s; e.g. %q", what, strings.Join(in, ", "), excerpt)
		}
	}
	t.Logf("searched %d places (%d files of the data directory) for %d secrets", len(places), len(files), len(secrets))
}
