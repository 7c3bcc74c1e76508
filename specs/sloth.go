package specs

import (
	"maps"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// Sloth's prometheus/v1 files (github.com/slok/sloth, pkg/prometheus/api/v1)
// are read as they are: each of slos becomes a Burnwatch SLO named
// <service>-<name> (Sloth's sloth_id), measured by its PromQL queries,
// with Sloth's page and ticket alerts as Burnwatch's default page and
// ticket tiers (the same SRE Workbook windows and factors).
// docs/indicators.md has the mapping.

// SlothVersion is the version of the Sloth files Burnwatch reads.
const SlothVersion = "prometheus/v1"

var (
	slothKeys         = []string{"version", "service", "labels", "slo_plugins", "slos"}
	slothSLOKeys      = []string{"name", "description", "objective", "plugins", "labels", "sli", "alerting"}
	slothSLIKeys      = []string{"events", "raw", "plugin"}
	slothEventsKeys   = []string{"error_query", "total_query"}
	slothRawKeys      = []string{"error_ratio_query"}
	slothAlertingKeys = []string{"name", "labels", "annotations", "page_alert", "ticket_alert"}
	slothAlertKeys    = []string{"disable", "labels", "annotations"}
)

// sloth reads a Sloth document.
func (p *parser) sloth(root *yaml.Node, set *Set) {
	f, ok := p.fields(root, "", slothKeys...)
	if !ok {
		return
	}
	if v, ok := p.scalar(f["version"], "version"); ok && v != SlothVersion {
		p.errorf(f["version"], "version", "%q is not supported (want %s for a Sloth file)", v, SlothVersion)
		return
	}
	var service string
	if n := f["service"]; n == nil {
		p.errorf(root, "service", "missing: Sloth names every SLO <service>-<name>")
	} else {
		service, _ = p.nonEmpty(n, "service")
	}
	var labels map[string]string
	if n := f["labels"]; n != nil {
		labels = p.labels(n, "labels", false)
	}
	if n := f["slo_plugins"]; n != nil {
		p.errorf(n, "slo_plugins", "Sloth SLO plugins generate Prometheus rules and cannot run in Burnwatch; remove them")
	}
	n := f["slos"]
	if n == nil {
		p.errorf(root, "slos", "missing: the list of SLOs")
		return
	}
	items, ok := p.list(n, "slos")
	if !ok {
		return
	}
	for i, item := range items {
		p.slothSLO(item, index("slos", i), service, labels, set)
	}
}

func (p *parser) slothSLO(n *yaml.Node, path, service string, labels map[string]string, set *Set) {
	bad := len(p.errs)
	f, ok := p.fields(n, path, slothSLOKeys...)
	if !ok {
		return
	}
	s := slo.Spec{Objective: slo.Availability, Period: slo.DefaultPeriod, MinEvents: slo.DefaultMinEvents}
	where := sloWhere{doc: p.pos(n), flow: p.pos(n)}
	hasName := false
	if nn := f["name"]; nn == nil {
		p.errorf(n, join(path, "name"), "missing")
	} else if name, ok := p.nonEmpty(nn, join(path, "name")); ok && service != "" {
		where.doc = p.pos(nn)
		s.Name = service + "-" + name
		if len(s.Name) > maxNameLen || !nameRE.MatchString(s.Name) {
			p.errorf(nn, join(path, "name"), "%q (service and name, as Sloth's id) is not a valid Burnwatch name (at most %d lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit)", s.Name, maxNameLen)
		} else {
			hasName = true
		}
	}
	s.Flow = metricsli.FlowName(s.Name)
	s.Tiers = slo.DefaultTiers(s.Period)
	s.Labels = maps.Clone(labels)
	if l := f["labels"]; l != nil {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		maps.Copy(s.Labels, p.labels(l, join(path, "labels"), false))
	}
	if hasName {
		// The labels Sloth's own alerts carry, for routes written for them.
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels["sloth_id"] = s.Name
		s.Labels["sloth_service"] = service
		s.Labels["sloth_slo"] = strings.TrimPrefix(s.Name, service+"-")
	}
	if d := f["description"]; d != nil {
		s.Description, _ = p.scalar(d, join(path, "description"))
	}
	if o := f["objective"]; o == nil {
		p.errorf(n, join(path, "objective"), "missing: the percentage of good events, e.g. objective: 99.9")
	} else {
		s.Target, _ = p.target(o, join(path, "objective"))
	}
	if pl := f["plugins"]; pl != nil {
		p.errorf(pl, join(path, "plugins"), "Sloth SLO plugins generate Prometheus rules and cannot run in Burnwatch; remove them")
	}
	var indicator *metricsli.Indicator
	if sli := f["sli"]; sli == nil {
		p.errorf(n, join(path, "sli"), "missing: events (error_query and total_query) or raw (error_ratio_query)")
	} else {
		indicator = p.slothSLI(sli, join(path, "sli"))
	}
	if a := f["alerting"]; a == nil {
		p.errorf(n, join(path, "alerting"), "missing: Sloth requires alerting.name")
	} else {
		where.annotations = p.slothAlerting(a, join(path, "alerting"), &s)
	}
	if !hasName {
		return
	}
	if len(p.errs) > bad {
		set.addBrokenSLO(brokenSLO{name: s.Name, flow: s.Flow, where: where})
		return
	}
	if err := s.Validate(); err != nil {
		p.errs = append(p.errs, where.doc.errorf(path, "%w", err))
		return
	}
	set.addSLO(s, where)
	set.setIndicator(s.Name, indicator)
}

func (p *parser) slothSLI(n *yaml.Node, path string) *metricsli.Indicator {
	f, ok := p.fields(n, path, slothSLIKeys...)
	if !ok {
		return nil
	}
	switch {
	case f["plugin"] != nil:
		p.errorf(f["plugin"], join(path, "plugin"), "Sloth SLI plugins are Go code that Burnwatch cannot run; write the queries as events (error_query, total_query) or raw (error_ratio_query)")
		return nil
	case f["events"] != nil && f["raw"] != nil:
		p.errorf(f["raw"], join(path, "raw"), "give events or raw, not both")
		return nil
	case f["events"] != nil:
		path = join(path, "events")
		ef, ok := p.fields(f["events"], path, slothEventsKeys...)
		if !ok {
			return nil
		}
		q := metricsli.PromQL{}
		nodes, paths := map[string]*yaml.Node{}, map[string]string{}
		good := true
		for _, kq := range [][2]string{{"error_query", "bad"}, {"total_query", "total"}} {
			key, query := kq[0], kq[1]
			v := ef[key]
			if v == nil {
				p.errorf(f["events"], join(path, key), "missing")
				good = false
				continue
			}
			s, ok := p.nonEmpty(v, join(path, key))
			good = good && ok
			nodes[query], paths[query] = v, join(path, key)
			if query == "bad" {
				q.Bad = s
			} else {
				q.Total = s
			}
		}
		if !good {
			return nil
		}
		return p.compilePromQL(q, f["events"], path, nodes, paths)
	case f["raw"] != nil:
		path = join(path, "raw")
		rf, ok := p.fields(f["raw"], path, slothRawKeys...)
		if !ok {
			return nil
		}
		v := rf["error_ratio_query"]
		if v == nil {
			p.errorf(f["raw"], join(path, "error_ratio_query"), "missing")
			return nil
		}
		s, ok := p.nonEmpty(v, join(path, "error_ratio_query"))
		if !ok {
			return nil
		}
		qp := join(path, "error_ratio_query")
		return p.compilePromQL(metricsli.PromQL{Ratio: s}, v, qp, map[string]*yaml.Node{"ratio": v}, map[string]string{"ratio": qp})
	}
	p.errorf(n, path, "empty (want events with error_query and total_query, or raw with error_ratio_query)")
	return nil
}

// slothAlert is one of Sloth's page_alert and ticket_alert.
type slothAlert struct {
	severity    slo.Severity
	key, path   string
	disable     bool
	labels      map[string]string
	annotations map[string]string
	at          map[string]*yaml.Node // where each label and annotation is, by "labels.key"
	annAt       map[string]position
}

// slothAlerting maps Sloth's alerting onto s and returns where its
// annotations are. Burnwatch's alert labels and annotations are per SLO:
// a page_alert or ticket_alert label carries over when every alert the
// SLO keeps would have it in Sloth too.
func (p *parser) slothAlerting(n *yaml.Node, path string, s *slo.Spec) map[string]position {
	f, ok := p.fields(n, path, slothAlertingKeys...)
	if !ok {
		return nil
	}
	if nn := f["name"]; nn == nil {
		p.errorf(n, join(path, "name"), "missing: the name of the SLO's alerts (it becomes the label sloth_alertname)")
	} else if name, ok := p.nonEmpty(nn, join(path, "name")); ok {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels["sloth_alertname"] = name
	}
	s.AlertLabels = map[string]string{}
	s.AlertAnnotations = map[string]string{}
	where := map[string]position{}
	if l := f["labels"]; l != nil {
		maps.Copy(s.AlertLabels, p.labels(l, join(path, "labels"), true))
	}
	if a := f["annotations"]; a != nil {
		ann, at := p.annotations(a, join(path, "annotations"))
		maps.Copy(s.AlertAnnotations, ann)
		maps.Copy(where, at)
	}
	alerts := []*slothAlert{{severity: slo.Page, key: "page_alert"}, {severity: slo.Ticket, key: "ticket_alert"}}
	for _, a := range alerts {
		a.path = join(path, a.key)
		if v := f[a.key]; v != nil {
			p.slothAlert(v, a)
		}
	}
	var kept []*slothAlert
	for _, a := range alerts {
		if a.disable {
			s.Tiers = slices.DeleteFunc(s.Tiers, func(t slo.Tier) bool { return t.Severity == a.severity })
		} else {
			kept = append(kept, a)
		}
	}
	if s.Tiers == nil {
		s.Tiers = []slo.Tier{} // nil would mean the default tiers
	}
	p.slothMerge(kept, "labels", func(a *slothAlert) map[string]string { return a.labels }, s.AlertLabels, nil)
	p.slothMerge(kept, "annotations", func(a *slothAlert) map[string]string { return a.annotations }, s.AlertAnnotations, where)
	return where
}

func (p *parser) slothAlert(n *yaml.Node, a *slothAlert) {
	f, ok := p.fields(n, a.path, slothAlertKeys...)
	if !ok {
		return
	}
	if d := f["disable"]; d != nil {
		a.disable, _ = p.boolean(d, join(a.path, "disable"))
	}
	a.at = map[string]*yaml.Node{}
	if l := f["labels"]; l != nil {
		a.labels = p.labels(l, join(a.path, "labels"), true)
		keysAt(l, "labels.", a.at)
	}
	if an := f["annotations"]; an != nil {
		a.annotations, a.annAt = p.annotations(an, join(a.path, "annotations"))
		keysAt(an, "annotations.", a.at)
	}
}

func keysAt(n *yaml.Node, prefix string, at map[string]*yaml.Node) {
	n = deref(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		at[prefix+n.Content[i].Value] = n.Content[i]
	}
}

// slothMerge carries the labels or annotations (what) of the kept alerts
// over to the SLO's, when every kept alert gives a key the same value.
func (p *parser) slothMerge(kept []*slothAlert, what string, of func(*slothAlert) map[string]string, into map[string]string, where map[string]position) {
	reported := map[string]bool{}
	for _, a := range kept {
		for _, key := range slices.Sorted(maps.Keys(of(a))) {
			val := of(a)[key]
			var differs *slothAlert
			for _, b := range kept {
				if other, ok := of(b)[key]; !ok || other != val {
					differs = b
					break
				}
			}
			switch {
			case reported[key]:
			case differs != nil:
				reported[key] = true
				p.errorf(a.at[what+"."+key], join(a.path, what+"."+key), "only %s alerts get this in Sloth, but Burnwatch's alert %s apply to every alert of an SLO (per-severity %s are not supported yet): give %s the same, move it to alerting.%s, or disable %s",
					a.severity, what, what, differs.key, what, differs.key)
			default:
				into[key] = val
				if where != nil {
					where[key] = a.annAt[key]
				}
			}
		}
	}
}
