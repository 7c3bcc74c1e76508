package app

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting/silence"
)

// apiServer serves a's handler on a real loopback listener.
func apiServer(t *testing.T, a *App, opts HandlerOptions) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler(opts))
	t.Cleanup(srv.Close)
	return srv.URL
}

func firingApp(t *testing.T, cfg Config) *App {
	t.Helper()
	a := startApp(t, cfg)
	now := time.Now()
	warm(a, now)
	if err := a.observe(now, events(10, "checkout", now, 5, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	return a
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func TestSilencesAPI(t *testing.T) {
	cfg := storedConfig(t.TempDir())
	a := firingApp(t, cfg)
	base := apiServer(t, a, HandlerOptions{})

	now := time.Now()
	body := `{"matchers":[{"name":"slo","value":"checkout-latency","isRegex":false}],"startsAt":"` + now.Format(time.RFC3339) +
		`","endsAt":"` + now.Add(time.Hour).Format(time.RFC3339) + `","createdBy":"test","comment":"maintenance"}`
	resp, err := http.Post(base+"/api/v2/silences", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || created["silenceID"] == "" {
		t.Fatalf("POST silence: %s %v", resp.Status, created)
	}

	var alerts []gettableAlert
	getJSON(t, base+"/api/v2/alerts", &alerts)
	suppressed, active := 0, 0
	for _, al := range alerts {
		switch {
		case al.Labels["slo"] == "checkout-latency" && al.Status.State == "suppressed" && len(al.Status.SilencedBy) == 1:
			suppressed++
		case al.Labels["slo"] == "checkout-availability" && al.Status.State == "active":
			active++
		}
	}
	if suppressed == 0 || active == 0 || suppressed+active != len(alerts)-countInhibited(alerts) {
		t.Errorf("alerts: %d suppressed by the silence, %d active of %d: %+v", suppressed, active, len(alerts), alerts)
	}
	var onlyActive []gettableAlert
	getJSON(t, base+"/api/v2/alerts?silenced=false&inhibited=false&filter="+`slo%3D%22checkout-availability%22`, &onlyActive)
	for _, al := range onlyActive {
		if al.Labels["slo"] != "checkout-availability" || al.Status.State != "active" {
			t.Errorf("filtered alerts hold %+v", al)
		}
	}

	// The silence survives a restart, and expires over the API.
	crash(a)
	b := startApp(t, cfg)
	base = apiServer(t, b, HandlerOptions{})
	var ss []gettableSilence
	getJSON(t, base+"/api/v2/silences", &ss)
	if len(ss) != 1 || ss[0].ID != created["silenceID"] || ss[0].Status.State != silence.StateActive {
		t.Fatalf("silences after a restart: %+v", ss)
	}
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/v2/silence/"+created["silenceID"], nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE silence: %v %v", resp, err)
	}
	getJSON(t, base+"/api/v2/silence/"+created["silenceID"], &ss[0])
	if ss[0].Status.State != silence.StateExpired {
		t.Errorf("after DELETE the silence is %s", ss[0].Status.State)
	}
}

func countInhibited(as []gettableAlert) int {
	n := 0
	for _, a := range as {
		if len(a.Status.InhibitedBy) > 0 && len(a.Status.SilencedBy) == 0 {
			n++
		}
	}
	return n
}

// TestWritesNeedATokenOffLoopback: a write is served on loopback without a
// token, refused on another address without one, and with a token needs it.
func TestWritesNeedATokenOffLoopback(t *testing.T) {
	a := firingApp(t, testConfig())
	post := func(opts HandlerOptions, local string, auth string) int {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/silences", strings.NewReader("{}"))
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: net.ParseIP(local), Port: 9464}))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		a.Handler(opts).ServeHTTP(w, req)
		return w.Code
	}
	for _, tc := range []struct {
		name         string
		token, local string
		auth         string
		want         int
	}{
		{"loopback, no token configured", "", "127.0.0.1", "", http.StatusBadRequest}, // reaches the handler: "{}" is no silence
		{"other address, no token configured", "", "10.1.2.3", "", http.StatusForbidden},
		{"token configured, none sent", "s3cr3t", "127.0.0.1", "", http.StatusUnauthorized},
		{"token configured, wrong one", "s3cr3t", "10.1.2.3", "Bearer nope", http.StatusUnauthorized},
		{"token configured and sent", "s3cr3t", "10.1.2.3", "Bearer s3cr3t", http.StatusBadRequest},
	} {
		if got := post(HandlerOptions{BearerToken: tc.token}, tc.local, tc.auth); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestAmtool drives the real amtool (Debian's prometheus-alertmanager)
// against the daemon's API: it lists the alerts, adds, queries and expires a
// silence.
func TestAmtool(t *testing.T) {
	amtool, err := exec.LookPath("amtool")
	if err != nil {
		t.Skip("amtool not installed (apt-get install prometheus-alertmanager)")
	}
	a := firingApp(t, storedConfig(t.TempDir()))
	base := apiServer(t, a, HandlerOptions{})
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(amtool, append([]string{"--alertmanager.url=" + base}, args...)...)
		cmd.Env = []string{"HOME=" + t.TempDir()} // no ~/.config/amtool
		var stderr strings.Builder
		cmd.Stderr = &stderr // amtool warns there that the versions differ
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("amtool %v: %v\n%s%s", args, err, out, stderr.String())
		}
		return string(out)
	}
	if out := run("alert", "query", "-o", "json"); !strings.Contains(out, `"slo":"checkout-availability"`) {
		t.Errorf("amtool alert query does not list the firing alerts:\n%s", out)
	}
	id := strings.TrimSpace(run("silence", "add", `slo="checkout-latency"`, "--comment=deploy", "--author=amtool-test", "--duration=1h"))
	if len(id) != 36 {
		t.Fatalf("amtool silence add printed %q, want a silence ID", id)
	}
	if out := run("silence", "query", "-o", "json"); !strings.Contains(out, id) || !strings.Contains(out, `"state":"active"`) {
		t.Errorf("amtool silence query does not show %s active:\n%s", id, out)
	}
	if out := run("alert", "query", "-o", "json"); strings.Contains(out, `"slo":"checkout-latency"`) {
		t.Errorf("amtool alert query lists silenced alerts by default:\n%s", out)
	}
	run("silence", "expire", id)
	if out := run("silence", "query", "-o", "json"); strings.Contains(out, id) {
		t.Errorf("amtool silence query still lists the expired silence as active:\n%s", out)
	}
	if s, _ := a.alerts.silences.Get(id); s.State(time.Now()) != silence.StateExpired {
		t.Errorf("silence %s is %s after amtool expired it", id, s.State(time.Now()))
	}
}

func TestHealthAndReadiness(t *testing.T) {
	a, err := New(testConfig(), Settings{})
	if err != nil {
		t.Fatal(err)
	}
	base := apiServer(t, a, HandlerOptions{})
	status := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if h, r := status("/-/healthy"), status("/-/ready"); h != 200 || r != 503 {
		t.Errorf("before Start: healthy %d ready %d, want 200 503", h, r)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := status("/-/ready"); r != 200 {
		t.Errorf("after Start: ready %d, want 200", r)
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := status("/-/ready"); r != 503 {
		t.Errorf("after Shutdown: ready %d, want 503", r)
	}
}
