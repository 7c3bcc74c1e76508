package app

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/burnwatch/burnwatch/slo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEventsBecomeAlertsAndMetrics(t *testing.T) {
	got := make(chan map[string]any, 10)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p map[string]any
		_ = json.NewDecoder(r.Body).Decode(&p)
		got <- p
	}))
	defer hook.Close()
	cfg := testConfig()
	cfg.Alerting.Webhooks = []WebhookConfig{{Name: "hook", URL: hook.URL}}
	a := startApp(t, cfg)

	now := time.Now()
	warm(a, now)
	// 10 checkout events: 3 errors, 2 slow (400 ms > 300 ms threshold), and
	// 4 of a flow no spec defines.
	evs := append(events(10, "checkout", now, 3, 2), events(4, "invented", now, 4, 0)...)
	// Refs as a classifier sets them, and the invented flow's naming
	// checkout's: a Ref is a hint, the name decides.
	i, ok := a.Flows().Classifier().Index("checkout")
	if !ok {
		t.Fatal("no checkout flow")
	}
	for j := range evs[5:] {
		evs[5+j].Ref = uint32(i) + 1
	}
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	a.evaluate(now)
	var statuses []slo.Status
	a.ReadStatuses(func(_ time.Time, st []slo.Status) { statuses = append(statuses, st...) })
	if len(statuses) != 2 {
		t.Fatalf("%d statuses, want the 2 SLOs'", len(statuses))
	}
	if p := statuses[0].Period; p.Total != 10 || p.Bad != 3 {
		t.Errorf("availability period = %d/%d bad/total, want 3/10", p.Bad, p.Total)
	}
	if p := statuses[1].Period; p.Total != 10 || p.Bad != 5 {
		t.Errorf("latency period = %d/%d bad/total, want 5/10 (errors and slow)", p.Bad, p.Total)
	}
	if ex := statuses[0].Exemplars; len(ex) == 0 || ex[0].TraceID[0] != 3 {
		t.Errorf("exemplars = %v, want the newest bad event (trace 03...) first", ex)
	}
	if n, _ := metric(a, "burnwatch_events_unknown_flow_total"); n != 4 {
		t.Errorf("burnwatch_events_unknown_flow_total = %v, want 4", n)
	}
	for _, f := range a.Engine().Flows() {
		if f.Flow == "invented" {
			t.Error("a flow no spec defines is tracked")
		}
	}
	if v, ok := metric(a, `burnwatch_slo_error_budget_remaining{slo="checkout-availability"}`); !ok || v >= 1 {
		t.Errorf("budget remaining on /metrics = %v (present %v), want below 1 after a 30%% error share", v, ok)
	}
	// 30% errors against a 1% budget burns at 30x: page-fast fires.
	select {
	case p := <-got:
		if p["version"] != "4" || p["status"] != "firing" {
			t.Errorf("webhook payload version %v status %v, want 4 firing", p["version"], p["status"])
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery")
	}
	if n := a.alerts.firing(); n == 0 {
		t.Error("no alert firing after a 30x burn")
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("shutdown without start", func(t *testing.T) {
		a, err := New(testConfig(), Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if a.cancel != nil || a.alerts != nil {
			t.Fatal("Start after Shutdown started the App")
		}
	})
	t.Run("start and shutdown twice", func(t *testing.T) {
		cfg := testConfig()
		cfg.Storage.Directory = t.TempDir()
		a, err := New(cfg, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := a.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := a.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no files", func(c *Config) { c.Files = nil }, "files: at least one spec file"},
		{"no such file", func(c *Config) { c.Files = []string{"testdata/nope-*.yaml"} }, "files: "},
		{"bad interval", func(c *Config) { c.EvaluationInterval = 0 }, "evaluation_interval: 0s must be positive"},
		{"bad webhook", func(c *Config) { c.Alerting.Webhooks = []WebhookConfig{{Name: "a", URL: "ftp://x/y"}} }, "alerting.webhooks[0]: url: want http:// or https://"},
		{"webhook twice", func(c *Config) {
			c.Alerting.Webhooks = []WebhookConfig{{Name: "a", URL: "http://127.0.0.1:1/a"}, {Name: "a", URL: "http://127.0.0.1:1/b"}}
		}, `alerting.webhooks[1].name: "a" is used twice`},
		{"durable without directory", func(c *Config) { c.Storage.Acknowledge = AckDurable }, "storage.acknowledge: durable needs storage.directory"},
		{"unknown acknowledge", func(c *Config) { c.Storage.Acknowledge = "sometimes" }, `storage.acknowledge: "sometimes" is not one of always, durable`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			tc.change(&cfg)
			_, err := New(cfg, Settings{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestScrapeWhileEvaluating renders /metrics while evaluations run: the App
// writes each evaluation into the storage /metrics is not showing, so a
// scrape always sees one whole evaluation (run with -race).
func TestScrapeWhileEvaluating(t *testing.T) {
	a := startApp(t, testConfig())
	t0 := time.Now()
	if err := a.observe(t0, events(10, "checkout", t0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	a.evaluate(t0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		now := t0
		for i := range 300 {
			now = now.Add(time.Second)
			if i%10 == 0 {
				_ = a.observe(now, events(10, "checkout", now, 1, 0))
			}
			a.evaluate(now)
		}
	}()
	for scrapes := 0; ; scrapes++ {
		select {
		case <-done:
			if scrapes == 0 {
				t.Fatal("no scrape ran during the evaluations")
			}
			return
		default:
		}
		var buf bytes.Buffer
		a.WriteMetrics(&buf)
		if n := strings.Count(buf.String(), "burnwatch_slo_error_budget_remaining{"); n != 2 {
			t.Fatalf("a scrape shows %d SLOs' budgets, want 2:\n%s", n, buf.String())
		}
	}
}
