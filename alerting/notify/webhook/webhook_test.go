package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/slo"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The secrets below must never show up in errors or formatted output.
const (
	secretToken  = "tok-s3cr3t"
	secretHeader = "key-s3cr3t"
	secretPath   = "/hooks/path-s3cr3t"
)

func checkoutStatus(firing ...string) slo.Status {
	spec := &slo.Spec{
		Name:        "checkout-availability",
		Labels:      map[string]string{"team": "payments"},
		Description: "Checkout requests succeed.",
		Flow:        "checkout",
		Objective:   slo.Availability,
		Target:      0.999,
		Period:      slo.DefaultPeriod,
		Tiers:       slo.DefaultTiers(slo.DefaultPeriod),
		Runbook:     "https://runbooks.example.com/checkout",
		Dashboard:   "https://grafana.example.com/d/checkout",
	}
	st := slo.Status{
		SLO:        spec,
		Period:     slo.WindowStats{Window: spec.Period, Total: 1_000_000, Bad: 27},
		BudgetLeft: 0.973,
		Exemplars:  []slo.Exemplar{{TraceID: [16]byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}}},
	}
	on := map[string]bool{}
	for _, f := range firing {
		on[f] = true
	}
	for _, tier := range spec.Tiers {
		ts := slo.TierStatus{
			Tier:      tier,
			Long:      slo.WindowStats{Window: tier.Long, Total: 10_000, Bad: 5, Burn: 0.5},
			Short:     slo.WindowStats{Window: tier.Short, Total: 1_000, Bad: 0, Burn: 0},
			Enough:    true,
			Exemplars: st.Exemplars, // inside every tier's long window
		}
		if on[tier.Name] {
			ts.Long.Bad, ts.Long.Burn = 201, 20.1
			ts.Short.Bad, ts.Short.Burn = 35, 35.2
			ts.Firing = true
		}
		st.Tiers = append(st.Tiers, ts)
	}
	return st
}

// batch is the group notification of checkout-availability after page-fast
// resolved while page-slow and ticket-fast fire, made by a real Manager.
func batch(t *testing.T) *notify.Message {
	t.Helper()
	m := alerting.NewManager(alerting.DefaultOptions())
	if ns := m.Update(t0, []slo.Status{checkoutStatus("page-fast", "page-slow", "ticket-fast")}); len(ns) != 3 {
		t.Fatalf("got %d firing transitions, want 3", len(ns))
	}
	resolved := m.Update(t0.Add(10*time.Minute), []slo.Status{checkoutStatus("page-slow", "ticket-fast")})
	if len(resolved) != 1 {
		t.Fatalf("got %d resolved transitions, want 1", len(resolved))
	}
	return group(append([]alerting.Alert{resolved[0].Alert}, m.Firing()...))
}

// group is the notification of alerts under the root route, grouped by SLO.
func group(alerts []alerting.Alert) *notify.Message {
	labels := map[string]string{"slo": alerts[0].SLO}
	return notify.NewMessage(&alerting.Notification{ID: "n-1", Receiver: "team-hook", GroupKey: alerting.GroupKey(labels),
		GroupLabels: labels, Alerts: alerts, At: t0.Add(10 * time.Minute)}, nil)
}

// recorder is an httptest handler answering with scripted statuses (then
// 200) and keeping what it received. It uses a mutex rather than channels so
// it can serve a synctest bubble from outside it.
type recorder struct {
	mu        sync.Mutex
	responses []func(http.ResponseWriter)
	requests  []recorded
}

type recorded struct {
	header http.Header
	body   []byte
	status int
	at     time.Time
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	var respond func(http.ResponseWriter)
	if len(r.responses) > 0 {
		respond, r.responses = r.responses[0], r.responses[1:]
	}
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if respond != nil {
		respond(rw)
	}
	r.requests = append(r.requests, recorded{header: req.Header.Clone(), body: body, status: rw.status, at: time.Now()})
	r.mu.Unlock()
}

func (r *recorder) Requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func respond(code int, header map[string]string, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

func testConfig(url string) Config {
	return Config{
		Name:        "team-hook",
		URL:         url + secretPath + "?token=q-s3cr3t",
		Headers:     map[string]notify.Secret{"X-Api-Key": secretHeader},
		BearerToken: secretToken,
		MaxAlerts:   2,
		ExternalURL: "https://burnwatch.example.com",
	}
}

func TestPayloadGolden(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n, err := New(testConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), batch(t)); err != nil {
		t.Fatalf("Notify = %v", err)
	}
	reqs := rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	h := reqs[0].header
	for name, want := range map[string]string{
		"Content-Type":  "application/json",
		"Authorization": "Bearer " + secretToken,
		"X-Api-Key":     secretHeader,
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}

	checkGolden(t, "payload.golden.json", reqs[0].body)

	// The points of the golden file that matter, checked on their own.
	var msg Message
	if err := json.Unmarshal(reqs[0].body, &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Version != "4" || msg.Status != "firing" || msg.TruncatedAlerts != 1 || len(msg.Alerts) != 2 ||
		msg.Receiver != "team-hook" || msg.GroupKey != `{}:{slo="checkout-availability"}` {
		t.Errorf("message header %+v", msg)
	}
	// Two of three kept: the firing ones, so the receiver sees what burns.
	for i, tier := range []string{"page-slow", "ticket-fast"} {
		if a := msg.Alerts[i]; a.Status != "firing" || !a.EndsAt.IsZero() || a.Annotations["runbook_url"] == "" || a.Labels["tier"] != tier {
			t.Errorf("alert %d %+v, want %s firing with zero endsAt", i, a, tier)
		}
	}
	if h.Get(HeaderDelivery) != "n-1" || h.Get(HeaderSignature) != "" {
		t.Errorf("delivery id %q, signature %q: want n-1 and none without a secret", h.Get(HeaderDelivery), h.Get(HeaderSignature))
	}
	if msg.CommonLabels["slo"] != "checkout-availability" || msg.CommonLabels["tier"] != "" {
		t.Errorf("commonLabels %v", msg.CommonLabels)
	}
}

// checkGolden compares the indented JSON body with testdata/name (go test
// -update rewrites it).
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var got bytes.Buffer
	if err := json.Indent(&got, body, "", "  "); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	got.WriteByte('\n')
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("payload differs from %s (go test -update rewrites it):\n%s", golden, got.Bytes())
	}
}

// TestPayloadGoldenConditions sends one alert of each condition kind of a
// calendar-month SLO, as a real Manager makes them: a budget alert that
// resolved when a new month started, and firing exhaustion and no-data
// alerts.
func TestPayloadGoldenConditions(t *testing.T) {
	st := checkoutStatus()
	st.SLO.Calendar = &slo.Calendar{Unit: slo.Month}
	// The exhaustion numbers hold for a whole budget: at 39.27x, 30d of
	// budget lasts 18h 20m.
	conds := func(consumed float64) []slo.ConditionStatus {
		return []slo.ConditionStatus{
			{Name: "budget-50", Kind: slo.BudgetConsumed, Severity: slo.Ticket, Firing: consumed >= 0.5, Value: consumed, Threshold: 0.5,
				Exemplars: st.Exemplars},
			{Name: "exhaustion-1d", Kind: slo.Exhaustion, Severity: slo.Page, Firing: true,
				Value: (18*time.Hour + 20*time.Minute).Seconds(), Threshold: 86400, Window: time.Hour, Burn: 39.27,
				Exemplars: st.Exemplars},
			{Name: "no-data", Kind: slo.NoData, Severity: slo.Ticket, Firing: true, Value: 720, Threshold: 600},
		}
	}
	m := alerting.NewManager(alerting.DefaultOptions())
	st.Conditions = conds(0.523)
	if ns := m.Update(t0, []slo.Status{st}); len(ns) != 3 {
		t.Fatalf("got %d firing transitions, want 3", len(ns))
	}
	// A new month: nothing spent yet.
	st.Conditions, st.BudgetLeft = conds(0), 1
	ts := m.Update(t0.Add(10*time.Minute), []slo.Status{st})
	if len(ts) != 1 || ts[0].Alert.State != alerting.StateResolved {
		t.Fatalf("got %+v, want budget-50 resolved", ts)
	}
	ns := group(append([]alerting.Alert{ts[0].Alert}, m.Firing()...))

	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.MaxAlerts = 0
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), ns); err != nil {
		t.Fatalf("Notify = %v", err)
	}
	reqs := rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	checkGolden(t, "payload_conditions.golden.json", reqs[0].body)

	var msg Message
	if err := json.Unmarshal(reqs[0].body, &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Alerts) != 3 {
		t.Fatalf("got %d alerts, want 3", len(msg.Alerts))
	}
	for i, want := range []struct{ status, alertname, tier, severity, descr string }{
		{"resolved", "SLOErrorBudgetConsumed", "budget-50", "ticket", "checkout-availability has spent 0.0% of its month's error budget, below the 50% threshold"},
		{"firing", "SLOErrorBudgetExhaustion", "exhaustion-1d", "page", "checkout-availability will exhaust its error budget in 18h 20m at the 1h burn rate 39.3x (alert within 1d)"},
		{"firing", "SLONoData", "no-data", "ticket", "checkout has sent no events for 12m (alert after 10m)"},
	} {
		a := msg.Alerts[i]
		if a.Status != want.status || a.Labels["alertname"] != want.alertname || a.Labels["tier"] != want.tier ||
			a.Labels["severity"] != want.severity || a.Annotations["description"] != want.descr {
			t.Errorf("alert %d: status %s labels %v description %q, want %+v", i, a.Status, a.Labels, a.Annotations["description"], want)
		}
	}
	if msg.CommonLabels["alertname"] != "" || msg.CommonAnnotations["period"] != "month" {
		t.Errorf("commonLabels %v commonAnnotations %v", msg.CommonLabels, msg.CommonAnnotations)
	}
}

func TestNotifyClassifiesResponses(t *testing.T) {
	tests := []struct {
		name      string
		respond   func(http.ResponseWriter)
		wantErr   bool
		retryable bool
		after     time.Duration
		text      string
	}{
		{name: "200", respond: respond(200, nil, "")},
		{name: "204", respond: respond(204, nil, "")},
		{name: "429 seconds", respond: respond(429, map[string]string{"Retry-After": "30"}, "rate limited"), wantErr: true, retryable: true, after: 30 * time.Second, text: `429 Too Many Requests: "rate limited"`},
		{name: "503 date", respond: respond(503, map[string]string{"Retry-After": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, ""), wantErr: true, retryable: true, text: "503 Service Unavailable"},
		{name: "500", respond: respond(500, nil, strings.Repeat("x", 10_000)), wantErr: true, retryable: true, text: "500 Internal Server Error"},
		{name: "408", respond: respond(408, nil, ""), wantErr: true, retryable: true, text: "408"},
		{name: "400", respond: respond(400, nil, `{"error":"bad alert"}`), wantErr: true, text: `400 Bad Request: "{\"error\":\"bad alert\"}"`},
		{name: "401", respond: respond(401, nil, ""), wantErr: true, text: "401 Unauthorized"},
		{name: "302 not followed", respond: respond(302, map[string]string{"Location": "/elsewhere"}, ""), wantErr: true, retryable: true, text: "302 Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{responses: []func(http.ResponseWriter){tt.respond}}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			n, err := New(testConfig(srv.URL), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), batch(t))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Notify = %v, want error %v", err, tt.wantErr)
			}
			if len(rec.Requests()) != 1 {
				t.Errorf("%d requests, want 1", len(rec.Requests()))
			}
			if err == nil {
				return
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Retryable != tt.retryable {
				t.Fatalf("Notify = %v, want a DeliveryError retryable=%v", err, tt.retryable)
			}
			if tt.after > 0 && de.RetryAfter != tt.after {
				t.Errorf("RetryAfter = %v, want %v", de.RetryAfter, tt.after)
			}
			if tt.name == "503 date" && (de.RetryAfter < 59*time.Minute || de.RetryAfter > time.Hour) {
				t.Errorf("RetryAfter = %v, want about 1h", de.RetryAfter)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) || len(msg) > 400 {
				t.Errorf("error %q: want it to contain %q and stay short", msg, tt.text)
			}
			assertNoSecret(t, msg)
		})
	}
}

func TestNotifyNetworkErrorIsRetryable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more
	n, err := New(testConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), batch(t))
	if retryable, _ := notify.IsRetryable(err); err == nil || !retryable {
		t.Fatalf("Notify = %v, want a retryable error", err)
	}
	assertNoSecret(t, err.Error())
	if !strings.Contains(err.Error(), "post to http://127.0.0.1") {
		t.Errorf("error %q does not say where it posted", err)
	}
}

func TestNotifyTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	cfg := testConfig(srv.URL)
	cfg.Timeout = 50 * time.Millisecond
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), batch(t))
	if retryable, _ := notify.IsRetryable(err); !retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify = %v, want a retryable deadline error", err)
	}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "s3cr3t") {
		t.Errorf("secret leaked: %s", s)
	}
}

func TestSecretsNeverFormatted(t *testing.T) {
	cfg := testConfig("https://hooks.example.com")
	cfg.URL = "https://user:pw-s3cr3t@hooks.example.com" + secretPath + "?token=q-s3cr3t"
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{cfg, &cfg, n} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, out)
			if !strings.Contains(out, "hooks.example.com") {
				t.Errorf("%s of %T = %q, want the host shown", verb, v, out)
			}
		}
	}
	for _, s := range []string{cfg.String(), cfg.GoString(), n.String()} {
		assertNoSecret(t, s)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// JSON keeps the URL (it is configuration to round-trip) but not the
	// token or header values.
	if strings.Contains(string(b), secretToken) || strings.Contains(string(b), secretHeader) {
		t.Errorf("json leaks a secret: %s", b)
	}
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url: must be set"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://h.example.com/x-s3cr3t" }, "url: want http:// or https://"},
		{"unparsable", func(c *Config) { c.URL = "http://h.example.com/%zz-s3cr3t" }, "url: is not a valid URL"},
		{"header name", func(c *Config) { c.Headers = map[string]notify.Secret{"Bad Name": "x"} }, `headers: "Bad Name" is not a valid header name`},
		{"header value", func(c *Config) { c.Headers = map[string]notify.Secret{"X-Key": "a-s3cr3t\r\nInjected: 1"} }, `headers: value of "X-Key" contains a line break`},
		{"authorization twice", func(c *Config) { c.Headers = map[string]notify.Secret{"authorization": "Basic x"} }, "Authorization is set twice"},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout: -1s is negative"},
		{"max alerts", func(c *Config) { c.MaxAlerts = -1 }, "max_alerts: -1 is negative"},
		{"short hmac secret", func(c *Config) { c.HMACSecret = "s3cr3t" }, "hmac_secret: use at least 16 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://hooks.example.com")
			tt.edit(&cfg)
			err := cfg.Check()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
			if err != nil {
				assertNoSecret(t, err.Error())
			}
			if _, nerr := New(cfg, nil); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

func TestPayloadEdgeCases(t *testing.T) {
	n, err := New(Config{URL: "http://hooks.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name() != DefaultName {
		t.Errorf("Name() = %q, want %q", n.Name(), DefaultName)
	}
	m := batch(t)
	// Status is firing when a truncated alert fires; firing alerts are kept.
	n.cfg.MaxAlerts = 1
	if p := n.Payload(m); p.Status != "firing" || len(p.Alerts) != 1 || p.Alerts[0].Status != "firing" || p.TruncatedAlerts != 2 {
		t.Errorf("truncated payload: status %s, %d alerts, %d truncated", p.Status, len(p.Alerts), p.TruncatedAlerts)
	}
	n.cfg.MaxAlerts = 0
	// Only resolved: the group is resolved.
	if p := n.Payload(group(m.Alerts[:1])); p.Status != "resolved" {
		t.Errorf("status %s, want resolved", p.Status)
	}
	b, err := json.Marshal(n.Payload(notify.NewMessage(&alerting.Notification{Alerts: []alerting.Alert{{State: alerting.StateFiring}}}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"groupLabels":{}`, `"commonLabels":{}`, `"labels":{}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("payload %s lacks %s (objects, never null)", b, want)
		}
	}
}

// TestSignature: with an hmac_secret each request carries a signature a
// receiver can check with the same secret over the exact body.
func TestSignature(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	cfg := testConfig(srv.URL)
	cfg.HMACSecret = "0123456789abcdef-s3cr3t"
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), batch(t)); err != nil {
		t.Fatal(err)
	}
	r := rec.Requests()[0]
	sig := r.header.Get(HeaderSignature)
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("signature %q has no timestamp", sig)
	}
	if want := Sign(string(cfg.HMACSecret), time.Unix(sec, 0), r.body); sig != want {
		t.Errorf("signature %q, want %q", sig, want)
	}
	if Sign("another-secret-0123456789", time.Unix(sec, 0), r.body) == sig {
		t.Error("another secret gives the same signature")
	}
	assertNoSecret(t, sig)
}
