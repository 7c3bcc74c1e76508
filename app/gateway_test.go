package app

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/slo"
)

func TestDedupWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		seq  uint64
		want int
	}{
		{5, seqFresh},
		{5, seqDuplicate},
		{7, seqFresh},
		{6, seqFresh}, // out of order: an exporter's parallel consumers
		{6, seqDuplicate},
		{7, seqDuplicate},
		{4, seqFresh}, // below the first one seen, within the window
		{200, seqFresh},
		{7, seqStale},                     // too far below to tell
		{200 - dedupWindow + 1, seqFresh}, // the oldest the window holds
		{200 - dedupWindow + 1, seqDuplicate},
		{200 - dedupWindow, seqStale},
	}
	var d dedup
	key := dedupKey{"agent", "checkout"}
	for i, s := range steps {
		if got := d.mark(key, s.seq, now); got != s.want {
			t.Fatalf("step %d: seq %d got %d, want %d", i, s.seq, got, s.want)
		}
	}
	if got := d.mark(dedupKey{"agent", "search"}, 5, now); got != seqFresh {
		t.Fatalf("another flow's seq 5: %d, want fresh", got)
	}
	// An agent's flow not heard from for dedupIdle is forgotten.
	if got := d.mark(dedupKey{"other", "x"}, 1, now.Add(dedupIdle)); got != seqFresh || len(d.seen) != 1 {
		t.Fatalf("after idle: %d with %d remembered, want fresh and only the new one", got, len(d.seen))
	}
}

// TestMergedAggregatesSurviveCrash: what a gateway merged is in its WAL
// before MergeAggregates returns, so a kill -9 loses none of it; an
// aggregate sent again is merged once; an agent merges nothing.
func TestMergedAggregatesSurviveCrash(t *testing.T) {
	cfg := testConfig()
	cfg.Storage.Directory = t.TempDir()
	gw := startApp(t, cfg)
	now := time.Now()
	agent := slo.NewAggregator(gw.Engine())
	agent.Add(now, events(20, "checkout", now, 3, 4))
	batch := []AgentAggregate{}
	for _, ag := range agent.Cut(nil) {
		batch = append(batch, AgentAggregate{Agent: "a1", Seq: 1, Aggregate: ag})
	}
	for range 2 {
		if err := gw.MergeAggregates(batch); err != nil {
			t.Fatal(err)
		}
	}
	want := gw.Engine().Evaluate(now)
	if want[0].Period.Total != 20 || want[0].Period.Bad != 3 || want[1].Period.Bad != 7 {
		t.Fatalf("merged %+v and %+v: want 20 events, 3 errors, 7 bad for latency", want[0].Period, want[1].Period)
	}
	if v, _ := metric(gw, `burnwatch_aggregates_dropped_total{reason="duplicate"}`); v != 1 {
		t.Fatalf("duplicates = %v, want 1", v)
	}
	crash(gw)
	restarted := startApp(t, cfg)
	got := restarted.Engine().Evaluate(now)
	for i := range want {
		if got[i].Period != want[i].Period {
			t.Errorf("%s after the crash: %+v, want %+v", want[i].SLO.Name, got[i].Period, want[i].Period)
		}
	}

	acfg := testConfig()
	acfg.Mode = ModeAgent
	a := startApp(t, acfg)
	if err := a.MergeAggregates(batch); !errors.Is(err, ErrAgentMerge) {
		t.Fatalf("an agent merged: %v", err)
	}
	if err := a.Observe(events(5, "checkout", now, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if v, _ := metric(a, "burnwatch_agent_events_total"); v != 5 {
		t.Fatalf("burnwatch_agent_events_total = %v, want 5", v)
	}
	cut := a.CutAggregates()
	if len(cut) != 1 || cut[0].Slots[0].Latency.Count() != 5 || a.Engine().Stats().Events != 0 {
		t.Fatalf("agent cut %+v, engine %+v: want the 5 events aggregated, none in the engine", cut, a.Engine().Stats())
	}
}

func TestAgentModeChecks(t *testing.T) {
	cfg := testConfig()
	cfg.Mode = ModeAgent
	cfg.Storage.Directory = "/var/lib/burnwatch"
	cfg.Agent.Interval = 0
	err := cfg.Check()
	for _, key := range []string{"storage.directory", "agent.interval"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
	cfg = testConfig()
	cfg.Mode = "gateway"
	if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("mode gateway: %v, want an error naming mode", err)
	}
}

// TestGatewayAdoptsAgentsGroups: an agent that splits a grouped flow per
// route sends each group's aggregate under the group's name; the gateway
// adopts the groups as it adopts agents' annotated spans and counts each
// in its own SLO copy, exactly.
func TestGatewayAdoptsAgentsGroups(t *testing.T) {
	specPath := filepath.Join(t.TempDir(), "specs.yaml")
	write(t, specPath, groupedSpecs)
	cfg := testConfig()
	cfg.Files = []string{specPath}
	cfg.WatchInterval = 0
	acfg := cfg
	acfg.Mode = ModeAgent
	agent, gw := startApp(t, acfg), startApp(t, cfg)
	now := time.Now()
	var evs []slo.Event
	for i, route := range []string{"/cart", "/cart", "/pay", ""} {
		evs = append(evs, slo.Event{Flow: classify(t, agent, route), End: now.UnixNano(), Duration: time.Millisecond, Error: i == 1})
	}
	if err := agent.Observe(evs); err != nil {
		t.Fatal(err)
	}
	var batch []AgentAggregate
	for _, ag := range agent.CutAggregates() {
		batch = append(batch, AgentAggregate{Agent: "a1", Seq: 1, Aggregate: ag})
	}
	if len(batch) != 3 {
		t.Fatalf("%d aggregates, want the flow and its two groups", len(batch))
	}
	if err := gw.MergeAggregates(batch); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][2]uint64{
		`api-availability{http.route="/cart"}`: {2, 1},
		`api-availability{http.route="/pay"}`:  {1, 0},
		"api-availability":                     {1, 0},
	} {
		st, ok := statusOf(gw, now, name)
		if !ok || st.Period.Total != want[0] || st.Period.Bad != want[1] {
			t.Errorf("%s: %+v (found %v), want %d events %d bad", name, st.Period, ok, want[0], want[1])
		}
	}
	if v, _ := metric(gw, `burnwatch_aggregates_dropped_total{reason="unknown_flow"}`); v != 0 {
		t.Errorf("%v aggregates dropped as of unknown flows", v)
	}
}
