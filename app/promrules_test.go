package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/promrules"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// TestPrometheusRulesAgree runs the daemon and the Prometheus rules
// `burnwatch rules` writes for its spec side by side: minute by minute for
// seven and a half hours, the App counts 1000 checkouts (from 7h, for 30
// minutes, 100 of them failing), evaluates, and /metrics is scraped. The
// scraped burnwatch_slo_events_total, as promtool's input series, must
// make each page tier fire at the very minute the daemon's own tier first
// fired, and not the minute before.
func TestPrometheusRulesAgree(t *testing.T) {
	promtool := lookPromtool(t)
	const file = "testdata/rules-agree.yaml"
	cfg := testConfig()
	cfg.Files = []string{file}
	a := startApp(t, cfg)

	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	const outageFrom, outageTo, end = 420, 450, 460 // minutes
	var good, bad []string
	first := map[string]int{} // tier: the minute the daemon first fired it
	for m := 0; m <= end; m++ {
		now := t0.Add(time.Duration(m) * time.Minute)
		errs := 0
		if m >= outageFrom && m < outageTo {
			errs = 100
		}
		if err := a.observe(now, events(1000, "checkout", now, errs, 0)); err != nil {
			t.Fatal(err)
		}
		a.evaluate(now)
		a.ReadStatuses(func(_ time.Time, sts []slo.Status) {
			for _, ts := range sts[0].Tiers {
				if _, seen := first[ts.Tier.Name]; ts.Firing && !seen {
					first[ts.Tier.Name] = m
				}
			}
		})
		for _, o := range []struct {
			outcome string
			to      *[]string
		}{{"good", &good}, {"bad", &bad}} {
			v, ok := metric(a, promrules.EventsMetric+`{slo="checkout-availability",outcome="`+o.outcome+`"}`)
			if !ok {
				t.Fatalf("minute %d: no %s counter on /metrics", m, o.outcome)
			}
			*o.to = append(*o.to, strconv.FormatFloat(v, 'f', -1, 64))
		}
	}
	if len(first) != 2 {
		t.Fatalf("the daemon fired %v, want both page tiers", first)
	}

	set, err := specs.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	rules, _, err := promrules.Generate(set, promrules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := rules.Marshal([]string{file})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	var test strings.Builder
	fmt.Fprintf(&test, "rule_files: [rules.yaml]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n")
	for _, s := range []struct {
		outcome string
		values  []string
	}{{"good", good}, {"bad", bad}} {
		fmt.Fprintf(&test, "      - series: '%s{slo=\"checkout-availability\",outcome=\"%s\"}'\n        values: '%s'\n",
			promrules.EventsMetric, s.outcome, strings.Join(s.values, " "))
	}
	fmt.Fprintf(&test, "    promql_expr_test:\n")
	for _, tier := range []string{"page-fast", "page-slow"} {
		m := first[tier]
		q := fmt.Sprintf(`count(ALERTS{alertname="SLOBurnRate",alertstate="firing",tier="%s"})`, tier)
		fmt.Fprintf(&test, "      - expr: '%s'\n        eval_time: %dm\n        exp_samples: []\n", q, m-1)
		fmt.Fprintf(&test, "      - expr: '%s'\n        eval_time: %dm\n        exp_samples: [{labels: '{}', value: 1}]\n", q, m)
	}
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(test.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if res, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("the daemon fired at minutes %v; promtool test rules: %v\n%s", first, err, res)
	}
	t.Logf("both fired page-fast at minute %d and page-slow at %d", first["page-fast"], first["page-slow"])
}

// lookPromtool finds promtool, or skips the test (fails it in CI, where
// make test-deps installs it).
func lookPromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("promtool not found in CI: make test-deps installs it (apt-get install prometheus)")
	}
	t.Skip("promtool not found (apt-get install prometheus, or make test-deps)")
	return ""
}
