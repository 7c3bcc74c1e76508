package slack

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
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/confmap"
	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/alerting/notify/notifytest"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// secretPath is a Slack webhook URL's path: the token must never show up
// in errors or formatted output.
const secretPath = "/services/T0000/B0000/tok-s3cr3t"

func testConfig(base string) Config {
	return Config{Name: "team-slack", URL: notify.Secret(base + secretPath), ExternalURL: "https://burnwatch.example.com/slos"}
}

func assertNoSecret(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, "s3cr3t") {
		t.Errorf("secret leaked: %s", s)
	}
}

// recorder is an httptest handler answering with a scripted response (else
// 200 "ok", as Slack does) and keeping what it received.
type recorder struct {
	mu       sync.Mutex
	respond  func(http.ResponseWriter)
	requests []recorded
}

type recorded struct {
	header http.Header
	body   []byte
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, recorded{header: req.Header.Clone(), body: body})
	if r.respond != nil {
		r.respond(w)
		return
	}
	io.WriteString(w, "ok")
}

func (r *recorder) Requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.requests...)
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

// post sends m to a new recorder server through a Notifier of cfg(srv.URL).
func post(t *testing.T, rec *recorder, m *notify.Message) ([]recorded, error) {
	t.Helper()
	srv := httptest.NewServer(rec)
	defer srv.Close()
	n, err := New(testConfig(srv.URL), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), m)
	return rec.Requests(), err
}

func TestNotifyGolden(t *testing.T) {
	tests := []struct {
		golden string
		msg    *notify.Message
		color  string
	}{
		{"notification.golden.json", notify.NewMessage(notifytest.Notification("team-slack"), nil), colorPage},
		{"all_resolved.golden.json", notify.NewMessage(notifytest.AllResolved("team-slack"), nil), colorResolved},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			reqs, err := post(t, &recorder{}, tt.msg)
			if err != nil {
				t.Fatalf("Notify = %v", err)
			}
			if len(reqs) != 1 {
				t.Fatalf("got %d requests, want 1 for the whole group", len(reqs))
			}
			if ct := reqs[0].header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			checkGolden(t, tt.golden, reqs[0].body)
			if p := checkBlocks(t, reqs[0].body); p.Attachments[0].Color != tt.color {
				t.Errorf("color %v, want %s", p.Attachments[0].Color, tt.color)
			}
		})
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

func TestNotifyClassifiesResponses(t *testing.T) {
	tests := []struct {
		name      string
		respond   func(http.ResponseWriter)
		wantErr   bool
		retryable bool
		after     time.Duration
		text      string
	}{
		{name: "200 ok", respond: respond(200, nil, "ok")},
		{name: "400 invalid_payload", respond: respond(400, nil, "invalid_payload"), wantErr: true, text: `400 Bad Request: "invalid_payload"`},
		{name: "403 action_prohibited", respond: respond(403, nil, "action_prohibited"), wantErr: true, text: `403 Forbidden: "action_prohibited"`},
		{name: "404 channel_not_found", respond: respond(404, nil, "channel_not_found"), wantErr: true, text: `404 Not Found: "channel_not_found"`},
		{name: "410 channel_is_archived", respond: respond(410, nil, "channel_is_archived"), wantErr: true, text: `410 Gone: "channel_is_archived"`},
		{name: "429 retry after", respond: respond(429, map[string]string{"Retry-After": "30"}, "rate_limited"), wantErr: true, retryable: true, after: 30 * time.Second, text: `429 Too Many Requests: "rate_limited"`},
		{name: "500 rollup_error", respond: respond(500, nil, "rollup_error"+strings.Repeat("x", 10_000)), wantErr: true, retryable: true, text: "500 Internal Server Error"},
		{name: "302 not followed", respond: respond(302, map[string]string{"Location": "/elsewhere" + secretPath}, ""), wantErr: true, retryable: true, text: "302 Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{respond: tt.respond}
			reqs, err := post(t, rec, notify.NewMessage(notifytest.Notification("team-slack"), nil))
			if len(reqs) != 1 {
				t.Errorf("%d requests, want 1 (redirects are not followed)", len(reqs))
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("Notify = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			var de *notify.DeliveryError
			if !errors.As(err, &de) || de.Retryable != tt.retryable {
				t.Fatalf("Notify = %v, want a DeliveryError retryable=%v", err, tt.retryable)
			}
			if de.RetryAfter != tt.after {
				t.Errorf("RetryAfter = %v, want %v", de.RetryAfter, tt.after)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) || !strings.Contains(msg, "post to http://127.0.0.1") || len(msg) > 400 {
				t.Errorf("error %q: want it to name the host, contain %q and stay short", msg, tt.text)
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
	err = n.Notify(context.Background(), notify.NewMessage(notifytest.Notification("team-slack"), nil))
	if retryable, _ := notify.IsRetryable(err); err == nil || !retryable {
		t.Fatalf("Notify = %v, want a retryable error", err)
	}
	assertNoSecret(t, err.Error())
}

func TestNotifyTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never answers on its own
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
	start := time.Now()
	err = n.Notify(context.Background(), notify.NewMessage(notifytest.Notification("team-slack"), nil))
	if retryable, _ := notify.IsRetryable(err); !retryable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Notify = %v, want a retryable deadline error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Notify returned after %v, want about the 50ms timeout", d)
	}
	assertNoSecret(t, err.Error())
}

func TestNotifyNothingToSend(t *testing.T) {
	rec := &recorder{}
	n := notifytest.Notification("team-slack")
	n.Alerts = nil
	reqs, err := post(t, rec, notify.NewMessage(n, nil))
	if err != nil || len(reqs) != 0 {
		t.Errorf("Notify = %v with %d requests, want nil and none", err, len(reqs))
	}
}

func TestSecretsNeverFormatted(t *testing.T) {
	cfg := testConfig("https://hooks.slack.com")
	n, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{cfg, &cfg, n} {
			out := fmt.Sprintf(verb, v)
			assertNoSecret(t, out)
			if !strings.Contains(out, "hooks.slack.com") {
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
	assertNoSecret(t, string(b))
}

func TestConfigCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no external url", func(c *Config) { c.ExternalURL = "" }, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url: must be set"},
		{"no url, bad timeout", func(c *Config) { c.URL, c.Timeout = "", -time.Second }, "url: must be set\ntimeout: -1s is negative"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://h.example.com/x-s3cr3t" }, "url: want http:// or https:// with a host, got ftp://h.example.com/[REDACTED]"},
		{"no host", func(c *Config) { c.URL = "/services/x-s3cr3t" }, "url: want http:// or https:// with a host, got [REDACTED]"},
		{"unparsable", func(c *Config) { c.URL = "https://h.example.com/%zz-s3cr3t" }, "url: [REDACTED] is not a valid URL"},
		{"external url", func(c *Config) { c.ExternalURL = "burnwatch.example.com" }, "external_url: want http:// or https:// with a host, got burnwatch.example.com"},
		{"timeout", func(c *Config) { c.Timeout = -time.Second }, "timeout: -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://h.example.com")
			tt.edit(&cfg)
			err := cfg.Check()
			if tt.want == "" {
				if err != nil {
					t.Errorf("Check = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
			if err != nil {
				assertNoSecret(t, err.Error())
			}
			if _, nerr := New(cfg, nil); nerr == nil || !strings.Contains(nerr.Error(), `slack "team-slack": `+tt.want) {
				t.Errorf("New = %v, want the Check error", nerr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	n, err := New(Config{URL: "https://h.example.com/x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.Name() != DefaultName || n.cfg.Timeout != DefaultTimeout {
		t.Errorf("name %q timeout %v, want %q and %v", n.Name(), n.cfg.Timeout, DefaultName, DefaultTimeout)
	}
}

// TestConfigUnmarshal decodes a config as the collector does, by its
// mapstructure keys.
func TestConfigUnmarshal(t *testing.T) {
	var cfg Config
	err := confmap.NewFromStringMap(map[string]any{
		"name": "oncall", "url": "https://h.example.com" + secretPath,
		"external_url": "https://burnwatch.example.com", "timeout": "5s",
	}).Unmarshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "oncall", URL: notify.Secret("https://h.example.com" + secretPath),
		ExternalURL: "https://burnwatch.example.com", Timeout: 5 * time.Second}
	if cfg != want {
		t.Errorf("got %v, want %v", cfg, want)
	}
	if err := cfg.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
}
