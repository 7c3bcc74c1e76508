package specs

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

var update = flag.Bool("update", false, "rewrite testdata/broken/*.errors from the current messages")

func TestLoadGood(t *testing.T) {
	set, err := Load("testdata/good/*.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantFlows := []flows.Spec{
		{
			Name: "checkout", Labels: map[string]string{"team": "payments"}, Tier: flows.TierCritical, EntryOnly: true,
			Match: []flows.Rule{
				{Attribute: "service.name", Op: flows.OpEquals, Value: "shop"},
				{Attribute: "http.route", Op: flows.OpRegex, Value: "/checkout.*"},
			},
			Errors: flows.ErrorSpec{StatusError: true, Rules: []flows.Rule{{Attribute: "http.response.status_code", Op: flows.OpGte, Number: 500}}},
		},
		{
			Name: "login", Tier: flows.TierMedium, EntryOnly: true,
			Match: []flows.Rule{
				{Attribute: "service.name", Op: flows.OpIn, Values: []string{"auth", "auth-canary"}},
				{Attribute: "rpc.method", Op: flows.OpEquals, Value: "Login"},
			},
			Errors: flows.DefaultErrors(),
		},
		{
			Name: "orders-queue", Labels: map[string]string{"team": "fulfilment"}, Tier: flows.TierHigh, EntryOnly: false,
			Match: []flows.Rule{
				{Attribute: "messaging.destination.name", Op: flows.OpEquals, Value: "orders"},
				{Attribute: "span.kind", Op: flows.OpEquals, Value: "consumer"},
			},
			Errors: flows.ErrorSpec{StatusError: false, Rules: []flows.Rule{{Attribute: "error.type", Op: flows.OpExists, Exists: true}}},
		},
	}
	if !reflect.DeepEqual(set.Flows, wantFlows) {
		t.Errorf("Flows:\n got %+v\nwant %+v", set.Flows, wantFlows)
	}
	week := 7 * 24 * time.Hour
	wantSLOs := []slo.Spec{
		{
			Name: "checkout-latency", Labels: map[string]string{"team": "payments"}, Description: "Checkout is fast",
			Flow: "checkout", Objective: slo.LatencyThreshold, Threshold: 300 * time.Millisecond,
			Target: 0.999, Period: slo.DefaultPeriod, MinEvents: 10,
			Runbook: "https://runbooks.example/checkout", Dashboard: "https://grafana.example/d/checkout",
			Tiers: []slo.Tier{{Name: "page-fast", Severity: slo.Page, Long: time.Hour, Short: 5 * time.Minute, Factor: 14.4, MinEvents: 20}},
			// From flows.yaml: the flow's labels and tier.
			FlowLabels: map[string]string{"team": "payments"}, Criticality: flows.TierCritical,
			AlertLabels: map[string]string{"channel": "payments-oncall", "team": "checkout-core"},
			AlertAnnotations: map[string]string{
				"summary":     "{{ .SLO }} is burning {{ burn .Long.Burn }} — page {{ .Labels.team }}",
				"description": "{{ explain . }}\nCriticality {{ .Labels.criticality }}; ask in #{{ .Labels.channel }}.\n",
				"runbook_url": "https://runbooks.example/{{ .Flow }}/{{ .Tier }}",
			},
		},
		{
			Name: "checkout-availability", Flow: "checkout", Objective: slo.Availability,
			Target: 0.9995, Period: slo.DefaultPeriod, MinEvents: slo.DefaultMinEvents,
			Tiers:      slo.DefaultTiers(slo.DefaultPeriod),
			FlowLabels: map[string]string{"team": "payments"}, Criticality: flows.TierCritical,
		},
		{
			Name: "login-availability", Flow: "login", Objective: slo.Availability,
			Target: 0.99, Period: week, MinEvents: 0,
			Tiers: slo.DefaultTiers(week)[:2],
			// login has no labels and no tier: the default tier.
			Criticality: flows.TierMedium,
		},
	}
	berlin := set.SLOs[3].Calendar
	if berlin == nil || berlin.Location == nil || berlin.Location.String() != "Europe/Berlin" {
		t.Fatalf("checkout-p99 calendar %+v, want a month in Europe/Berlin", berlin)
	}
	// Locations loaded twice are equal but not identical; compare names
	// (above) and the rest of the spec without them.
	got := slices.Clone(set.SLOs)
	cal := *berlin
	cal.Location = nil
	got[3].Calendar = &cal
	month := 30 * 24 * time.Hour
	wantSLOs = append(wantSLOs,
		slo.Spec{
			Name: "checkout-p99", Flow: "checkout", Objective: slo.PercentileSlices,
			Percentile: 0.999, Threshold: 300 * time.Millisecond, Slice: 5 * time.Minute, EmptySlices: slo.EmptySkip,
			Target: 0.99, Period: month, Calendar: &slo.Calendar{Unit: slo.Month},
			MinEvents: slo.DefaultMinEvents, Tiers: slo.DefaultTiers(month)[1:],
			BudgetAlerts: []slo.BudgetAlert{
				{Name: "budget-50", Severity: slo.Ticket, Consumed: 0.5},
				{Name: "budget-nearly-gone", Severity: slo.Page, Consumed: 0.9},
			},
			ExhaustionAlerts: []slo.ExhaustionAlert{
				{Name: "exhaustion-1d", Severity: slo.Page, Window: time.Hour, Within: 24 * time.Hour},
				{Name: "exhaustion-3d", Severity: slo.Ticket, Window: 6 * time.Hour, Within: 72 * time.Hour},
			},
			NoData: 10 * time.Minute, NoDataSeverity: slo.Ticket,
			FlowLabels: map[string]string{"team": "payments"}, Criticality: flows.TierCritical,
		},
		slo.Spec{
			Name: "login-weekly", Flow: "login", Objective: slo.PercentileSlices,
			Percentile: 0.95, Threshold: time.Second, Slice: time.Minute, EmptySlices: slo.EmptyGood,
			Target: 0.995, Period: week, Calendar: &slo.Calendar{Unit: slo.Week, WeekStart: time.Sunday},
			MinEvents: slo.DefaultMinEvents, Tiers: slo.DefaultTiers(week),
			NoData: 30 * time.Minute, NoDataSeverity: slo.Page,
			Criticality: flows.TierMedium,
		},
	)
	// Source digests the flow's rules: the same for SLOs of one flow,
	// another for another flow.
	bySource := map[string]uint64{}
	for i := range got {
		if got[i].Source == 0 {
			t.Errorf("%s: no source digest", got[i].Name)
		}
		if s, ok := bySource[got[i].Flow]; ok && s != got[i].Source {
			t.Errorf("%s: source %x, another SLO of flow %s has %x", got[i].Name, got[i].Source, got[i].Flow, s)
		}
		bySource[got[i].Flow] = got[i].Source
		got[i].Source = 0
	}
	if bySource["checkout"] == bySource["login"] {
		t.Error("checkout and login have the same source digest")
	}
	if !reflect.DeepEqual(got, wantSLOs) {
		t.Errorf("SLOs:\n got %+v\nwant %+v", got, wantSLOs)
	}
	if _, err := set.Classifier(); err != nil {
		t.Errorf("Classifier: %v", err)
	}
}

// TestBrokenGolden loads each broken file after the good flows and compares
// every message with testdata/broken/NAME.errors (go test -update rewrites).
func TestBrokenGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no broken files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			_, err := Load("testdata/good/flows.yaml", file)
			if err == nil {
				t.Fatalf("Load succeeded")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Errorf("no *Error in %v", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".errors"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("messages differ from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// tierDoc is an SLO with one tier (page, 1h/5m at 14.4x) on line 9, with
// more keys for it.
func tierDoc(more string) string {
	return "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: checkout}\nspec:\n  flow: checkout\n  target: 99\n  alerting:\n    tiers:\n" +
		"      - {name: t, severity: page, long: 1h, short: 5m, factor: 14.4, " + more + "}\n"
}

// TestParseErrors pins single messages, including the examples promised in
// docs/spec.md; each case is one document checked on its own.
func TestParseErrors(t *testing.T) {
	const flow = "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: checkout}\nspec:\n  match:\n"
	const sloHead = "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: checkout}\nspec:\n  flow: checkout\n"
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"target range", sloHead + "  target: 120\n", "x.yaml:6: spec.target: 120 is not a percentage in (0, 100) (e.g. 99.9 for 99.9%)"},
		{"target zero", sloHead + "  target: 0\n", "x.yaml:6: spec.target: 0 is not a percentage in (0, 100)"},
		{"target hundred", sloHead + "  target: 100.0\n", "x.yaml:6: spec.target: 100.0 is not a percentage"},
		{"target missing", sloHead, "x.yaml:5: spec.target: missing"},
		{"unknown key", sloHead + "  target: 99\n  trgt: 99\n", "x.yaml:7: spec.trgt: unknown key; did you mean target? (allowed: description, flow, objective, indicator, target, period, time_zone, week_start, runbook, dashboard, alerting)"},
		{"unknown key no suggestion", sloHead + "  target: 99\n  owner: me\n", "x.yaml:7: spec.owner: unknown key (allowed: "},
		{"regex", flow + "    - {attribute: a, equals: b}\n    - {attribute: http.route, regex: \"(x\"}\n", "x.yaml:7: spec.match[1].regex: error parsing regexp: missing closing ): `(x`"},
		{"no operator", flow + "    - {attribute: a}\n", "x.yaml:6: spec.match[0]: no operator (want exactly one of: equals, not_equals, regex, not_regex, in, exists, gt, gte, lt, lte)"},
		{"two operators", flow + "    - attribute: a\n      equals: b\n      regex: c\n", "x.yaml:8: spec.match[0]: two operators, equals and regex (want exactly one per rule"},
		{"numeric operand", flow + "    - {attribute: a, lt: soon}\n", `x.yaml:6: spec.match[0].lt: "soon" is not a number`},
		{"quoted number ok", flow + "    - {attribute: a, lt: \"5\"}\n    - {attribute: a, bad: 1}\n", "x.yaml:7: spec.match[1].bad: unknown key"},
		{"empty in", flow + "    - {attribute: a, in: []}\n", "x.yaml:6: spec.match[0].in: is empty"},
		{"in scalar", flow + "    - {attribute: a, in: GET}\n", `x.yaml:6: spec.match[0].in: want a list, not "GET"`},
		{"span kind", flow + "    - {attribute: span.kind, in: [server, sever]}\n", `x.yaml:6: spec.match[0].in: "sever" is not a span kind`},
		{"numeric pseudo", flow + "    - {attribute: span.name, gt: 1}\n", "x.yaml:6: spec.match[0].gt: gt compares numbers and span.name is never a number"},
		{"exists", flow + "    - {attribute: a, exists: \"yes\"}\n", `x.yaml:6: spec.match[0].exists: want true or false, not "yes"`},
		{"match missing", "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: c}\nspec: {tier: low}\n", "x.yaml:4: spec.match: missing: a flow needs at least one rule"},
		{"match empty", flow[:len(flow)-1] + " []\n", "x.yaml:5: spec.match: is empty"},
		{"tier", flow + "    - {attribute: a, equals: b}\n  tier: gold\n", `x.yaml:7: spec.tier: "gold" is not a tier (allowed: critical, high, medium, low)`},
		{"kind", "apiVersion: burnwatch.dev/v1\nkind: flow\n", `x.yaml:2: kind: "flow" is not a kind (want Flow or SLO)`},
		{"api version", "apiVersion: v1\nkind: Flow\n", `x.yaml:1: apiVersion: "v1" is not supported (want burnwatch.dev/v1)`},
		{"not a mapping", "[1, 2]\n", "x.yaml:1: want a mapping with keys apiVersion, kind, metadata, spec, not a list"},
		{"syntax", "a: [\n", "x.yaml:1: invalid YAML: did not find expected node content"},
		{"duplicate key", sloHead + "  target: 99\n  target: 98\n", "x.yaml:7: spec.target: key given twice"},
		{"duplicate in file", flow + "    - {attribute: a, equals: b}\n---\n" + flow + "    - {attribute: a, equals: c}\n", `x.yaml:10: metadata.name: flow "checkout" is already defined at x.yaml:3`},
		{"short > long", sloHead + "  target: 99\n  alerting:\n    tiers:\n      - {name: t, severity: page, long: 1h, short: 2h, factor: 2}\n", "x.yaml:9: spec.alerting.tiers[0].short: 2h is longer than long 1h (short must be <= long)"},
		{"tier missing field", sloHead + "  target: 99\n  alerting:\n    tiers:\n      - {name: t, long: 1h, short: 5m, factor: 2}\n", "x.yaml:9: spec.alerting.tiers[0].severity: missing (e.g. severity: page)"},
		{"tier twice", sloHead + "  target: 99\n  alerting:\n    tiers:\n      - {name: t, severity: page, long: 1h, short: 5m, factor: 2}\n      - {name: t, severity: page, long: 1h, short: 5m, factor: 2}\n", `x.yaml:10: spec.alerting.tiers[1].name: tier "t" is given twice`},
		{"disable unknown", sloHead + "  target: 99\n  alerting: {disable: [page]}\n", `x.yaml:7: spec.alerting.disable[0]: no tier "page" (tiers: page-fast, page-slow, ticket-fast, ticket-slow)`},
		{"warm up longer than long", tierDoc("warm_up: 2h"), "x.yaml:9: spec.alerting.tiers[0].warm_up: 2h is longer than long 1h (the tier may fire once Burnwatch has observed the SLO this long; at most long, default long/60 up to short)"},
		{"warm up zero", tierDoc("warm_up: 0s"), "x.yaml:9: spec.alerting.tiers[0].warm_up: 0s is not a positive duration"},
		{"hold without unit", tierDoc("hold: 30"), `x.yaml:9: spec.alerting.tiers[0].hold: "30" has no unit (want e.g. 30d or 30m`},
		{"resolve factor above factor", tierDoc("resolve_factor: 20"), "x.yaml:9: spec.alerting.tiers[0].resolve_factor: 20 is above factor 14.4 (a firing tier resolves once both windows burn at most this for its hold: want a number in (0, factor])"},
		{"resolve factor zero", tierDoc("resolve_factor: 0"), "x.yaml:9: spec.alerting.tiers[0].resolve_factor: 0 is not a positive burn rate (e.g. resolve_factor: 10 with factor: 14.4)"},
		{"resolve factor not a number", tierDoc("resolve_factor: half"), `x.yaml:9: spec.alerting.tiers[0].resolve_factor: "half" is not a number`},
		{"tier key typo", tierDoc("warmup: 5m"), "x.yaml:9: spec.alerting.tiers[0].warmup: unknown key; did you mean warm_up? (allowed: name, severity, long, short, factor, min_events, warm_up, hold, resolve_factor)"},
		{"latency threshold missing", sloHead + "  target: 99\n  objective: {type: latency}\n", "x.yaml:7: spec.objective.threshold: missing: a latency objective needs a threshold"},
		{"threshold not a duration", sloHead + "  target: 99\n  objective: {type: latency, threshold: 0.3s}\n", `x.yaml:7: spec.objective.threshold: "0.3s": fractions are not allowed (write 1h30m for 1.5h, 300ms for 0.3s)`},
		{"period no unit", sloHead + "  target: 99\n  period: 30\n", `x.yaml:7: spec.period: "30" has no unit (want e.g. 30d or 30m`},
		{"runbook", sloHead + "  target: 99\n  runbook: wiki/checkout\n", `x.yaml:7: spec.runbook: "wiki/checkout" is not an absolute http(s) URL`},
		{"label name", "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata:\n  name: c\n  labels: {team-name: x}\n", `x.yaml:5: metadata.labels.team-name: "team-name" is not a label name`},
		{"name", "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: Checkout}\n", `x.yaml:3: metadata.name: "Checkout" is not a valid name`},
		{"name missing", "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {}\n", "x.yaml:3: metadata.name: missing"},

		// Percentile objectives.
		{"percentile missing", sloHead + "  target: 99\n  objective: {type: percentile, threshold: 300ms}\n", "x.yaml:7: spec.objective.percentile: missing: the percentile each slice is judged by, e.g. percentile: 99 for p99"},
		{"percentile zero", sloHead + "  target: 99\n  objective: {type: percentile, percentile: 0, threshold: 300ms}\n", "x.yaml:7: spec.objective.percentile: 0 is not a percentile in (0, 100)"},
		{"percentile as share", sloHead + "  target: 99\n  objective: {type: percentile, percentile: p99, threshold: 300ms}\n", `x.yaml:7: spec.objective.percentile: "p99" is not a number`},
		{"percentile threshold missing", sloHead + "  target: 99\n  objective: {type: percentile, percentile: 99}\n", "x.yaml:7: spec.objective.threshold: missing: a percentile objective needs a threshold, e.g. threshold: 300ms"},
		{"percentile threshold zero", sloHead + "  target: 99\n  objective: {type: percentile, percentile: 99, threshold: 0ms}\n", "x.yaml:7: spec.objective.threshold: 0ms is not a positive duration"},
		{"slice on latency", sloHead + "  target: 99\n  objective: {type: latency, threshold: 1s, slice: 1m}\n", "x.yaml:7: spec.objective.slice: applies only to type percentile (add type: percentile, or remove slice)"},
		{"empty slices", sloHead + "  target: 99\n  objective: {type: percentile, percentile: 99, threshold: 1s, empty_slices: ignore}\n", `x.yaml:7: spec.objective.empty_slices: "ignore" is not an empty-slice rule (allowed: good, bad, skip)`},
		{"slice longer than a window", sloHead + "  target: 99\n  objective:\n    type: percentile\n    percentile: 99\n    threshold: 1s\n    slice: 1h\n  alerting:\n    tiers: [{name: t, severity: page, long: 6h, short: 2h, factor: 6}]\n    exhaustion: [{within: 1d, window: 30m}]\n",
			"x.yaml:11: spec.objective.slice: 1h is longer than the window of exhaustion alert exhaustion-1d, 30m"},
		{"default slice longer than a window", sloHead + "  target: 99\n  objective: {type: percentile, percentile: 99, threshold: 1s}\n  alerting: {tiers: [{name: t, severity: page, long: 1h, short: 30s, factor: 6}]}\n",
			"x.yaml:7: spec.objective.slice: 1m is longer than the short window of tier t, 30s"},
		{"slice does not divide period", sloHead + "  target: 99\n  period: 1d\n  objective: {type: percentile, percentile: 99, threshold: 1s, slice: 7m}\n  alerting: {tiers: []}\n", "x.yaml:8: spec.objective.slice: 7m does not divide the period 1d evenly"},
		{"slice does not divide a day", sloHead + "  target: 99\n  period: week\n  objective: {type: percentile, percentile: 99, threshold: 1s, slice: 7m}\n  alerting: {tiers: []}\n", "x.yaml:8: spec.objective.slice: 7m does not divide a day evenly, which a calendar period needs"},

		// Calendar periods.
		{"calendar typo", sloHead + "  target: 99\n  period: Month\n", `x.yaml:7: spec.period: "Month" is not a period (want a rolling duration such as 30d or 4w, or month or week for a calendar period)`},
		{"time zone", sloHead + "  target: 99\n  period: month\n  time_zone: Berlin\n", `x.yaml:8: spec.time_zone: "Berlin" is not a time zone (want an IANA time zone name such as Europe/Berlin, America/New_York or UTC)`},
		{"time zone empty", sloHead + "  target: 99\n  period: month\n  time_zone: \"\"\n", "x.yaml:8: spec.time_zone: is empty"},
		{"time zone rolling", sloHead + "  target: 99\n  time_zone: UTC\n", "x.yaml:7: spec.time_zone: applies only to a calendar period (period: month or week)"},
		{"week start on month", sloHead + "  target: 99\n  period: month\n  week_start: monday\n", "x.yaml:8: spec.week_start: applies only to period: week"},
		{"week start", sloHead + "  target: 99\n  period: week\n  week_start: mon\n", `x.yaml:8: spec.week_start: "mon" is not a day (allowed: monday, tuesday, wednesday, thursday, friday, saturday, sunday)`},

		// Alerts beyond the tiers.
		{"budget percent sign", sloHead + "  target: 99\n  alerting: {budget: [{consumed: 50%}]}\n", `x.yaml:7: spec.alerting.budget[0].consumed: "50%": write the percentage as a plain number, e.g. consumed: 50 for 50%`},
		{"budget over 100", sloHead + "  target: 99\n  alerting: {budget: [{consumed: 100.5}]}\n", "x.yaml:7: spec.alerting.budget[0].consumed: 100.5 is not a percentage in (0, 100]"},
		{"budget missing", sloHead + "  target: 99\n  alerting:\n    budget:\n      - {name: half}\n", "x.yaml:9: spec.alerting.budget[0].consumed: missing"},
		{"budget severity", sloHead + "  target: 99\n  alerting: {budget: [{consumed: 50, severity: urgent}]}\n", `x.yaml:7: spec.alerting.budget[0].severity: "urgent" is not a severity (allowed: page, ticket)`},
		{"budget twice", sloHead + "  target: 99\n  alerting:\n    budget:\n      - {consumed: 50}\n      - {consumed: 50.0, severity: page}\n",
			`x.yaml:10: spec.alerting.budget[1]: alert name "budget-50" is already used by spec.alerting.budget[0] (names are unique per SLO across tiers, budget, exhaustion and no_data alerts; set name: to tell them apart)`},
		{"budget named like a tier", sloHead + "  target: 99\n  alerting:\n    budget:\n      - {consumed: 50, name: page-fast}\n",
			`x.yaml:9: spec.alerting.budget[0].name: alert name "page-fast" is already used by tier page-fast`},
		{"exhaustion within missing", sloHead + "  target: 99\n  alerting: {exhaustion: [{window: 1h}]}\n", "x.yaml:7: spec.alerting.exhaustion[0].within: missing: alert when the budget left runs out within this long, e.g. within: 1d"},
		{"exhaustion window", sloHead + "  target: 99\n  period: 1w\n  alerting: {exhaustion: [{within: 1d, window: 8d}]}\n", "x.yaml:8: spec.alerting.exhaustion[0].window: 8d is longer than the period 1w"},
		{"exhaustion same within", sloHead + "  target: 99\n  alerting:\n    exhaustion:\n      - {within: 1d}\n      - {within: 24h, window: 6h}\n",
			`x.yaml:10: spec.alerting.exhaustion[1]: alert name "exhaustion-1d" is already used by spec.alerting.exhaustion[0]`},
		{"exhaustion not a list", sloHead + "  target: 99\n  alerting: {exhaustion: {within: 1d}}\n", "x.yaml:7: spec.alerting.exhaustion: want a list, not a mapping"},
		{"no data after missing", sloHead + "  target: 99\n  alerting:\n    no_data: {severity: page}\n", "x.yaml:8: spec.alerting.no_data.after: missing: how long the flow may send no events before the alert fires, e.g. after: 10m"},
		{"no data name", sloHead + "  target: 99\n  alerting:\n    no_data: {after: 10m, name: quiet}\n", "x.yaml:8: spec.alerting.no_data.name: unknown key (allowed: after, severity)"},
		{"no data clash", sloHead + "  target: 99\n  alerting:\n    tiers: [{name: no-data, severity: page, long: 1h, short: 5m, factor: 2}]\n    no_data: {after: 10m}\n",
			`x.yaml:9: spec.alerting.no_data: alert name "no-data" is already used by tier no-data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse("x.yaml", []byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", set)
			}
			if set != nil {
				t.Errorf("Parse returned a set with its error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error:\n%v\ndoes not contain\n%s", err, tt.want)
			}
		})
	}
}

// TestParseCollectsAllErrors checks that one bad field does not hide others.
func TestParseCollectsAllErrors(t *testing.T) {
	doc := "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  flow: f\n  target: 120\n  period: 3x\n  runbook: r\n"
	_, err := Parse("x.yaml", []byte(doc))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var se *Error
		if !errors.As(e, &se) {
			t.Fatalf("%v is not an *Error", e)
		}
		lines = append(lines, se.Line)
	}
	if want := []int{6, 7, 8}; !reflect.DeepEqual(lines, want) {
		t.Errorf("error lines = %v, want %v (%v)", lines, want, err)
	}
}

func TestParseDefaultsAndForms(t *testing.T) {
	doc := `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: f}
spec:
  match:
    - {attribute: http.response.status_code, in: [0x1F4, 503]}
    - {attribute: http.response.status_code, equals: 200}
    - {attribute: a, gte: "1.5"}
  errors: {rules: []}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: s}
spec:
  flow: f
  target: 99.99
  period: 28d
  alerting: {disable: [page-fast, page-slow, ticket-fast, ticket-slow]}
---
apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: s2}
spec:
  flow: f
  target: 9.95e1
  alerting: {tiers: []}
`
	set, err := Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := set.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	f := set.Flows[0]
	if got := f.Match[0].Values; !reflect.DeepEqual(got, []string{"500", "503"}) {
		t.Errorf("in values = %q, want hex normalised", got)
	}
	if f.Match[1].Value != "200" || f.Match[2].Number != 1.5 {
		t.Errorf("operands: %+v", f.Match)
	}
	if !f.EntryOnly || f.Tier != flows.TierMedium {
		t.Errorf("defaults: entry %v tier %q", f.EntryOnly, f.Tier)
	}
	if !f.Errors.StatusError || len(f.Errors.Rules) != 0 {
		t.Errorf("given errors: %+v, want status_error true and no rules", f.Errors)
	}
	s := set.SLOs[0]
	if s.Target != 0.9999 || s.Period != 28*24*time.Hour || s.MinEvents != slo.DefaultMinEvents {
		t.Errorf("slo: target %v period %v min %d", s.Target, s.Period, s.MinEvents)
	}
	// Every tier disabled must mean no tiers, not "the defaults" (nil).
	if s.Tiers == nil || len(s.Tiers) != 0 {
		t.Errorf("all disabled: Tiers = %#v, want empty non-nil", s.Tiers)
	}
	if s2 := set.SLOs[1]; s2.Target != 0.995 || s2.Tiers == nil || len(s2.Tiers) != 0 {
		t.Errorf("s2: target %v tiers %#v", s2.Target, s2.Tiers)
	}
}

func TestAnchorsAndAliases(t *testing.T) {
	doc := `
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: a, labels: &team {team: payments}}
spec:
  match: &shop [{attribute: service.name, equals: shop}]
---
apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: b, labels: *team}
spec: {match: *shop, tier: low}
`
	set, err := Parse("x.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if b := set.Flows[1]; b.Labels["team"] != "payments" || len(b.Match) != 1 || b.Match[0].Value != "shop" {
		t.Errorf("aliased flow: %+v", b)
	}
}

func TestTargetIsExact(t *testing.T) {
	for _, tt := range []struct {
		text string
		want float64
	}{{"99.9", 0.999}, {"99.95", 0.9995}, {"90", 0.9}, {"99.999", 0.99999}, {"50.5", 0.505}} {
		doc := "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {flow: f, target: " + tt.text + "}\n"
		set, err := Parse("x.yaml", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := set.SLOs[0].Target; got != tt.want {
			t.Errorf("target %s = %v, want %v", tt.text, got, tt.want)
		}
	}
}

func TestMergeAndValidate(t *testing.T) {
	mk := func(file, doc string) *Set {
		t.Helper()
		s, err := Parse(file, []byte(doc))
		if err != nil {
			t.Fatalf("Parse %s: %v", file, err)
		}
		return s
	}
	a := mk("a.yaml", "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f}\nspec: {match: [{attribute: a, exists: true}]}\n")
	b := mk("b.yaml", "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec: {flow: f, target: 99}\n")
	c := mk("c.yaml", "\n\napiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f}\nspec: {match: [{attribute: b, exists: true}]}\n")

	if err := b.Validate(); err == nil || err.Error() != `b.yaml:4: spec.flow: flow "f" is not defined (no flows are defined: add a document of kind Flow)` {
		t.Errorf("b alone: %v", err)
	}
	set := &Set{}
	for _, s := range []*Set{a, b} {
		if err := set.Merge(s); err != nil {
			t.Fatalf("Merge: %v", err)
		}
	}
	if err := set.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	err := set.Merge(c)
	if err == nil || err.Error() != `c.yaml:5: metadata.name: flow "f" is already defined at a.yaml:3` {
		t.Errorf("duplicate across files: %v", err)
	}
	if len(set.Flows) != 1 || set.Flows[0].Match[0].Attribute != "a" {
		t.Errorf("duplicate was merged: %+v", set.Flows)
	}
	// Specs built in code have no position but still merge and validate.
	set.SLOs = append(set.SLOs, slo.Spec{Name: "code", Flow: "nope", Objective: slo.Availability, Target: 0.9, Period: time.Hour})
	if err := set.Validate(); err == nil || !strings.HasPrefix(err.Error(), `spec.flow: flow "nope" is not defined`) {
		t.Errorf("code SLO: %v", err)
	}
}

func TestLoadPatterns(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     string
	}{
		{"none", nil, "specs: no files given"},
		{"no match", []string{"testdata/good/flows.yaml", "testdata/nothing/*.yaml"}, `specs: "testdata/nothing/*.yaml" matches no files`},
		{"missing file", []string{"testdata/good/nope.yaml"}, `specs: "testdata/good/nope.yaml" matches no files`},
		{"bad glob", []string{"testdata/[.yaml"}, `specs: pattern "testdata/[.yaml": syntax error in pattern`},
		{"slos without flows", []string{"testdata/good/slos.yaml"}, `testdata/good/slos.yaml:6: spec.flow: flow "checkout" is not defined`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.patterns...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) = %v, want %q", tt.patterns, err, tt.want)
			}
		})
	}
	// The same file through two patterns loads once, not as a duplicate.
	set, err := Load("testdata/good/flows.yaml", "testdata/good/*.yaml")
	if err != nil {
		t.Fatalf("overlapping patterns: %v", err)
	}
	if len(set.Flows) != 3 || len(set.SLOs) != 5 {
		t.Errorf("got %d flows %d slos", len(set.Flows), len(set.SLOs))
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  string
	}{
		{in: "300ms", want: 300 * time.Millisecond},
		{in: "30d", want: 30 * 24 * time.Hour},
		{in: "2w", want: 14 * 24 * time.Hour},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1d12h", want: 36 * time.Hour},
		{in: "1m30s500ms", want: 90*time.Second + 500*time.Millisecond},
		{in: "0s", want: 0},
		{in: "", err: "empty duration"},
		{in: "30", err: `"30" has no unit`},
		{in: "1.5h", err: "fractions are not allowed"},
		{in: "5y", err: `unknown unit "y"`},
		{in: "h", err: "is not a duration"},
		{in: "30m1h", err: "units must go from largest to smallest, each once"},
		{in: "1m1m", err: "units must go from largest to smallest"},
		{in: "-5m", err: "is not a duration"},
		{in: "99999999999999999999w", err: "too long"},
		{in: "15251w", err: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("ParseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			if back, err := ParseDuration(FormatDuration(got)); got != 0 && (err != nil || back != got) {
				t.Errorf("round trip %q -> %q -> %v, %v", tt.in, FormatDuration(got), back, err)
			}
		})
	}
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30d", 14 * 24 * time.Hour: "2w", 90 * time.Minute: "1h30m",
		300 * time.Millisecond: "300ms", 0: "0s", 1500 * time.Microsecond: "1ms500µs",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestBuiltin(t *testing.T) {
	set, err := Load(BuiltinPrefix + "examples.yaml")
	if err != nil {
		t.Fatalf("builtin examples: %v", err)
	}
	names := func() (out []string) {
		for _, f := range set.Flows {
			out = append(out, f.Name)
		}
		return out
	}()
	if want := []string{"checkout", "search", "login"}; !reflect.DeepEqual(names, want) {
		t.Errorf("flows %q, want %q", names, want)
	}
	if len(set.SLOs) != 5 {
		t.Errorf("%d SLOs, want 5", len(set.SLOs))
	}
	// The percentile example carries every alert kind beyond the tiers.
	p := set.SLOs[4]
	if p.Objective != slo.PercentileSlices || p.Calendar == nil || len(p.BudgetAlerts) != 1 || len(p.ExhaustionAlerts) != 1 || p.NoData != 15*time.Minute {
		t.Errorf("percentile example = %+v", p)
	}
	// checkout-availability shows alert labels and a summary template.
	a := set.SLOs[0]
	if a.Name != "checkout-availability" || a.Criticality != flows.TierCritical || a.AlertLabels["channel"] != "payments-oncall" || a.AlertAnnotations["summary"] == "" {
		t.Errorf("alerting example = %+v", a)
	}
	if _, err := Load(BuiltinPrefix + "*.yaml"); err != nil {
		t.Errorf("builtin glob: %v", err)
	}
	_, err = Load(BuiltinPrefix + "nope.yaml")
	if err == nil || err.Error() != `specs: "builtin:nope.yaml" matches no files` {
		t.Errorf("missing builtin: %v", err)
	}
}
