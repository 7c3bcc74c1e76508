package specs

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// OpenSLO v1 documents (github.com/OpenSLO/OpenSLO) are read as they are.
// Objects may refer to each other across files (indicatorRef,
// alertPolicyRef, conditionRef, targetRef, metricSourceRef), so parsing
// only files them; Validate maps each SLO's objectives onto Burnwatch SLOs
// once every file is in. docs/indicators.md has the mapping and what is
// refused.

// OpenSLOVersion is the OpenSLO apiVersion Burnwatch reads.
const OpenSLOVersion = "openslo/v1"

var (
	openSLOKinds        = []string{"SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget", "DataSource", "Service"}
	openSLOMetaKeys     = []string{"name", "displayName", "labels", "annotations"}
	openSLOSpecKeys     = []string{"description", "service", "indicator", "indicatorRef", "timeWindow", "budgetingMethod", "objectives", "alertPolicies"}
	openSLOSLIKeys      = []string{"description", "thresholdMetric", "ratioMetric"}
	openSLORatioKeys    = []string{"counter", "good", "bad", "total", "rawType", "raw"}
	openSLOSourceKeys   = []string{"metricSourceRef", "type", "spec"}
	openSLOObjKeys      = []string{"displayName", "op", "value", "target", "targetPercent", "timeSliceTarget", "timeSliceWindow", "indicator", "indicatorRef", "compositeWeight"}
	openSLOPolicyKeys   = []string{"description", "alertWhenNoData", "alertWhenResolved", "alertWhenBreaching", "conditions", "notificationTargets"}
	openSLOCondKeys     = []string{"description", "severity", "condition"}
	openSLOBurnKeys     = []string{"kind", "op", "threshold", "lookbackWindow", "alertAfter"}
	openSLOWindowKeys   = []string{"duration", "isRolling", "calendar"}
	openSLOCalendarKeys = []string{"startTime", "timeZone"}
)

// openSLOObject is one OpenSLO document, kept for Validate.
type openSLOObject struct {
	kind, name string
	meta, spec *yaml.Node
	src        *source
	at         position
}

// source is a file's name and lines, for a parser made again later.
type source struct {
	file  string
	lines []string
}

// openSLO holds a Set's OpenSLO objects until Validate maps them.
type openSLO struct {
	objects map[string]map[string]*openSLOObject // kind → name → object
	slos    []*openSLOObject
}

func (p *parser) openSLO(root *yaml.Node, set *Set) {
	f, ok := p.fields(root, "", "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return
	}
	if v, ok := p.scalar(f["apiVersion"], "apiVersion"); ok && v != OpenSLOVersion {
		p.errorf(f["apiVersion"], "apiVersion", "%q is not supported (want %s for OpenSLO)", v, OpenSLOVersion)
		return
	}
	o := &openSLOObject{src: &source{file: p.file, lines: p.lines}, at: p.pos(root)}
	if k := f["kind"]; k == nil {
		p.errorf(root, "kind", "missing (want one of: %s)", strings.Join(openSLOKinds, ", "))
		return
	} else if i, ok := p.choice(k, "kind", "an OpenSLO kind", openSLOKinds...); ok {
		o.kind = openSLOKinds[i]
	} else {
		return
	}
	if o.meta = f["metadata"]; o.meta == nil {
		p.errorf(root, "metadata", "missing (want metadata: {name: ...})")
		return
	}
	m, ok := p.fields(o.meta, "metadata", openSLOMetaKeys...)
	if !ok {
		return
	}
	nn := m["name"]
	if nn == nil {
		p.errorf(o.meta, "metadata.name", "missing")
		return
	}
	if o.kind == "SLO" {
		o.name, ok = p.name(nn, "metadata.name")
	} else {
		o.name, ok = p.nonEmpty(nn, "metadata.name")
	}
	if !ok {
		return
	}
	o.at = p.pos(nn)
	if o.spec = f["spec"]; o.spec == nil {
		p.errorf(root, "spec", "missing")
		return
	}
	set.addOpenSLO(o, p)
}

func (s *Set) addOpenSLO(o *openSLOObject, p *parser) {
	if s.openslo == nil {
		s.openslo = &openSLO{objects: map[string]map[string]*openSLOObject{}}
	}
	s.openslo.add(o, p)
}

func (os *openSLO) add(o *openSLOObject, p *parser) {
	if os.objects[o.kind] == nil {
		os.objects[o.kind] = map[string]*openSLOObject{}
	}
	if prev := os.objects[o.kind][o.name]; prev != nil {
		p.errs = append(p.errs, o.at.errorf("metadata.name", "OpenSLO %s %q is already defined at %s", o.kind, o.name, prev.at))
		return
	}
	os.objects[o.kind][o.name] = o
	if o.kind == "SLO" {
		os.slos = append(os.slos, o)
	}
}

func (os *openSLO) merge(other *openSLO) []error {
	p := &parser{}
	for _, kind := range openSLOKinds {
		for _, name := range slices.Sorted(maps.Keys(other.objects[kind])) {
			o := other.objects[kind][name]
			if kind != "SLO" {
				os.add(o, p)
			}
		}
	}
	for _, o := range other.slos {
		os.add(o, p)
	}
	return p.errs
}

// resolve maps every OpenSLO SLO onto Burnwatch SLOs and adds them to set.
func (os *openSLO) resolve(set *Set) []error {
	r := &openSLOResolver{os: os, slis: map[*openSLOObject]*resolvedSLI{}}
	for _, o := range os.slos {
		r.slo(o, set)
	}
	return r.errs
}

type openSLOResolver struct {
	os   *openSLO
	errs []error
	// slis caches each SLI's mapping, so a shared SLI's problems are
	// reported once.
	slis map[*openSLOObject]*resolvedSLI
}

type resolvedSLI struct {
	in        *metricsli.Indicator
	threshold bool // a thresholdMetric
}

// parser gives a parser for o's file whose errors go to r.
func (r *openSLOResolver) parser(o *openSLOObject) *parser {
	return &parser{file: o.src.file, lines: o.src.lines}
}

func (r *openSLOResolver) done(p *parser) bool {
	r.errs = append(r.errs, p.errs...)
	return len(p.errs) == 0
}

// slo maps one OpenSLO SLO: one Burnwatch SLO per objective.
func (r *openSLOResolver) slo(o *openSLOObject, set *Set) {
	p := r.parser(o)
	defer r.done(p)
	labels := p.openSLOLabels(o.meta)
	f, ok := p.fields(o.spec, "spec", openSLOSpecKeys...)
	if !ok {
		return
	}
	base := slo.Spec{Labels: labels, Objective: slo.Availability, MinEvents: slo.DefaultMinEvents}
	if d := f["description"]; d != nil {
		base.Description, _ = p.scalar(d, "spec.description")
	}
	if sv := f["service"]; sv != nil {
		if v, ok := p.nonEmpty(sv, "spec.service"); ok {
			if base.Labels == nil {
				base.Labels = map[string]string{}
			}
			base.Labels["service"] = v
		}
	}
	p.openSLOWindow(f["timeWindow"], &base)
	method := "Occurrences"
	if b := f["budgetingMethod"]; b == nil {
		p.errorf(o.spec, "spec.budgetingMethod", "missing (want Occurrences or Timeslices)")
	} else if i, ok := p.choice(b, "spec.budgetingMethod", "a budgeting method", "Occurrences", "Timeslices", "RatioTimeslices"); ok {
		method = []string{"Occurrences", "Timeslices", "RatioTimeslices"}[i]
		if method == "RatioTimeslices" {
			p.errorf(b, "spec.budgetingMethod", "RatioTimeslices averages ratios, which Burnwatch does not do (it counts events exactly): use Occurrences")
		}
	}
	var sli *resolvedSLI
	ind, ref := f["indicator"], f["indicatorRef"]
	switch {
	case ind != nil && ref != nil:
		p.errorf(ref, "spec.indicatorRef", "give indicator or indicatorRef, not both")
	case ind != nil:
		sli = r.inlineSLI(p, ind, "spec.indicator")
	case ref != nil:
		sli = r.refSLI(p, ref, "spec.indicatorRef")
	default:
		p.errorf(o.spec, "spec.indicator", "missing: give indicator or indicatorRef")
	}
	base.Tiers = slo.DefaultTiers(base.Period)
	if ap := f["alertPolicies"]; ap != nil && !isNull(ap) {
		r.alertPolicies(p, ap, &base)
	}
	objs := f["objectives"]
	if objs == nil {
		p.errorf(o.spec, "spec.objectives", "missing: at least one objective with a target")
		return
	}
	items, ok := p.list(objs, "spec.objectives")
	if !ok {
		return
	}
	if len(items) == 0 {
		p.errorf(objs, "spec.objectives", "is empty: at least one objective with a target")
	}
	names := map[string]bool{}
	for i, item := range items {
		path := index("spec.objectives", i)
		s := base
		s.Labels = maps.Clone(base.Labels)
		s.Tiers = slices.Clone(base.Tiers)
		bad := len(p.errs)
		s.Name = p.objectiveName(item, o.name, i, len(items), names)
		p.openSLOObjective(item, path, method, sli, &s)
		s.Flow = metricsli.FlowName(s.Name)
		where := sloWhere{doc: p.pos(item), flow: p.pos(item)}
		if s.Name == "" {
			continue
		}
		if len(p.errs) > bad || sli == nil || sli.in == nil {
			set.addBrokenSLO(brokenSLO{name: s.Name, flow: s.Flow, where: where})
			continue
		}
		if at, dup := set.sloDefined(s.Name); dup {
			p.errorf(item, path, "SLO %q is already defined at %s", s.Name, at)
			continue
		}
		if err := s.Validate(); err != nil {
			p.errorf(item, path, "%v", err)
			continue
		}
		set.addSLO(s, where)
		set.setIndicator(s.Name, sli.in)
	}
}

var slugRE = regexp.MustCompile(`[^a-z0-9]+`)

// objectiveName names the Burnwatch SLO of an objective: the OpenSLO SLO's
// name for its only objective; with several, the name and the objective's
// displayName as a slug, or its 1-based index when it has none.
func (p *parser) objectiveName(n *yaml.Node, slo string, i, count int, seen map[string]bool) string {
	if count == 1 {
		return slo
	}
	suffix := strconv.Itoa(i + 1)
	if n.Kind == yaml.MappingNode {
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "displayName" {
				if s := strings.Trim(slugRE.ReplaceAllString(strings.ToLower(n.Content[j+1].Value), "-"), "-"); s != "" {
					suffix = s
				}
			}
		}
	}
	name := slo + "-" + suffix
	if seen[name] {
		name = slo + "-" + strconv.Itoa(i+1)
	}
	seen[name] = true
	if len(name) > maxNameLen || !nameRE.MatchString(name) {
		p.errorf(n, index("spec.objectives", i), "%q is not a valid Burnwatch SLO name for this objective (at most %d characters)", name, maxNameLen)
		return ""
	}
	return name
}

// openSLOLabels reads OpenSLO labels: a value may be a list, which is
// joined with commas; keys become Prometheus label names as OpenTelemetry
// attribute keys do (team.name: team_name).
func (p *parser) openSLOLabels(meta *yaml.Node) map[string]string {
	m, ok := p.fields(meta, "metadata", openSLOMetaKeys...)
	if !ok || m["labels"] == nil {
		return nil
	}
	n := m["labels"]
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "metadata.labels", "want a mapping of label names to values, not %s", describe(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		path := join("metadata.labels", k.Value)
		name := metricsli.LabelName(k.Value)
		if !slo.ValidLabelName(name) || strings.HasPrefix(name, "__") {
			p.errorf(k, path, "%q does not make a label name", k.Value)
			continue
		}
		switch v.Kind {
		case yaml.SequenceNode:
			var vals []string
			for j, item := range v.Content {
				if s, ok := p.scalar(deref(item), index(path, j)); ok {
					vals = append(vals, s)
				}
			}
			out[name] = strings.Join(vals, ",")
		default:
			if s, ok := p.scalar(v, path); ok {
				out[name] = s
			}
		}
	}
	return out
}

// openSLOShorthand reads OpenSLO's duration-shorthand: a number and one of
// m, h, d, w (M, Q and Y are calendar lengths, returned as unit).
var shorthandRE = regexp.MustCompile(`^([1-9][0-9]*)([mhdwMQY])$`)

func (p *parser) shorthand(n *yaml.Node, path string) (d time.Duration, unit string, ok bool) {
	s, ok := p.scalar(n, path)
	if !ok {
		return 0, "", false
	}
	m := shorthandRE.FindStringSubmatch(s)
	if m == nil {
		p.errorf(n, path, "%q is not an OpenSLO duration (a number and one of m, h, d, w, M, Q, Y: 30d, 4w, 1M)", s)
		return 0, "", false
	}
	num, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "m":
		return time.Duration(num) * time.Minute, "", true
	case "h":
		return time.Duration(num) * time.Hour, "", true
	case "d":
		return time.Duration(num) * 24 * time.Hour, "", true
	case "w":
		return time.Duration(num) * 7 * 24 * time.Hour, "", true
	}
	return 0, s, true
}

// openSLOWindow reads spec.timeWindow into s: rolling durations, or a
// calendar month (1M) or week (1w).
func (p *parser) openSLOWindow(n *yaml.Node, s *slo.Spec) {
	path := "spec.timeWindow"
	s.Period = slo.DefaultPeriod
	if n == nil || isNull(n) {
		return
	}
	items, ok := p.list(n, path)
	if !ok {
		return
	}
	if len(items) != 1 {
		p.errorf(n, path, "has %d items (want exactly one)", len(items))
		return
	}
	path = index(path, 0)
	f, ok := p.fields(items[0], path, openSLOWindowKeys...)
	if !ok {
		return
	}
	cal := f["calendar"]
	rolling := cal == nil
	if r := f["isRolling"]; r != nil {
		rolling, _ = p.boolean(r, join(path, "isRolling"))
	}
	dn := f["duration"]
	if dn == nil {
		p.errorf(items[0], join(path, "duration"), "missing (e.g. 30d, or 1M for a calendar month)")
		return
	}
	d, unit, ok := p.shorthand(dn, join(path, "duration"))
	if !ok {
		return
	}
	if rolling {
		if cal != nil {
			p.errorf(cal, join(path, "calendar"), "applies only with isRolling: false")
		}
		if unit != "" {
			p.errorf(dn, join(path, "duration"), "%s is not a fixed length, so it cannot roll: write days (30d), or isRolling: false for a calendar period", unit)
			return
		}
		s.Period = d
		return
	}
	switch {
	case unit == "1M":
		s.Calendar, s.Period = &slo.Calendar{Unit: slo.Month}, monthPeriod
	case d == weekPeriod:
		s.Calendar, s.Period = &slo.Calendar{Unit: slo.Week, WeekStart: time.Monday}, weekPeriod
	default:
		p.errorf(dn, join(path, "duration"), "%s: Burnwatch's calendar periods are a month (1M) or a week (1w)", dn.Value)
		return
	}
	s.Calendar.Location = time.UTC
	if cal == nil {
		return
	}
	cf, ok := p.fields(cal, join(path, "calendar"), openSLOCalendarKeys...)
	if !ok {
		return
	}
	if tz := cf["timeZone"]; tz != nil {
		if loc, ok := p.location(tz, join(path, "calendar.timeZone")); ok {
			s.Calendar.Location = loc
		}
	}
	if st := cf["startTime"]; st != nil {
		p.calendarStart(st, join(path, "calendar.startTime"), s.Calendar)
	}
}

// calendarStart checks a calendar's startTime against Burnwatch's periods,
// which start at midnight: on the 1st for a month, on the start's weekday
// for a week (which sets the week start).
func (p *parser) calendarStart(n *yaml.Node, path string, c *slo.Calendar) {
	v, ok := p.scalar(n, path)
	if !ok {
		return
	}
	t, err := time.Parse(time.DateTime, v)
	if err != nil {
		p.errorf(n, path, "%q is not a date and time like 2024-01-01 00:00:00", v)
		return
	}
	switch {
	case t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0:
		p.errorf(n, path, "%s: Burnwatch's calendar periods start at midnight in the time zone (write %s 00:00:00)", v, t.Format(time.DateOnly))
	case c.Unit == slo.Month && t.Day() != 1:
		p.errorf(n, path, "%s: Burnwatch's months start on the 1st", v)
	case c.Unit == slo.Week:
		c.WeekStart = t.Weekday()
	}
}
