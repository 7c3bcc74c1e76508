package promrules

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/alerting"
	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
	"github.com/burnwatch/burnwatch/specs"
)

// EventsMetric is the counter the daemon exposes for every event-based
// SLO, by outcome (good or bad): the events its windows counted, exactly.
// The rules of SLOs measured from spans or from OTLP metrics read it.
const EventsMetric = "burnwatch_slo_events_total"

// RatioRecord is the name of the recording rule of an SLO's error ratio
// over window w: slo:burnwatch_error_ratio:increase1h for an hour. Its
// series carry the label slo (and the grouping labels of a grouped PromQL
// indicator).
func RatioRecord(w time.Duration) string {
	return "slo:burnwatch_error_ratio:increase" + slo.FormatDuration(w)
}

// EventsRecord is the name of the recording rule of an SLO's events over
// window w, for the minimum-traffic guard of the tiers whose long window it
// is.
func EventsRecord(w time.Duration) string {
	return "slo:burnwatch_events:increase" + slo.FormatDuration(w)
}

// Options tune Generate.
type Options struct {
	// NoKeepFiringFor leaves keep_firing_for out of the alerts, for rulers
	// that do not know it (Prometheus before 2.42). A tier's alert then
	// resolves as soon as its condition stops holding, without the hold the
	// daemon applies.
	NoKeepFiringFor bool
}

// File is a Prometheus rule file.
type File struct {
	Groups []Group `yaml:"groups"`
}

// Group is one rule group: the rules of one SLO.
type Group struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording rule (Record) or an alerting rule (Alert).
type Rule struct {
	Record        string            `yaml:"record,omitempty"`
	Alert         string            `yaml:"alert,omitempty"`
	Expr          string            `yaml:"expr"`
	KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
	Labels        map[string]string `yaml:"labels,omitempty"`
	Annotations   map[string]string `yaml:"annotations,omitempty"`
}

// Note is something Generate left out, and why: a whole SLO, or one of its
// alert annotations.
type Note struct {
	SLO string
	// Annotation is the annotation left out; empty when the SLO was.
	Annotation string
	Reason     string
}

func (n Note) String() string {
	if n.Annotation != "" {
		return fmt.Sprintf("slo %q: annotation %s left out: %s", n.SLO, n.Annotation, n.Reason)
	}
	return fmt.Sprintf("slo %q: no rules: %s", n.SLO, n.Reason)
}

// Generate writes the rules of every SLO of set that Prometheus can
// evaluate exactly, one group per SLO in the set's order, and notes what it
// left out. An error means a generated expression does not parse: a bug
// here, not in the specs.
func Generate(set *specs.Set, opts Options) (*File, []Note, error) {
	f := &File{Groups: []Group{}}
	var notes []Note
	grouped := map[string][]string{}
	for _, fl := range set.Flows {
		if len(fl.GroupBy) > 0 {
			grouped[fl.Name] = fl.GroupBy
		}
	}
	for i := range set.SLOs {
		s := &set.SLOs[i]
		in := set.Indicators[s.Name]
		var keys []string
		if in == nil {
			keys = grouped[s.Flow]
		}
		src, why := sourceOf(s, in, keys != nil)
		if src != nil && len(s.Tiers) == 0 {
			src, why = nil, "it has no tiers (alerting.tiers: []): no window to record, nothing to alert on"
		}
		if src == nil {
			notes = append(notes, Note{SLO: s.Name, Reason: why})
			continue
		}
		var by []string
		if in != nil && len(in.PromQL) > 0 && !in.Grouping.Without {
			by = in.Grouping.Labels
		}
		g, n, err := group(s, src, split{keys: keys, by: by}, opts)
		if err != nil {
			return nil, nil, fmt.Errorf("slo %q: %w", s.Name, err)
		}
		f.Groups = append(f.Groups, g)
		notes = append(notes, n...)
	}
	return f, notes, nil
}

// sourceOf says where s's counts come from in Prometheus, or why they
// cannot; grouped says its flow is split by group_by.
func sourceOf(s *slo.Spec, in *metricsli.Indicator, grouped bool) (counts, string) {
	switch {
	case s.Objective == slo.PercentileSlices:
		return nil, "a time-slice SLO judges each slice by its true percentile, which Prometheus cannot compute " +
			"from counters; the daemon alerts on it, and its burnwatch_slo_burn_rate gauges can be graphed"
	case in == nil || len(in.PromQL) == 0:
		// Spans, or OTLP metrics named as the OTLP data names them (their
		// Prometheus names depend on the unit and type that come with
		// the data): the daemon's counters.
		return daemonCounts(s.Name, grouped), ""
	}
	return promqlCounts(in), ""
}

// split says how the daemon splits an SLO into one copy per group, each
// with its own alerts: by the keys of its flow's group_by (keys), or by
// the labels of its PromQL indicator's sum by (by).
type split struct{ keys, by []string }

func (sp split) any() bool { return sp.keys != nil || sp.by != nil }

// group builds the rules of one SLO: for each distinct window of its tiers
// the error ratio, for each long window the events, then an alert per tier.
//
// A split SLO's alerts are one per group, labelled as the daemon labels
// its copy's: slo and flow name the copy (api-availability{http.route="/cart"},
// api{http.route="/cart"}), and each key's value is a label. The copies
// of a grouped flow have their own counters, which the rules keep apart by
// their slo label and read the key values from (groupLabels); a PromQL
// sum by keeps its labels, from which the names are made (byLabels).
func group(s *slo.Spec, src counts, sp split, opts Options) (Group, []Note, error) {
	keys := sp.keys
	g := Group{Name: "burnwatch-" + s.Name}
	sel := fmt.Sprintf("{slo=%s}", strconv.Quote(s.Name))
	recordLabels := map[string]string{"slo": s.Name}
	if keys != nil {
		sel = fmt.Sprintf("{slo=~%s}", strconv.Quote(copiesRE(s.Name)))
		recordLabels = nil // each copy's own slo label
	}
	long := map[time.Duration]bool{}
	var windows []time.Duration
	for _, t := range s.Tiers {
		windows = append(windows, t.Long, t.Short)
		long[t.Long] = true
	}
	slices.Sort(windows)
	for _, w := range slices.Compact(windows) {
		bad, total, events, err := src(w)
		if err != nil {
			return Group{}, nil, err
		}
		ratio, err := ratioOf(bad, total)
		if err != nil {
			return Group{}, nil, err
		}
		g.Rules = append(g.Rules, Rule{Record: RatioRecord(w), Expr: ratio, Labels: recordLabels})
		if long[w] {
			ev, err := format(events)
			if err != nil {
				return Group{}, nil, err
			}
			g.Rules = append(g.Rules, Rule{Record: EventsRecord(w), Expr: ev, Labels: recordLabels})
		}
	}
	budget := formatNumber(1 - s.Target)
	own, notes := ownAnnotations(s)
	for _, t := range s.Tiers {
		factor := formatNumber(t.Factor)
		expr := fmt.Sprintf("%s%s / %s > %s\nand\n%s%s / %s > %s",
			RatioRecord(t.Long), sel, budget, factor, RatioRecord(t.Short), sel, budget, factor)
		if min := cmp.Or(t.MinEvents, s.MinEvents); min > 0 {
			expr += fmt.Sprintf("\nand\n%s%s >= %d", EventsRecord(t.Long), sel, min)
		}
		switch {
		case keys != nil:
			expr = groupLabels(expr, s, keys)
		case sp.by != nil:
			expr = byLabels(expr, s, sp.by)
		}
		expr, err := format(expr)
		if err != nil {
			return Group{}, nil, err
		}
		r := Rule{Alert: alerting.AlertName, Expr: expr, Labels: alertLabels(s, t), Annotations: annotations(s, t, sp.any())}
		if sp.any() {
			// From each copy's series, so that its alerts stay apart.
			delete(r.Labels, alerting.LabelSLO)
			delete(r.Labels, alerting.LabelFlow)
		}
		maps.Copy(r.Annotations, own)
		if !opts.NoKeepFiringFor {
			r.KeepFiringFor = slo.FormatDuration(cmp.Or(t.Hold, t.Short))
		}
		g.Rules = append(g.Rules, r)
	}
	return g, notes, nil
}

// alertLabels are the labels the daemon gives the tier's alert, but
// alertname, which the rule's name sets: the flow's, the SLO's and the
// SLO's alert labels, then slo, flow, tier, severity and criticality. Routes
// written for the daemon's alerts match these too.
func alertLabels(s *slo.Spec, t slo.Tier) map[string]string {
	l := map[string]string{}
	maps.Copy(l, s.FlowLabels)
	maps.Copy(l, s.Labels)
	maps.Copy(l, s.AlertLabels)
	for k, v := range l {
		l[k] = literal(v) // Prometheus expands templates in label values too
	}
	delete(l, alerting.LabelAlertName)
	l[alerting.LabelSLO] = s.Name
	l[alerting.LabelFlow] = s.Flow
	l[alerting.LabelTier] = t.Name
	l[alerting.LabelSeverity] = string(t.Severity)
	delete(l, alerting.LabelCriticality)
	if s.Criticality != "" {
		l[alerting.LabelCriticality] = s.Criticality
	}
	return l
}

// annotations are the tier's texts, worded as the daemon's: the alert's
// value is the burn rate over the long window. A grouped SLO's texts name
// the group's copy.
func annotations(s *slo.Spec, t slo.Tier, grouped bool) map[string]string {
	long, short := slo.FormatDuration(t.Long), slo.FormatDuration(t.Short)
	factor := formatNumber(t.Factor)
	name := s.Name
	if grouped {
		name = "{{ $labels.slo }}"
	}
	a := map[string]string{
		"summary": fmt.Sprintf("%s: error budget burn {{ printf \"%%.1f\" $value }}x over %s, above %sx (%s)",
			name, long, factor, t.Name),
		"description": fmt.Sprintf("%s: %s over %s. The error budget burns faster than %sx over both %s and %s; "+
			"at %sx the whole budget lasts %s.",
			name, objective(s), periodText(s), factor, long, short, factor, alerting.FormatDuration(time.Duration(float64(s.Period)/t.Factor))),
		"objective":    objective(s),
		"factor":       factor,
		"window_long":  long,
		"window_short": short,
	}
	if s.Runbook != "" {
		a["runbook_url"] = literal(s.Runbook)
	}
	if s.Dashboard != "" {
		a["dashboard_url"] = literal(s.Dashboard)
	}
	if s.Description != "" {
		a["slo_description"] = literal(s.Description)
	}
	return a
}

// ownAnnotations are the SLO's own alert annotations that carry over:
// plain text. A template renders on the daemon's alert fields (burn rates,
// budget, exemplars), which a Prometheus alert does not have, so it is left
// out with a note.
func ownAnnotations(s *slo.Spec) (map[string]string, []Note) {
	own := map[string]string{}
	var notes []Note
	for _, k := range slices.Sorted(maps.Keys(s.AlertAnnotations)) {
		v := s.AlertAnnotations[k]
		if strings.Contains(v, "{{") {
			notes = append(notes, Note{SLO: s.Name, Annotation: k,
				Reason: "it is a Burnwatch template, rendered on fields a Prometheus alert does not have; the rules use their own text"})
			continue
		}
		own[k] = v
	}
	return own, notes
}

// copiesRE matches the slo label of the SLO named name and of its copies
// for the groups of its flow: name, or name{...}. SLO names hold no '{', so
// no other SLO's name matches.
func copiesRE(name string) string { return regexp.QuoteMeta(name) + `(\{.*\})?` }

// groupLabels gives a grouped SLO's alert expression the labels the
// daemon's alerts of a group carry, read from the copy's slo label: flow,
// the group's flow (the SLO's flow followed by what follows the SLO's name:
// api{http.route="/cart"}), and for each key its value under the key's
// label name (http_route="/cart"; values holding quotes or backslashes stay
// escaped as the name writes them). The SLO itself, which counts the
// spans without the keys, gets flow and no key labels.
func groupLabels(expr string, s *slo.Spec, keys []string) string {
	q := strconv.Quote
	out := fmt.Sprintf("label_replace(\n%s,\n  %s, %s, \"slo\", %s\n)",
		indent(expr), q(alerting.LabelFlow), q(s.Flow+"$1"), q(regexp.QuoteMeta(s.Name)+"(.*)"))
	for _, k := range keys {
		re := `.*[{,]` + regexp.QuoteMeta(k) + `="((?:[^"\\]|\\.)*)".*`
		out = fmt.Sprintf("label_replace(\n%s,\n  %s, \"$1\", \"slo\", %s\n)", indent(out), q(groupLabel(k)), q(re))
	}
	return out
}

// byLabels gives the alert expression of an SLO whose PromQL indicator
// sums by labels the labels the daemon's alerts of a group carry: slo and
// flow name the group's copy, the SLO's own followed by the group's labels
// and values in series notation (api-availability{http_route="/cart"},
// metric:api-availability{http_route="/cart"}), a label without a value
// left out; a series with none of them is the SLO itself. The labels
// themselves are on the series already. Values holding quotes or
// backslashes, which the daemon's names escape, are written unescaped.
func byLabels(expr string, s *slo.Spec, labels []string) string {
	q := strconv.Quote
	wrap := func(inner, args string) string {
		return fmt.Sprintf("label_replace(\n%s,\n  %s\n)", indent(inner), args)
	}
	out := expr
	parts := make([]string, len(labels))
	for i, l := range labels {
		// A part per label, l="value", absent without a value.
		parts[i] = fmt.Sprintf("burnwatch_group_%d", i)
		out = wrap(out, fmt.Sprintf(`%s, %s, %s, "(.+)"`, q(parts[i]), q(l+`="$1"`), q(l)))
	}
	joined := parts[0]
	if len(parts) > 1 {
		// Joined with commas, then the commas of absent parts taken out:
		// at both ends, and runs inside (one run fewer than the parts).
		joined = "burnwatch_group"
		qs := make([]string, len(parts))
		for i, p := range parts {
			qs[i] = q(p)
		}
		out = fmt.Sprintf("label_join(\n%s,\n  %s, \",\", %s\n)", indent(out), q(joined), strings.Join(qs, ", "))
		out = wrap(out, fmt.Sprintf(`%s, "$1", %s, ",*(.*?),*"`, q(joined), q(joined)))
		for range len(parts) - 2 {
			out = wrap(out, fmt.Sprintf(`%s, "$1,$2", %s, "(.*?),,+(.*)"`, q(joined), q(joined)))
		}
		parts = append(parts, joined)
	}
	out = wrap(out, fmt.Sprintf(`%s, %s, "", ""`, q(alerting.LabelFlow), q(s.Flow)))
	out = wrap(out, fmt.Sprintf(`%s, %s, %s, "(.+)"`, q(alerting.LabelSLO), q(s.Name+"{$1}"), q(joined)))
	out = wrap(out, fmt.Sprintf(`%s, %s, %s, "(.+)"`, q(alerting.LabelFlow), q(s.Flow+"{$1}"), q(joined)))
	for _, p := range parts {
		out = wrap(out, fmt.Sprintf(`%s, "", "", ""`, q(p))) // helpers gone
	}
	return out
}

// groupLabel is a group_by key as the label of a group's alerts, as the
// daemon names it: http.route is http_route.
func groupLabel(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// literal makes s safe where Prometheus expands templates: text holding
// "{{" becomes a template that prints it.
func literal(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	return "{{ " + strconv.Quote(s) + " }}"
}

// objective states the SLO as a sentence.
func objective(s *slo.Spec) string {
	target := strconv.FormatFloat(math.Round(s.Target*100*1e4)/1e4, 'f', -1, 64) + "%"
	switch {
	case metricsli.IsMetricFlow(s.Flow):
		return target + " of events are good"
	case s.Objective == slo.LatencyThreshold:
		return fmt.Sprintf("%s of requests succeed within %s", target, s.Threshold)
	}
	return target + " of requests succeed"
}

func periodText(s *slo.Spec) string {
	switch {
	case s.Calendar != nil && s.Calendar.Unit == slo.Week:
		return "each calendar week"
	case s.Calendar != nil:
		return "each calendar month"
	}
	return "a rolling " + slo.FormatDuration(s.Period)
}

// formatNumber writes a float as short as it reads exactly, with float
// noise (1 - 0.999 = 0.0010000000000000009) rounded away.
func formatNumber(f float64) string {
	return strconv.FormatFloat(f, 'g', 12, 64)
}

// Marshal writes the file as YAML after a header naming the spec files it
// was generated from.
func (f *File) Marshal(sources []string) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Prometheus rules for Burnwatch SLOs, generated by `burnwatch rules` from\n")
	fmt.Fprintf(&b, "# %s. Do not edit: change the spec files and generate again.\n", strings.Join(sources, ", "))
	fmt.Fprintf(&b, "# SLOs not written in PromQL read %s from the daemon's /metrics;\n", EventsMetric)
	fmt.Fprintf(&b, "# docs/rules.md says what each rule is.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
