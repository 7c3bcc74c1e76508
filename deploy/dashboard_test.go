package deploy

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exposed are the metric families the daemon writes on /metrics that
// dashboards may query, with their labels (app/metrics.go, app/alerts.go,
// app/flows.go, app/durability.go). TestDashboardMetricsExist checks each
// name is still written by the daemon's code. Scrape labels (job, instance)
// are allowed everywhere.
var exposed = map[string][]string{
	"burnwatch_slo_error_budget_remaining":      {"slo"},
	"burnwatch_slo_burn_rate":                   {"slo", "window"},
	"burnwatch_slo_window_events":               {"slo", "window", "outcome"},
	"burnwatch_slo_tier_condition":              {"slo", "tier"},
	"burnwatch_flow_latency_seconds":            {"flow", "window", "quantile"},
	"burnwatch_flow_latency_count":              {"flow", "window"},
	"burnwatch_flow_events_total":               {"flow"},
	"burnwatch_flow_errors_total":               {"flow"},
	"burnwatch_spans_received_total":            nil,
	"burnwatch_spans_entry_total":               nil,
	"burnwatch_spans_unmatched_total":           nil,
	"burnwatch_spans_classified_total":          {"flow"},
	"burnwatch_events_too_late_total":           nil,
	"burnwatch_events_refused_total":            nil,
	"burnwatch_events_unknown_flow_total":       nil,
	"burnwatch_evaluation_duration_seconds":     {"le"}, // a histogram: _bucket, _sum, _count
	"burnwatch_alerts_firing":                   nil,
	"burnwatch_alert_transitions_total":         nil,
	"burnwatch_alert_flaps_total":               {"slo", "tier"},
	"burnwatch_notifications_total":             nil,
	"burnwatch_notification_attempts_total":     {"receiver", "outcome"},
	"burnwatch_notifications_dead_letter_total": {"receiver"},
	"burnwatch_outbox_pending":                  {"receiver"},
	"burnwatch_outbox_superseded_total":         {"receiver"},
	"burnwatch_storage_durable":                 nil,
	"burnwatch_storage_errors_total":            nil,
	"burnwatch_wal_write_errors_total":          nil,
	"burnwatch_history_write_errors_total":      nil,
	"burnwatch_metrics_series_dropped":          nil,
}

var (
	metricName = regexp.MustCompile(`\bburnwatch_[a-z0-9_]+`)
	// selector is a metric with its label matchers: name{l="v",m=~"w"}.
	selector = regexp.MustCompile(`\b(burnwatch_[a-z0-9_]+)\s*\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)`)
	grouping = regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	legend   = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	variable = regexp.MustCompile(`\$(?:\{([a-zA-Z_][a-zA-Z0-9_]*)[}:]|([a-zA-Z_][a-zA-Z0-9_]*))`)
)

// family is the family a sample name belongs to (a histogram's _bucket,
// _sum and _count), or "" when the daemon does not expose it.
func family(name string) string {
	if _, ok := exposed[name]; ok {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(exposed[base], "le") {
			return base
		}
	}
	return ""
}

// query is one PromQL expression of a dashboard, with where it is.
type query struct {
	where, expr, legend string
}

// dashboardQueries collects the expressions of panels (rows' nested panels
// too) and of query variables.
func dashboardQueries(t *testing.T, d map[string]any) []query {
	t.Helper()
	var out []query
	var panels func(ps []any)
	panels = func(ps []any) {
		for _, p := range maps(ps) {
			panels(list(p["panels"]))
			for _, tg := range maps(p["targets"]) {
				out = append(out, query{fmt.Sprintf("panel %q %s", str(p["title"]), str(tg["refId"])), str(tg["expr"]), str(tg["legendFormat"])})
			}
		}
	}
	panels(list(d["panels"]))
	for _, v := range maps(get(d, "templating", "list")) {
		if str(v["type"]) == "query" {
			q := str(get(v, "query", "query"))
			if q == "" {
				q = str(v["query"])
			}
			out = append(out, query{fmt.Sprintf("variable %s", str(v["name"])), q, ""})
		}
	}
	return out
}

// TestGrafanaDashboards checks every dashboard under deploy/grafana: it
// parses; every query names only metrics the daemon exposes (exposed), with
// labels those metrics have, in matchers, by/without and legends; every
// $variable it uses is defined; panels have unique ids and use the
// datasource variable; and the SLO dashboard shows what it is for.
func TestGrafanaDashboards(t *testing.T) {
	files, err := filepath.Glob(path("deploy/grafana/*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d map[string]any
			if err := json.Unmarshal(data, &d); err != nil {
				t.Fatal(err)
			}
			if str(d["uid"]) == "" || str(d["title"]) == "" {
				t.Error("no uid or title")
			}
			vars := []string{"__rate_interval", "__interval", "__range", "__all"}
			for _, v := range maps(get(d, "templating", "list")) {
				vars = append(vars, str(v["name"]))
			}
			used := map[string]bool{}
			for _, q := range dashboardQueries(t, d) {
				checkQuery(t, q, vars, used)
			}
			ids := map[string]bool{}
			var walkPanels func(ps []any)
			walkPanels = func(ps []any) {
				for _, p := range maps(ps) {
					walkPanels(list(p["panels"]))
					id := str(p["id"])
					if ids[id] {
						t.Errorf("panel %q: id %s used twice", str(p["title"]), id)
					}
					ids[id] = true
					if str(p["type"]) != "row" && str(get(p, "datasource", "uid")) != "${datasource}" {
						t.Errorf("panel %q: datasource is not ${datasource}", str(p["title"]))
					}
				}
			}
			walkPanels(list(d["panels"]))

			if filepath.Base(file) == "burnwatch-slo-dashboard.json" {
				for _, name := range []string{
					"burnwatch_slo_error_budget_remaining", "burnwatch_slo_burn_rate", "burnwatch_slo_window_events",
					"burnwatch_slo_tier_condition", "burnwatch_flow_latency_seconds", "burnwatch_flow_events_total",
					"burnwatch_alerts_firing", "burnwatch_notification_attempts_total", "burnwatch_outbox_pending",
					"burnwatch_storage_durable",
				} {
					if !used[name] {
						t.Errorf("does not show %s", name)
					}
				}
				if !slices.Contains(vars, "slo") {
					t.Error("no $slo variable")
				}
				// The default tiers' factors are drawn on the burn-rate panels.
				text := string(data)
				for _, factor := range []string{`"value": 14.4`, `"value": 6`, `"value": 3`, `"value": 1`} {
					if !strings.Contains(text, factor) {
						t.Errorf("no threshold %s: the default tiers' factors are 14.4, 6, 3 and 1", factor)
					}
				}
			}
		})
	}
}

func checkQuery(t *testing.T, q query, vars []string, used map[string]bool) {
	t.Helper()
	if strings.TrimSpace(q.expr) == "" {
		t.Errorf("%s: empty query", q.where)
		return
	}
	// Labels the expression's metrics have.
	labels := []string{"job", "instance"}
	names := metricName.FindAllString(q.expr, -1)
	if len(names) == 0 {
		t.Errorf("%s: %s queries no burnwatch metric", q.where, q.expr)
	}
	for _, name := range names {
		fam := family(name)
		if fam == "" {
			t.Errorf("%s: %s is not a metric the daemon exposes", q.where, name)
			continue
		}
		used[fam] = true
		labels = append(labels, exposed[fam]...)
	}
	for _, m := range selector.FindAllStringSubmatch(q.expr, -1) {
		fam := family(m[1])
		for _, lm := range matcher.FindAllStringSubmatch(m[2], -1) {
			if fam != "" && lm[1] != "job" && lm[1] != "instance" && !slices.Contains(exposed[fam], lm[1]) {
				t.Errorf("%s: %s has no label %s", q.where, m[1], lm[1])
			}
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(q.expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !slices.Contains(labels, l) {
				t.Errorf("%s: groups by %s, a label none of its metrics has", q.where, l)
			}
		}
	}
	for _, l := range legend.FindAllStringSubmatch(q.legend, -1) {
		if !slices.Contains(labels, l[1]) {
			t.Errorf("%s: legend {{%s}}, a label none of its metrics has", q.where, l[1])
		}
	}
	for _, v := range variable.FindAllStringSubmatch(q.expr+" "+q.legend, -1) {
		name := v[1] + v[2]
		if !slices.Contains(vars, name) {
			t.Errorf("%s: $%s is not a variable of the dashboard", q.where, name)
		}
	}
}

// TestDashboardMetricsExist keeps exposed true to the daemon: every name in
// it is written, as a string literal, by the module's non-test Go code.
func TestDashboardMetricsExist(t *testing.T) {
	var code strings.Builder
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "deploy") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			code.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name := range exposed {
		if !strings.Contains(code.String(), `"`+name+`"`) {
			t.Errorf("%s: no Go code writes it any more; update the dashboards and exposed", name)
		}
	}
}
