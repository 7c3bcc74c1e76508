package app

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
	"go.uber.org/zap"
)

const groupedSpecs = `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: api}
spec:
  match: [{attribute: service.name, equals: shop}]
  group_by: http.route
  max_groups: 2
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: api-availability}
spec: {flow: api, target: 99, period: 2h, alerting: {labels: {team: shop}}}
`

// classify names the event flow of a server span of service shop with the
// given http.route ("" for none), as a producer does.
func classify(t testing.TB, a *App, route string) string {
	t.Helper()
	fl := a.Flows()
	cls := fl.Classifier()
	in := &flows.Input{Kind: flows.SpanKindServer, Root: true}
	in.Span = make([]flows.Value, len(cls.Keys()))
	in.Resource = make([]flows.Value, len(cls.Keys()))
	for i, k := range cls.Keys() {
		switch {
		case k == "service.name":
			in.Resource[i] = flows.StrValue("shop")
		case k == "http.route" && route != "":
			in.Span[i] = flows.StrValue(route)
		}
	}
	r := cls.Classify(in)
	if !r.Matched() {
		t.Fatalf("route %q: no flow", route)
	}
	return fl.EventFlow(r.Flow, in)
}

func statusOf(a *App, now time.Time, name string) (slo.Status, bool) {
	for _, st := range a.Engine().Evaluate(now) {
		if st.SLO.Name == name {
			return st, true
		}
	}
	return slo.Status{}, false
}

// TestGroupedFlowOneSLOPerRoute: a flow grouped by http.route gets an SLO
// per route the spans carry, labelled with it, up to max_groups; spans of
// further routes, and spans without one, count in the flow itself. The
// groups and their counts survive a crash; new keys start them again.
func TestGroupedFlowOneSLOPerRoute(t *testing.T) {
	dir := t.TempDir()
	specPath := filepath.Join(t.TempDir(), "specs.yaml")
	write(t, specPath, groupedSpecs)
	cfg := storedConfig(dir)
	cfg.Files = []string{specPath}
	cfg.WatchInterval = 0
	a := startApp(t, cfg)
	now := time.Now()

	names := map[string]string{}
	for _, route := range []string{"/cart", "/pay", "/cart", "/search", ""} {
		names[route] = classify(t, a, route)
	}
	want := map[string]string{"/cart": `api{http.route="/cart"}`, "/pay": `api{http.route="/pay"}`, "/search": "api", "": "api"}
	for route, w := range want {
		if names[route] != w {
			t.Errorf("route %q: flow %q, want %q", route, names[route], w)
		}
	}
	evs := append(events(10, names["/cart"], now, 4, 0), events(5, names["/pay"], now, 0, 0)...)
	evs = append(evs, events(3, names["/search"], now, 1, 0)...)
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	check := func(a *App, what string) {
		t.Helper()
		for name, counts := range map[string][2]uint64{
			`api-availability{http.route="/cart"}`: {4, 10},
			`api-availability{http.route="/pay"}`:  {0, 5},
			`api-availability`:                     {1, 3},
		} {
			st, ok := statusOf(a, now, name)
			if !ok {
				t.Errorf("%s: no SLO %s", what, name)
				continue
			}
			if st.Period.Bad != counts[0] || st.Period.Total != counts[1] {
				t.Errorf("%s: %s %d bad of %d, want %d of %d", what, name, st.Period.Bad, st.Period.Total, counts[0], counts[1])
			}
		}
	}
	check(a, "after the batch")
	if st, _ := statusOf(a, now, `api-availability{http.route="/cart"}`); st.SLO.AlertLabels["http_route"] != "/cart" || st.SLO.AlertLabels["team"] != "shop" {
		t.Errorf("the /cart SLO's alert labels %v, want http_route=/cart and the SLO's team=shop", st.SLO.AlertLabels)
	}
	if n, _ := metric(a, `burnwatch_flow_groups_overflow_total{flow="api"}`); n != 1 {
		t.Errorf("overflow %v, want 1 (the /search span past max_groups 2)", n)
	}
	if n, _ := metric(a, `burnwatch_events_unknown_flow_total`); n != 0 {
		t.Errorf("%v events of groups dropped as unknown", n)
	}

	crash(a)
	b := startApp(t, cfg)
	check(b, "after a crash")
	if got := classify(t, b, "/pay"); got != names["/pay"] {
		t.Errorf("/pay after the crash: flow %q, want %q", got, names["/pay"])
	}

	// Grouped by another key: the groups start again, the flow keeps its
	// own SLO's counts.
	write(t, specPath, strings.Replace(groupedSpecs, "group_by: http.route", "group_by: [http.route, http.method]", 1))
	if err := b.ReloadSpecs(); err != nil {
		t.Fatal(err)
	}
	if _, ok := statusOf(b, now, `api-availability{http.route="/cart"}`); ok {
		t.Error("the /cart group outlived a change of the flow's keys")
	}
	if st, _ := statusOf(b, now, "api-availability"); st.Period.Total != 3 {
		t.Errorf("api-availability after the reload: %d events, want its 3 kept", st.Period.Total)
	}
	if got := classify(t, b, "/cart"); got != `api{http.route="/cart"}` {
		t.Errorf("/cart by route and method (no method): flow %q", got)
	}
	// The file holds the groups there are now, and a line torn by a crash
	// ends it.
	path := filepath.Join(dir, "groups.jsonl")
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(file)), "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"keys":["http.route","http.method"]`) {
		t.Errorf("groups.jsonl after the keys changed:\n%s\nwant the one group by both keys", file)
	}
	if err := os.WriteFile(path, append(file, `{"flow":"api","keys":["http.route","ht`...), 0o600); err != nil {
		t.Fatal(err)
	}
	if fg := openGroups(dir, zap.NewNop()).flows["api"]; fg == nil || len(fg.list) != 1 {
		t.Errorf("groups read back after a torn line: %+v, want the one before it", fg)
	}
}

// TestGroupsAnAgentMade: events named for a group of a flow grouped here
// too (a gateway trusting its agents) are counted in that group; other
// names are unknown flows.
func TestGroupsAnAgentMade(t *testing.T) {
	specPath := filepath.Join(t.TempDir(), "specs.yaml")
	write(t, specPath, groupedSpecs)
	cfg := testConfig()
	cfg.Files = []string{specPath}
	a := startApp(t, cfg)
	now := time.Now()
	evs := events(4, `api{http.route="/agent"}`, now, 1, 0)
	for _, bad := range []string{`api{http.route="/a",evil="1"}`, `api{http.route=/a}`, `other{http.route="/a"}`, `api{http.route="/a"} `, `api{}`} {
		evs = append(evs, events(1, bad, now, 0, 0)...)
	}
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	st, ok := statusOf(a, now, `api-availability{http.route="/agent"}`)
	if !ok || st.Period.Total != 4 || st.Period.Bad != 1 {
		t.Errorf("the agent's group: %v, %d bad of %d; want 1 of 4", ok, st.Period.Bad, st.Period.Total)
	}
	if n, _ := metric(a, "burnwatch_events_unknown_flow_total"); n != 5 {
		t.Errorf("unknown flow events %v, want the 5 malformed names", n)
	}
}

// TestAgentGroupWhileRestoring: a batch of a group an agent made, new
// here, that comes while the state is restored is not held (held batches
// count only flows the engine has): it waits for the restore, and is then
// counted in its group, not dropped as an unknown flow.
func TestAgentGroupWhileRestoring(t *testing.T) {
	specPath := filepath.Join(t.TempDir(), "specs.yaml")
	write(t, specPath, groupedSpecs)
	cfg := storedConfig(t.TempDir())
	cfg.Files = []string{specPath}
	cfg.WatchInterval = 0
	a, err := New(cfg, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	a.hold.gate = make(chan struct{})
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Shutdown(context.Background()) })
	now := time.Now()
	evs := append(events(3, `api{http.route="/agent"}`, now, 1, 0), events(2, "api", now, 0, 0)...)
	if held, err := a.holdBatch(now, slices.Clone(evs)); held || err != nil {
		t.Fatalf("a batch with an agent's new group was held (%v, %v): its group's events would be dropped", held, err)
	}
	close(a.hold.gate)
	if err := a.WaitRestored(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.observe(now, evs); err != nil {
		t.Fatal(err)
	}
	if st, ok := statusOf(a, now, `api-availability{http.route="/agent"}`); !ok || st.Period.Total != 3 {
		t.Errorf("the agent's group after the restore: %v, %d events; want 3", ok, st.Period.Total)
	}
}
