package specs

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/alerting/notify"
	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// TestAlertingLabelsAndAnnotationsErrors pins the message of every way
// spec.alerting.labels and spec.alerting.annotations can be wrong. Each
// document is read after a flow with a team label, then validated, as Load
// does: templates run on sample alerts only once the flow's labels are
// known.
func TestAlertingLabelsAndAnnotationsErrors(t *testing.T) {
	const flowDoc = "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: checkout, labels: {team: payments}}\nspec: {tier: critical, match: [{attribute: a, exists: true}]}\n---\n"
	// The first key under alerting is on line 13.
	const head = flowDoc + "apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s, labels: {service: shop}}\nspec:\n  flow: checkout\n  target: 99\n  alerting:\n"
	const reserved = "(reserved: alertname, slo, flow, tier, severity, criticality)"
	const funcs = "(Go text/template; functions besides Go's: burn, duration, explain, join, percent, summary, upper)"
	const labels = "alertname, channel, criticality, flow, service, severity, slo, team, tier"
	const fields = "Fingerprint, SLO, Flow, Tier, Kind, Severity, Labels, State, StartsAt, EndsAt, LastEvaluated, Objective, Threshold, Percentile, Slice, Target, Period, Calendar, Long, Short, Factor, BudgetLeft, TimeToExhaustion, Consumed, ConsumedThreshold, Within, Silence, After, Good, Total, Runbook, Dashboard, Description, TraceIDs, Flaps, AnnotationTemplates"
	tests := []struct {
		name, alerting, want string
	}{
		// Labels.
		{"invalid label name", "    labels: {team-name: x}\n",
			`x.yaml:13: spec.alerting.labels.team-name: "team-name" is not a label name (letters, digits and '_', not starting with a digit)`},
		{"label name with a digit first", "    labels: {1st: x}\n",
			`x.yaml:13: spec.alerting.labels.1st: "1st" is not a label name (letters, digits and '_', not starting with a digit)`},
		{"label name starting with __", "    labels: {__route: x}\n",
			`x.yaml:13: spec.alerting.labels.__route: label names starting with __ are reserved`},
		{"reserved label severity", "    labels: {severity: critical}\n",
			`x.yaml:13: spec.alerting.labels.severity: "severity" is set by Burnwatch on every alert; choose another name ` + reserved},
		{"reserved label criticality", "    labels:\n      team: a\n      criticality: high\n",
			`x.yaml:15: spec.alerting.labels.criticality: "criticality" is set by Burnwatch on every alert; choose another name ` + reserved},
		{"reserved label alertname", "    labels: {alertname: Mine}\n",
			`x.yaml:13: spec.alerting.labels.alertname: "alertname" is set by Burnwatch on every alert; choose another name ` + reserved},
		{"labels not a mapping", "    labels: [team]\n",
			`x.yaml:13: spec.alerting.labels: want a mapping of label names to values, not a list`},
		{"label value not a value", "    labels: {team: {name: payments}}\n",
			`x.yaml:13: spec.alerting.labels.team: want a value, not a mapping`},
		{"label given twice", "    labels:\n      team: a\n      team: b\n",
			`x.yaml:15: spec.alerting.labels.team: key given twice`},
		{"labels misspelt", "    label: {team: a}\n",
			`x.yaml:13: spec.alerting.label: unknown key; did you mean labels? (allowed: min_events, disable, tiers, budget, exhaustion, no_data, labels, annotations)`},

		// Annotations as YAML.
		{"annotations not a mapping", "    annotations: summary\n",
			`x.yaml:13: spec.alerting.annotations: want a mapping of annotation names to templates, not "summary"`},
		{"annotation not a value", "    annotations: {summary: [a, b]}\n",
			`x.yaml:13: spec.alerting.annotations.summary: want a value, not a list`},
		{"annotation empty", "    annotations: {summary: \"\"}\n",
			`x.yaml:13: spec.alerting.annotations.summary: is empty`},
		{"annotation name", "    annotations: {runbook-url: x}\n",
			`x.yaml:13: spec.alerting.annotations.runbook-url: "runbook-url" is not an annotation name (letters, digits and '_', not starting with a digit)`},
		{"annotation given twice", "    annotations:\n      summary: a\n      summary: b\n",
			`x.yaml:15: spec.alerting.annotations.summary: key given twice`},

		// Templates that do not parse, reported where the template is.
		{"template does not parse", "    annotations:\n      summary: \"{{ .SLO \"\n",
			`x.yaml:14: spec.alerting.annotations.summary: template does not parse: summary:1: unclosed action ` + funcs},
		{"template unknown function", "    annotations: {summary: \"{{ lower .SLO }}\"}\n",
			`x.yaml:13: spec.alerting.annotations.summary: template does not parse: summary:1: function "lower" not defined ` + funcs},

		// Templates that parse but fail on the SLO's alerts.
		{"template names a field that does not exist", "    annotations:\n      summary: \"{{ .Sevrity }}\"\n",
			`x.yaml:14: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:3: executing "summary" at <.Sevrity>: can't evaluate field Sevrity in type *alerting.Alert (did you mean Severity? fields: ` + fields + `)`},
		{"template names a window field that does not exist", "    annotations:\n      summary: \"{{ .Long.Rate }}\"\n",
			`x.yaml:14: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:8: executing "summary" at <.Long.Rate>: can't evaluate field Rate in type alerting.Window (fields: Window, Total, Bad, Burn)`},
		{"template names a label the alerts lack", "    labels: {channel: pay}\n    annotations:\n      summary: \"{{ .Labels.tem }}\"\n",
			`x.yaml:15: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:10: executing "summary" at <.Labels.tem>: map has no entry for key "tem" (did you mean team? this SLO's alerts have the labels ` + labels + `)`},
		{"template function given the wrong type", "    annotations:\n      summary: \"{{ burn .SLO }}\"\n",
			`x.yaml:14: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:8: executing "summary" at <.SLO>: wrong type for value; expected float64; got string`},
		{"template fails on one kind of alert", "    no_data: {after: 10m}\n    annotations:\n      trace: \"{{ index .TraceIDs 0 }}\"\n",
			`x.yaml:15: spec.alerting.annotations.trace: template fails on a sample SLONoData alert: trace:1:3: executing "trace" at <index .TraceIDs 0>: error calling index: reflect: slice index out of range`},
		{"every bad template is reported", "    annotations:\n      summary: \"{{ .Nope }}\"\n      description: \"{{ .Labels.owner }}\"\n",
			`x.yaml:14: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:3: executing "summary" at <.Nope>: can't evaluate field Nope in type *alerting.Alert (fields: ` + fields + `)` + "\n" +
				`x.yaml:15: spec.alerting.annotations.description: template fails on a sample SLOBurnRate alert: description:1:10: executing "description" at <.Labels.owner>: map has no entry for key "owner" (this SLO's alerts have the labels alertname, criticality, flow, service, severity, slo, team, tier)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse("x.yaml", []byte(head+tt.alerting))
			if err == nil {
				err = set.Validate()
			}
			if err == nil {
				t.Fatalf("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// TestTemplateTriedOnTheKindsTheSLOHas checks that a template is tried on
// the kinds of alert its SLO has: indexing the trace IDs is fine for an SLO
// without a no-data alert, whose alerts all link some.
func TestTemplateTriedOnTheKindsTheSLOHas(t *testing.T) {
	doc := "apiVersion: burnwatch.dev/v1\nkind: Flow\nmetadata: {name: f}\nspec: {match: [{attribute: a, exists: true}]}\n---\n" +
		"apiVersion: burnwatch.dev/v1\nkind: SLO\nmetadata: {name: s}\nspec:\n  flow: f\n  target: 99\n  alerting:\n" +
		"    budget: [{consumed: 50}]\n    annotations: {trace: \"{{ index .TraceIDs 0 }}\"}\n"
	set, err := Parse("x.yaml", []byte(doc))
	if err == nil {
		err = set.Validate()
	}
	if err != nil {
		t.Errorf("without no_data: %v", err)
	}
	set, err = Parse("x.yaml", []byte(doc+"    no_data: {after: 5m}\n"))
	if err == nil {
		err = set.Validate()
	}
	if err == nil || !strings.Contains(err.Error(), "template fails on a sample SLONoData alert") {
		t.Errorf("with no_data: %v", err)
	}
}

// TestSLOTakesItsFlow loads an SLO before the file that defines its flow:
// the SLO gets the flow's labels and tier, its alerts carry them, and its
// templates may name them.
func TestSLOTakesItsFlow(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	slos := write("slos.yaml", `apiVersion: burnwatch.dev/v1
kind: SLO
metadata: {name: checkout-availability, labels: {team: checkout-core}}
spec:
  flow: checkout
  target: 99.9
  alerting:
    labels: {channel: payments-oncall}
    annotations:
      summary: "{{ .SLO }} is burning {{ burn .Long.Burn }} — page {{ .Labels.team }} for {{ .Labels.service }}"
`)
	flowsFile := write("flows.yaml", `apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout, labels: {team: payments, service: shop}}
spec:
  tier: high
  match: [{attribute: service.name, equals: shop}]
`)
	set, err := Load(slos, flowsFile)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	s := set.SLOs[0]
	if want := map[string]string{"team": "payments", "service": "shop"}; !reflect.DeepEqual(s.FlowLabels, want) || s.Criticality != flows.TierHigh {
		t.Errorf("from the flow: labels %v criticality %q, want %v and high", s.FlowLabels, s.Criticality, want)
	}
	// The flow's own labels are copied, not shared.
	s.FlowLabels["team"] = "changed"
	if set.Flows[0].Labels["team"] != "payments" {
		t.Errorf("SLO shares its flow's labels map")
	}
	s.FlowLabels["team"] = "payments"

	a := alerting.SampleAlerts(&s)[0]
	want := map[string]string{
		"alertname": "SLOBurnRate", "slo": "checkout-availability", "flow": "checkout", "tier": "page-fast", "severity": "page",
		"criticality": "high", "service": "shop", "channel": "payments-oncall",
		"team": "checkout-core", // the SLO's label wins over the flow's
	}
	if !reflect.DeepEqual(a.Labels, want) {
		t.Errorf("alert labels:\n got %v\nwant %v", a.Labels, want)
	}
	msg := notify.NewMessage(&alerting.Notification{Alerts: []alerting.Alert{a}}, nil)
	if got, want := msg.Summary(&a), "checkout-availability is burning 20.0x — page checkout-core for shop"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}

	// Without the flow's file the missing flow is the one problem: the
	// template naming the flow's label is not run against labels that are
	// not known.
	_, err = Load(slos)
	if want := slos + `:5: spec.flow: flow "checkout" is not defined (no flows are defined: add a document of kind Flow)`; err == nil || err.Error() != want {
		t.Errorf("without the flow:\n%v\nwant\n%s", err, want)
	}
	// A flow without the label the template names fails the SLO, at the
	// template.
	other := write("other-flows.yaml", `apiVersion: burnwatch.dev/v1
kind: Flow
metadata: {name: checkout}
spec: {match: [{attribute: service.name, equals: shop}]}
`)
	_, err = Load(slos, other)
	if err == nil || !strings.HasPrefix(err.Error(), slos+`:10: spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:86: executing "summary" at <.Labels.service>: map has no entry for key "service"`) {
		t.Errorf("flow without the label: %v", err)
	}
}

// TestValidateFillsSLOsBuiltInCode checks that Validate gives SLOs appended
// in code their flow's labels and tier, and checks their templates without
// a position.
func TestValidateFillsSLOsBuiltInCode(t *testing.T) {
	set := &Set{Flows: []flows.Spec{{Name: "f", Labels: map[string]string{"team": "a"}, Match: []flows.Rule{{Attribute: "a", Op: flows.OpExists, Exists: true}}}}}
	set.SLOs = append(set.SLOs, slo.Spec{
		Name: "s", Flow: "f", Objective: slo.Availability, Target: 0.9, Period: slo.DefaultPeriod,
		AlertAnnotations: map[string]string{"summary": "{{ .Labels.owner }}", "note": "{{ .SLO"},
	})
	err := set.Validate()
	if s := set.SLOs[0]; s.Criticality != flows.DefaultTier || s.FlowLabels["team"] != "a" {
		t.Errorf("filled: criticality %q labels %v", s.Criticality, s.FlowLabels)
	}
	want := []string{
		"spec.alerting.annotations.note: template does not parse: note:1: unclosed action",
		`spec.alerting.annotations.summary: template fails on a sample SLOBurnRate alert: summary:1:10: executing "summary" at <.Labels.owner>: map has no entry for key "owner" (this SLO's alerts have the labels alertname, criticality, flow, severity, slo, team, tier)`,
	}
	if err == nil || err.Error() != strings.Join(want, "\n") {
		t.Errorf("Validate:\n%v\nwant\n%s", err, strings.Join(want, "\n"))
	}
}

// TestBuiltinSummaryTemplate renders the example's summary template on
// each kind of alert, as if the SLO had them all: it must read well for
// every one.
func TestBuiltinSummaryTemplate(t *testing.T) {
	set, err := Load(BuiltinPrefix + "examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := set.SLOs[0]
	s.BudgetAlerts = []slo.BudgetAlert{{Name: "budget-50", Severity: slo.Ticket, Consumed: 0.5}}
	s.ExhaustionAlerts = []slo.ExhaustionAlert{{Name: "exhaustion-1d", Severity: slo.Page, Window: time.Hour, Within: 24 * time.Hour}}
	s.NoData = 10 * time.Minute
	want := []string{
		"[CRITICAL] checkout-availability: error budget burn 20.0x over 1h, above 14.4x (page-fast) — payments, #payments-oncall",
		"[CRITICAL] checkout-availability: 60.0% of the 30d error budget spent, over 50% (budget-50) — payments, #payments-oncall",
		"[CRITICAL] checkout-availability: error budget exhausted in 18h at the 1h burn rate (exhaustion-1d) — payments, #payments-oncall",
		"[CRITICAL] checkout-availability: flow checkout sent no events for 12m (no-data) — payments, #payments-oncall",
	}
	var got []string
	for _, a := range alerting.SampleAlerts(&s) {
		got = append(got, notify.NewMessage(&alerting.Notification{Alerts: []alerting.Alert{a}}, nil).Summary(&a))
	}
	if !slices.Equal(got, want) {
		t.Errorf("summaries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
