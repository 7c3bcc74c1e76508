package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/specs"
)

const reloadFlows = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec:
  match: [{attribute: http.route, equals: /checkout}]
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: login}
spec:
  match: [{attribute: http.route, equals: /login}]
`

const reloadSLOs = `
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability}
spec: {flow: checkout, target: 99, period: 2h}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: login-availability}
spec: {flow: login, target: 99, period: 2h}
`

// reloadApp starts an App on a spec file it returns the path of.
func reloadApp(t *testing.T, content string, change func(*Config)) (*App, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "specs.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := storedConfig(t.TempDir())
	cfg.Files = []string{path}
	cfg.WatchInterval = 0
	if change != nil {
		change(&cfg)
	}
	return startApp(t, cfg), path
}

func period(a *App, slo string, now time.Time) (bad, total uint64) {
	for _, st := range a.Engine().Evaluate(now) {
		if st.SLO.Name == slo {
			return st.Period.Bad, st.Period.Total
		}
	}
	return 0, 0
}

// TestReloadSpecs: a valid change is applied and keeps the state of the
// SLOs it leaves alone; a broken file is rejected and the running set goes
// on.
func TestReloadSpecs(t *testing.T) {
	a, path := reloadApp(t, reloadFlows+reloadSLOs, nil)
	now := time.Now()
	evs := append(events(10, "checkout", now, 3, 0), events(10, "login", now, 1, 0)...)
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	if err := a.ReloadSpecs(); err != nil {
		t.Fatalf("a reload with nothing changed: %v", err)
	}
	if n, _ := metric(a, `burnwatch_spec_reloads_total{outcome="applied"}`); n != 0 {
		t.Errorf("an unchanged set was reloaded (%v)", n)
	}

	// A new SLO: the others keep their windows.
	more := reloadFlows + reloadSLOs + `
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: login-latency}
spec: {flow: login, objective: {type: latency, threshold: 300ms}, target: 99, period: 2h}
`
	write(t, path, more)
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if bad, total := period(a, "checkout-availability", now); bad != 3 || total != 10 {
		t.Errorf("checkout after adding an SLO: %d/%d bad/total, want 3/10 kept", bad, total)
	}
	if len(a.core.Load().specs.SLOs) != 3 {
		t.Errorf("%d SLOs after the reload, want 3", len(a.core.Load().specs.SLOs))
	}

	// A typo: rejected with its file:line, and the running set goes on.
	write(t, path, strings.Replace(more, "target: 99, period: 2h}", "target: 990, period: 2h}", 1))
	err := a.ReloadSpecs()
	var se *specs.Error
	if !errors.As(err, &se) || se.Line == 0 {
		t.Fatalf("a broken file: %v, want a specs.Error with its line", err)
	}
	if got, _ := a.SpecError(); got == nil {
		t.Error("SpecError does not report the rejected set")
	}
	if n, _ := metric(a, `burnwatch_spec_reloads_total{outcome="rejected"}`); n != 1 {
		t.Errorf("rejected reloads %v, want 1", n)
	}
	if err := a.observe(now, events(5, "checkout", now, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if bad, total := period(a, "checkout-availability", now); bad != 3 || total != 15 {
		t.Errorf("checkout after the rejected reload: %d/%d, want the running set counting (3/15)", bad, total)
	}

	// A target change (and anything else that leaves its counts alone)
	// is applied.
	write(t, path, strings.Replace(more, "target: 99, period: 2h}", "target: 98, period: 2h}", 1))
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.SpecError(); got != nil {
		t.Errorf("SpecError after an applied reload: %v", got)
	}
	if got := a.core.Load().specs.SLOs[0].Target; got != 0.98 {
		t.Errorf("target after the reload %v, want 0.98", got)
	}
	if bad, total := period(a, "checkout-availability", now); bad != 3 || total != 15 {
		t.Errorf("checkout after a target change: %d/%d bad/total, want its windows kept (3/15)", bad, total)
	}
}

// TestReloadKeepsWindowsUnlessTheFlowChanged: new tiers and a longer period
// keep an SLO's counts (its windows are rebuilt from the old ones); a
// changed match rule of a flow restarts the SLOs of that flow only.
func TestReloadKeepsWindowsUnlessTheFlowChanged(t *testing.T) {
	a, path := reloadApp(t, reloadFlows+reloadSLOs, nil)
	now := time.Now()
	evs := append(events(10, "checkout", now, 3, 0), events(8, "login", now, 2, 0)...)
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	tiers := strings.Replace(reloadSLOs, "spec: {flow: checkout, target: 99, period: 2h}",
		"spec: {flow: checkout, target: 99.5, period: 3h, alerting: {tiers: [{name: fast, severity: page, long: 30m, short: 3m, factor: 10}]}}", 1)
	write(t, path, reloadFlows+tiers)
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if bad, total := period(a, "checkout-availability", now); bad != 3 || total != 10 {
		t.Errorf("checkout after new tiers and period: %d/%d bad/total, want 3/10 kept", bad, total)
	}
	if st := a.core.Load().specs.SLOs[0]; st.Period != 3*time.Hour || len(st.Tiers) != 1 {
		t.Errorf("checkout's spec after the reload: period %v, %d tiers; want 3h and 1", st.Period, len(st.Tiers))
	}

	write(t, path, strings.Replace(reloadFlows, "equals: /login}", "equals: /signin}", 1)+tiers)
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if bad, total := period(a, "login-availability", now); total != 0 {
		t.Errorf("login after its flow's match changed: %d/%d bad/total, want it restarted (0/0)", bad, total)
	}
	if bad, total := period(a, "checkout-availability", now); bad != 3 || total != 10 {
		t.Errorf("checkout after login's flow changed: %d/%d bad/total, want 3/10 kept", bad, total)
	}
}

// TestReloadSurvivesACrash: the state after a reload is what a restart
// finds, even when the daemon is killed right after it.
func TestReloadSurvivesACrash(t *testing.T) {
	a, path := reloadApp(t, reloadFlows+reloadSLOs, nil)
	now := time.Now()
	if err := a.observe(now, events(10, "checkout", now, 3, 0)); err != nil {
		t.Fatal(err)
	}
	write(t, path, reloadFlows+strings.Replace(reloadSLOs, "metadata: {name: login-availability}", "metadata: {name: login-avail}", 1))
	if err := a.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if err := a.observe(now, events(4, "checkout", now, 1, 0)); err != nil {
		t.Fatal(err)
	}
	crash(a)
	cfg := a.cfg
	b := startApp(t, cfg)
	if bad, total := period(b, "checkout-availability", now); bad != 4 || total != 14 {
		t.Errorf("after a reload and a crash: %d/%d, want 4/14", bad, total)
	}
	if len(b.core.Load().specs.SLOs) != 2 || b.core.Load().specs.SLOs[1].Name != "login-avail" {
		t.Errorf("restarted on %d SLOs", len(b.core.Load().specs.SLOs))
	}
}

// TestWatchReloadsChangedFiles: with watch_interval set, a change of the
// files is applied without a signal, once it holds still.
func TestWatchReloadsChangedFiles(t *testing.T) {
	a, path := reloadApp(t, reloadFlows+reloadSLOs, func(c *Config) { c.WatchInterval = 20 * time.Millisecond })
	write(t, path, reloadFlows+strings.Replace(reloadSLOs, "target: 99, period: 2h}", "target: 98, period: 2h}", 1))
	waitFor(t, func() bool {
		n, _ := metric(a, `burnwatch_spec_reloads_total{outcome="applied"}`)
		return n == 1
	})
	if got := a.core.Load().specs.SLOs[0].Target; got != 0.98 {
		t.Errorf("target after the watched change %v, want 0.98", got)
	}
}

func write(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
