package specs

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// inlineSLI reads an SLI written in an SLO (metadata and spec).
func (r *openSLOResolver) inlineSLI(p *parser, n *yaml.Node, path string) *resolvedSLI {
	f, ok := p.fields(n, path, "metadata", "spec")
	if !ok {
		return nil
	}
	if f["spec"] == nil {
		p.errorf(n, join(path, "spec"), "missing")
		return nil
	}
	return r.sliSpec(p, f["spec"], join(path, "spec"))
}

// refSLI finds the SLI an indicatorRef names; its problems are reported
// once, where it is written.
func (r *openSLOResolver) refSLI(p *parser, n *yaml.Node, path string) *resolvedSLI {
	o := r.ref(p, n, path, "SLI")
	if o == nil {
		return nil
	}
	if got, ok := r.slis[o]; ok {
		return got
	}
	sp := r.parser(o)
	got := r.sliSpec(sp, o.spec, "spec")
	r.done(sp)
	r.slis[o] = got
	return got
}

// ref finds the object of kind a reference names, or reports it.
func (r *openSLOResolver) ref(p *parser, n *yaml.Node, path, kind string) *openSLOObject {
	name, ok := p.nonEmpty(n, path)
	if !ok {
		return nil
	}
	if o := r.os.objects[kind][name]; o != nil {
		return o
	}
	var names []string
	for k := range r.os.objects[kind] {
		names = append(names, k)
	}
	slices.Sort(names)
	msg := "no OpenSLO " + kind + " " + `"` + name + `"` + " is defined"
	if c := closest(name, names); c != "" {
		msg += "; did you mean " + c + "?"
	}
	if len(names) > 0 {
		msg += " (" + kind + "s: " + strings.Join(names, ", ") + ")"
	}
	p.errorf(n, path, "%s", msg)
	return nil
}

func (r *openSLOResolver) sliSpec(p *parser, n *yaml.Node, path string) *resolvedSLI {
	f, ok := p.fields(n, path, openSLOSLIKeys...)
	if !ok {
		return nil
	}
	th, ratio := f["thresholdMetric"], f["ratioMetric"]
	switch {
	case th != nil && ratio != nil:
		p.errorf(th, join(path, "thresholdMetric"), "give thresholdMetric or ratioMetric, not both")
	case th != nil:
		p.errorf(th, join(path, "thresholdMetric"), "a threshold metric judges a value per time slice, which Burnwatch does only for span latency percentiles: measure events with ratioMetric (good or bad, and total), or a Burnwatch flow with a percentile objective")
		return &resolvedSLI{threshold: true}
	case ratio != nil:
		return r.ratioMetric(p, ratio, join(path, "ratioMetric"))
	default:
		p.errorf(n, path, "want ratioMetric (or thresholdMetric)")
	}
	return nil
}

// ratioMetric compiles an OpenSLO ratio metric's Prometheus queries.
func (r *openSLOResolver) ratioMetric(p *parser, n *yaml.Node, path string) *resolvedSLI {
	f, ok := p.fields(n, path, openSLORatioKeys...)
	if !ok {
		return nil
	}
	counters := true
	if c := f["counter"]; c != nil {
		if v, ok := p.boolean(c, join(path, "counter")); ok && !v {
			p.errorf(c, join(path, "counter"), "false: a value that goes up and down cannot be counted as events; Burnwatch needs counters (counter: true)")
			return nil
		}
	}
	q := metricsli.PromQL{Counters: counters}
	nodes, paths := map[string]*yaml.Node{}, map[string]string{}
	raw := f["raw"]
	if raw != nil {
		for _, k := range []string{"good", "bad", "total"} {
			if f[k] != nil {
				p.errorf(f[k], join(path, k), "raw is given: give raw alone, or two of good, bad and total")
				return nil
			}
		}
		rt := f["rawType"]
		if rt == nil {
			p.errorf(raw, join(path, "rawType"), "missing (want success or failure)")
			return nil
		}
		i, ok := p.choice(rt, join(path, "rawType"), "a raw type", "success", "failure")
		if !ok {
			return nil
		}
		query, qn, ok := r.promQuery(p, raw, join(path, "raw"))
		if !ok {
			return nil
		}
		q.Ratio, nodes["ratio"], paths["ratio"] = query, qn, join(path, "raw.metricSource.spec.query")
		in := p.compilePromQL(q, raw, join(path, "raw"), nodes, paths)
		if in != nil && i == 0 {
			in.Good, in.Bad = in.Bad, nil // a success ratio: good / total
		}
		return &resolvedSLI{in: in}
	}
	if !p.twoOf(n, path, f, "raw with rawType") {
		return nil
	}
	good := true
	for _, k := range []string{"good", "bad", "total"} {
		v := f[k]
		if v == nil {
			continue
		}
		query, qn, ok := r.promQuery(p, v, join(path, k))
		good = good && ok
		nodes[k], paths[k] = qn, join(path, k+".metricSource.spec.query")
		switch k {
		case "good":
			q.Good = query
		case "bad":
			q.Bad = query
		default:
			q.Total = query
		}
	}
	if !good {
		return nil
	}
	return &resolvedSLI{in: p.compilePromQL(q, n, path, nodes, paths)}
}

// promQuery reads a metric's source: a Prometheus query, given inline
// (type: Prometheus) or through a DataSource of type Prometheus.
func (r *openSLOResolver) promQuery(p *parser, n *yaml.Node, path string) (string, *yaml.Node, bool) {
	f, ok := p.fields(n, path, "metricSource")
	if !ok {
		return "", nil, false
	}
	ms := f["metricSource"]
	if ms == nil {
		p.errorf(n, join(path, "metricSource"), "missing")
		return "", nil, false
	}
	path = join(path, "metricSource")
	sf, ok := p.fields(ms, path, openSLOSourceKeys...)
	if !ok {
		return "", nil, false
	}
	typ, typAt := "", ms
	if t := sf["type"]; t != nil {
		typ, _ = p.scalar(t, join(path, "type"))
		typAt = t
	} else if ref := sf["metricSourceRef"]; ref != nil {
		if ds := r.ref(p, ref, join(path, "metricSourceRef"), "DataSource"); ds != nil {
			if df, ok := r.parser(ds).fields(ds.spec, "spec", "description", "type", "connectionDetails"); ok && df["type"] != nil {
				typ = df["type"].Value
			}
		} else {
			return "", nil, false
		}
	}
	if !strings.EqualFold(typ, "prometheus") {
		if typ == "" {
			p.errorf(ms, join(path, "type"), "missing (want Prometheus: Burnwatch reads PromQL queries over the OTLP metrics it receives)")
		} else {
			p.errorf(typAt, join(path, "type"), "%q is not supported (want Prometheus: Burnwatch reads PromQL queries over the OTLP metrics it receives)", typ)
		}
		return "", nil, false
	}
	spec := sf["spec"]
	if spec == nil {
		p.errorf(ms, join(path, "spec"), "missing: spec.query, the PromQL")
		return "", nil, false
	}
	qf, ok := p.fields(spec, join(path, "spec"), "query")
	if !ok {
		return "", nil, false
	}
	if qf["query"] == nil {
		p.errorf(spec, join(path, "spec.query"), "missing: the PromQL")
		return "", nil, false
	}
	query, ok := p.nonEmpty(qf["query"], join(path, "spec.query"))
	return query, qf["query"], ok
}

// openSLOObjective reads one objective into s.
func (p *parser) openSLOObjective(n *yaml.Node, path, method string, sli *resolvedSLI, s *slo.Spec) {
	f, ok := p.fields(n, path, openSLOObjKeys...)
	if !ok {
		return
	}
	for _, k := range []string{"indicator", "indicatorRef", "compositeWeight"} {
		if f[k] != nil {
			p.errorf(f[k], join(path, k), "composite SLOs are not supported: write one OpenSLO SLO per indicator")
			return
		}
	}
	if d := f["displayName"]; d != nil && s.Description == "" {
		s.Description, _ = p.scalar(d, join(path, "displayName"))
	}
	t, tp := f["target"], f["targetPercent"]
	switch {
	case t != nil && tp != nil:
		p.errorf(tp, join(path, "targetPercent"), "give target or targetPercent, not both")
	case t != nil:
		if v, ok := p.number(t, join(path, "target")); ok {
			if v > 0 && v < 1 {
				s.Target = v
			} else {
				p.errorf(t, join(path, "target"), "%s is not a fraction in (0, 1) (e.g. 0.999, or targetPercent: 99.9)", t.Value)
			}
		}
	case tp != nil:
		s.Target, _ = p.target(tp, join(path, "targetPercent"))
	default:
		p.errorf(n, join(path, "target"), "missing: target (0.999) or targetPercent (99.9)")
	}
	if method == "Timeslices" && (sli == nil || !sli.threshold) {
		p.errorf(n, path, "budgetingMethod Timeslices judges each slice's ratio, which Burnwatch does not (its time slices are span latency percentiles): use Occurrences, which counts the same events exactly")
		return
	}
	for _, k := range []string{"op", "value", "timeSliceTarget", "timeSliceWindow"} {
		if f[k] != nil && method == "Occurrences" {
			p.errorf(f[k], join(path, k), "applies to thresholdMetric and Timeslices, not to a ratioMetric counted by Occurrences")
		}
	}
}

// alertPolicies maps an SLO's alert policies onto tiers (burn-rate
// conditions) and a no-data alert; they replace the default tiers.
func (r *openSLOResolver) alertPolicies(p *parser, n *yaml.Node, s *slo.Spec) {
	items, ok := p.list(n, "spec.alertPolicies")
	if !ok {
		return
	}
	s.Tiers = []slo.Tier{}
	var targets []string
	for i, item := range items {
		path := index("spec.alertPolicies", i)
		f, ok := p.fields(item, path, "alertPolicyRef", "kind", "metadata", "spec")
		if !ok {
			continue
		}
		pp, spec, specPath := p, f["spec"], join(path, "spec")
		if ref := f["alertPolicyRef"]; ref != nil {
			o := r.ref(p, ref, join(path, "alertPolicyRef"), "AlertPolicy")
			if o == nil {
				continue
			}
			pp, spec, specPath = r.parser(o), o.spec, "spec"
		} else if spec == nil {
			p.errorf(item, path, "want alertPolicyRef, or an inline AlertPolicy (kind, metadata, spec)")
			continue
		}
		targets = append(targets, r.policy(pp, spec, specPath, s)...)
		if pp != p {
			r.done(pp)
		}
	}
	slices.Sort(targets)
	targets = slices.Compact(targets)
	switch {
	case len(targets) == 1:
		if s.AlertLabels == nil {
			s.AlertLabels = map[string]string{}
		}
		s.AlertLabels["notification_target"] = targets[0]
	case len(targets) > 1:
		p.errorf(n, "spec.alertPolicies", "name several notification targets (%s); Burnwatch's alert labels are per SLO, so it sets the label notification_target only for one: route on tier or severity instead", strings.Join(targets, ", "))
	}
}

// policy maps one AlertPolicy and returns the names of its notification
// targets.
func (r *openSLOResolver) policy(p *parser, n *yaml.Node, path string, s *slo.Spec) []string {
	f, ok := p.fields(n, path, openSLOPolicyKeys...)
	if !ok {
		return nil
	}
	breaching, noData := true, false
	if b := f["alertWhenBreaching"]; b != nil {
		breaching, _ = p.boolean(b, join(path, "alertWhenBreaching"))
	}
	if b := f["alertWhenNoData"]; b != nil {
		noData, _ = p.boolean(b, join(path, "alertWhenNoData"))
	}
	if b := f["alertWhenResolved"]; b != nil {
		p.boolean(b, join(path, "alertWhenResolved")) // receivers choose whether to hear of resolved alerts
	}
	c := f["conditions"]
	if c == nil {
		p.errorf(n, join(path, "conditions"), "missing: one condition")
		return nil
	}
	items, ok := p.list(c, join(path, "conditions"))
	if !ok {
		return nil
	}
	if len(items) != 1 {
		p.errorf(c, join(path, "conditions"), "has %d conditions (OpenSLO allows exactly one)", len(items))
		return nil
	}
	cp, cpath := p, index(join(path, "conditions"), 0)
	cf, ok := p.fields(items[0], cpath, "conditionRef", "kind", "metadata", "spec")
	if !ok {
		return nil
	}
	var name string
	cspec := cf["spec"]
	if ref := cf["conditionRef"]; ref != nil {
		o := r.ref(p, ref, join(cpath, "conditionRef"), "AlertCondition")
		if o == nil {
			return nil
		}
		cp, cspec, cpath, name = r.parser(o), o.spec, "spec", o.name
		defer r.done(cp)
	} else if cspec == nil {
		p.errorf(items[0], cpath, "want conditionRef, or an inline AlertCondition (kind, metadata, spec)")
		return nil
	} else {
		if m := cf["metadata"]; m != nil {
			if mf, ok := p.fields(m, join(cpath, "metadata"), openSLOMetaKeys...); ok && mf["name"] != nil {
				name, _ = p.nonEmpty(mf["name"], join(cpath, "metadata.name"))
			}
		}
		cpath = join(cpath, "spec")
	}
	tier, ok := cp.condition(cspec, cpath, name, s.Period)
	if ok && breaching {
		if slices.ContainsFunc(s.Tiers, func(t slo.Tier) bool { return t.Name == tier.Name }) {
			cp.errorf(cspec, cpath, "condition %q is used twice by this SLO", tier.Name)
		} else {
			s.Tiers = append(s.Tiers, tier)
		}
	}
	if ok && noData {
		s.NoData, s.NoDataSeverity = tier.Long, tier.Severity
	}
	var targets []string
	if nt := f["notificationTargets"]; nt != nil {
		if items, ok := p.list(nt, join(path, "notificationTargets")); ok {
			for i, item := range items {
				tp := index(join(path, "notificationTargets"), i)
				tf, ok := p.fields(item, tp, "targetRef", "kind", "metadata", "spec")
				if !ok {
					continue
				}
				if ref := tf["targetRef"]; ref != nil {
					if o := r.ref(p, ref, join(tp, "targetRef"), "AlertNotificationTarget"); o != nil {
						targets = append(targets, o.name)
					}
				} else if m := tf["metadata"]; m != nil {
					if mf, ok := p.fields(m, join(tp, "metadata"), openSLOMetaKeys...); ok && mf["name"] != nil {
						if v, ok := p.nonEmpty(mf["name"], join(tp, "metadata.name")); ok {
							targets = append(targets, v)
						}
					}
				}
			}
		}
	}
	return targets
}

// condition maps a burn-rate AlertCondition onto a tier: lookbackWindow is
// the long window, alertAfter (or a twelfth of the long window, as in the
// SRE Workbook) the short one, threshold the factor.
func (p *parser) condition(n *yaml.Node, path, name string, period time.Duration) (slo.Tier, bool) {
	f, ok := p.fields(n, path, openSLOCondKeys...)
	if !ok {
		return slo.Tier{}, false
	}
	t := slo.Tier{Name: name}
	good := true
	if name == "" || len(name) > maxNameLen || !nameRE.MatchString(name) {
		p.errorf(n, path, "condition name %q is not a valid tier name (lowercase letters, digits, '-', '_' and '.')", name)
		good = false
	}
	if sv := f["severity"]; sv == nil {
		p.errorf(n, join(path, "severity"), "missing (want page or ticket)")
		good = false
	} else if t.Severity, ok = p.severity(sv, join(path, "severity")); !ok {
		good = false
	}
	c := f["condition"]
	if c == nil {
		p.errorf(n, join(path, "condition"), "missing")
		return t, false
	}
	path = join(path, "condition")
	cf, ok := p.fields(c, path, openSLOBurnKeys...)
	if !ok {
		return t, false
	}
	if k := cf["kind"]; k != nil {
		if _, ok := p.choice(k, join(path, "kind"), "a condition kind", "burnrate"); !ok {
			good = false
		}
	}
	if op := cf["op"]; op == nil {
		p.errorf(c, join(path, "op"), "missing (want gt or gte: the tier fires when the burn rate exceeds threshold)")
		good = false
	} else if v, ok := p.scalar(op, join(path, "op")); ok && v != "gt" && v != "gte" {
		p.errorf(op, join(path, "op"), "%q: Burnwatch fires when the burn rate exceeds the threshold (want gt or gte)", v)
		good = false
	}
	if th := cf["threshold"]; th == nil {
		p.errorf(c, join(path, "threshold"), "missing: the burn rate factor, e.g. 14.4")
		good = false
	} else if v, ok := p.number(th, join(path, "threshold")); !ok || !(v > 0) {
		if ok {
			p.errorf(th, join(path, "threshold"), "%s is not a positive burn rate", th.Value)
		}
		good = false
	} else {
		t.Factor = v
	}
	if lw := cf["lookbackWindow"]; lw == nil {
		p.errorf(c, join(path, "lookbackWindow"), "missing: the long window, e.g. 1h")
		good = false
	} else if d, unit, ok := p.shorthand(lw, join(path, "lookbackWindow")); !ok || unit != "" {
		if unit != "" {
			p.errorf(lw, join(path, "lookbackWindow"), "%s is not a fixed length (use m, h, d or w)", unit)
		}
		good = false
	} else if d > period {
		p.errorf(lw, join(path, "lookbackWindow"), "%s is longer than the period %s", FormatDuration(d), FormatDuration(period))
		good = false
	} else {
		t.Long, t.Short = d, d/12
	}
	if aa := cf["alertAfter"]; aa != nil {
		if d, unit, ok := p.shorthand(aa, join(path, "alertAfter")); ok && unit == "" && (t.Long == 0 || d <= t.Long) {
			t.Short = d
		} else if ok {
			p.errorf(aa, join(path, "alertAfter"), "%s must be a fixed length no longer than lookbackWindow (it is the short window)", aa.Value)
			good = false
		} else {
			good = false
		}
	}
	return t, good
}
