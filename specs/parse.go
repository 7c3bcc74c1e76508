package specs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	// The tz database is built in so that spec.time_zone loads the same on
	// every host, including minimal container images without one.
	_ "time/tzdata"

	"go.yaml.in/yaml/v3"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/slo"
)

// APIVersion is the apiVersion every document must declare.
const APIVersion = "burnwatch.dev/v1"

// Document kinds.
const (
	KindFlow = "Flow"
	KindSLO  = "SLO"
)

// Parse reads one spec file and checks each document on its own. References
// between documents (an SLO's flow) may live in other files: Load, or Merge
// followed by Validate, checks them. filename only labels errors.
func Parse(filename string, data []byte) (*Set, error) {
	set, err := parse(filename, data)
	if err != nil {
		return nil, err
	}
	return set, nil
}

// parse returns what it could read even when it reports errors, so that Load
// can still check references against flows whose specs were broken.
func parse(filename string, data []byte) (*Set, error) {
	p := &parser{file: filename}
	set := &Set{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The decoder cannot resume after a syntax error.
			p.errs = append(p.errs, p.syntaxError(err))
			break
		}
		// Each document goes through Merge so names given twice in one file
		// are reported just as across files.
		part := &Set{}
		p.document(&doc, part)
		if err := set.Merge(part); err != nil {
			p.errs = append(p.errs, flatten(err)...)
		}
	}
	sortByLine(p.errs)
	return set, errors.Join(p.errs...)
}

// sortByLine orders a file's problems top to bottom (stable, so problems on
// one line keep the order they were found in); problems without a line, like
// a read error, come first.
func sortByLine(errs []error) {
	line := func(err error) int {
		var se *Error
		if errors.As(err, &se) {
			return se.Line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return line(a) - line(b) })
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns "yaml: line 3: msg" into "file:3: msg".
func (p *parser) syntaxError(err error) error {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: line, Err: fmt.Errorf("invalid YAML: %s", m[2])}
	}
	return &Error{File: p.file, Err: fmt.Errorf("invalid YAML: %w", err)}
}

// parser collects every problem of one file instead of stopping at the first.
type parser struct {
	file string
	errs []error
}

func (p *parser) pos(n *yaml.Node) position { return position{file: p.file, line: n.Line} }

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	p.errs = append(p.errs, p.pos(n).errorf(path, format, args...))
}

func (p *parser) wrap(n *yaml.Node, path string, err error) {
	p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Path: path, Err: err})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// deref follows YAML aliases so anchors work like their targets.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// fields reads a mapping whose keys must come from allowed. It reports
// anything else, and duplicate keys, which YAML would silently let the last
// one win.
func (p *parser) fields(n *yaml.Node, path string, allowed ...string) (map[string]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping with keys %s, not %s", strings.Join(allowed, ", "), describe(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		key := k.Value
		if !slices.Contains(allowed, key) {
			msg := "unknown key"
			if s := closest(key, allowed); s != "" {
				msg += "; did you mean " + s + "?"
			}
			p.errorf(k, join(path, key), "%s (allowed: %s)", msg, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[key]; dup {
			p.errorf(k, join(path, key), "key given twice")
			continue
		}
		out[key] = v
	}
	return out, true
}

// describe names a node's type for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unknown node"
}

// scalar returns a scalar's text; numbers and booleans are accepted where
// text is wanted (equals: 200).
func (p *parser) scalar(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.errorf(n, path, "want a value, not %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (p *parser) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := p.scalar(n, path)
	if ok && strings.TrimSpace(s) == "" {
		p.errorf(n, path, "is empty")
		return "", false
	}
	return s, ok
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.errorf(n, path, "want true or false, not %s", describe(n))
	return false, false
}

// number reads an int or float; a quoted decimal ("500") is accepted too.
func (p *parser) number(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode {
		var f float64
		switch n.Tag {
		case "!!int", "!!float":
			if err := n.Decode(&f); err == nil {
				return f, true
			}
		case "!!str":
			if f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64); err == nil && !math.IsNaN(f) {
				return f, true
			}
		}
	}
	p.errorf(n, path, "%s is not a number", describe(n))
	return 0, false
}

func (p *parser) count(n *yaml.Node, path string) (uint64, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil && i >= 0 {
			return uint64(i), true
		}
	}
	p.errorf(n, path, "%s is not a whole number >= 0", describe(n))
	return 0, false
}

func (p *parser) duration(n *yaml.Node, path string) (d time.Duration, ok bool) {
	s, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		p.wrap(n, path, err)
		return 0, false
	}
	if v <= 0 {
		p.errorf(n, path, "%s is not a positive duration", s)
		return 0, false
	}
	return v, true
}

func (p *parser) list(n *yaml.Node, path string) ([]*yaml.Node, bool) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, path, "want a list, not %s", describe(n))
		return nil, false
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out, true
}

// nameRE is a Kubernetes-like object name; names become span attributes,
// metric label values and alert dedup keys, so they stay plain.
var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$`)

const maxNameLen = 128

func (p *parser) name(n *yaml.Node, path string) (string, bool) {
	s, ok := p.nonEmpty(n, path)
	if !ok {
		return "", false
	}
	if len(s) > maxNameLen || !nameRE.MatchString(s) {
		p.errorf(n, path, "%q is not a valid name (at most %d lowercase letters, digits, '-', '_' and '.', starting and ending with a letter or digit)", s, maxNameLen)
		return "", false
	}
	return s, true
}

// labelNameRE is a Prometheus label name: labels reach alert routing and
// metrics, where other characters would not survive.
var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (p *parser) labels(n *yaml.Node, path string) map[string]string {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of label names to values, not %s", describe(n))
		return nil
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		kp := join(path, k.Value)
		switch {
		case !labelNameRE.MatchString(k.Value):
			p.errorf(k, kp, "%q is not a label name (letters, digits and '_', not starting with a digit)", k.Value)
			continue
		case strings.HasPrefix(k.Value, "__"):
			p.errorf(k, kp, "label names starting with __ are reserved")
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, kp, "key given twice")
			continue
		}
		if val, ok := p.scalar(v, kp); ok {
			out[k.Value] = val
		}
	}
	return out
}

func (p *parser) url(n *yaml.Node, path string) (string, bool) {
	s, ok := p.nonEmpty(n, path)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.errorf(n, path, "%q is not an absolute http(s) URL (e.g. https://example.com/page)", s)
		return "", false
	}
	return s, true
}

// document reads one document and adds its flow or SLO to set.
func (p *parser) document(doc *yaml.Node, set *Set) {
	root := doc
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return
		}
		root = deref(doc.Content[0])
	}
	if isNull(root) {
		return // an empty document, e.g. after a trailing ---
	}
	bad := len(p.errs)
	f, ok := p.fields(root, "", "apiVersion", "kind", "metadata", "spec")
	if !ok {
		return
	}
	docPos := p.pos(root)
	if n := f["apiVersion"]; n == nil {
		p.errorf(root, "apiVersion", "missing (want %s)", APIVersion)
	} else if v, ok := p.scalar(n, "apiVersion"); ok && v != APIVersion {
		p.errorf(n, "apiVersion", "%q is not supported (want %s)", v, APIVersion)
	}
	kind := ""
	if n := f["kind"]; n == nil {
		p.errorf(root, "kind", "missing (want %s or %s)", KindFlow, KindSLO)
	} else if v, ok := p.scalar(n, "kind"); ok {
		if v != KindFlow && v != KindSLO {
			p.errorf(n, "kind", "%q is not a kind (want %s or %s)", v, KindFlow, KindSLO)
		} else {
			kind = v
		}
	}
	var (
		name    string
		nameAt  = docPos
		labels  map[string]string
		hasName bool
	)
	if n := f["metadata"]; n == nil {
		p.errorf(root, "metadata", "missing (want metadata: {name: ...})")
	} else if m, ok := p.fields(n, "metadata", "name", "labels"); ok {
		if nn := m["name"]; nn == nil {
			p.errorf(n, "metadata.name", "missing")
		} else {
			name, hasName = p.name(nn, "metadata.name")
			nameAt = p.pos(nn)
		}
		if l := m["labels"]; l != nil {
			labels = p.labels(l, "metadata.labels")
		}
	}
	spec := f["spec"]
	if spec == nil {
		p.errorf(root, "spec", "missing")
	}
	switch kind {
	case KindFlow:
		fs := flows.Spec{Name: name, Labels: labels}
		if spec != nil {
			p.flowSpec(spec, &fs)
		}
		if hasName {
			// A flow is declared even if its spec is broken, so SLOs that
			// use it do not report a second, misleading error.
			set.declare(name, nameAt)
		}
		if hasName && len(p.errs) == bad {
			set.addFlow(fs, nameAt)
		}
	case KindSLO:
		s := slo.Spec{Name: name, Labels: labels}
		var flowAt position
		if spec != nil {
			flowAt = p.sloSpec(spec, &s)
		}
		if hasName && len(p.errs) == bad {
			if err := s.Validate(); err != nil {
				// The checks above should have caught it: say so plainly.
				p.errs = append(p.errs, docPos.errorf("spec", "%w", err))
				return
			}
			set.addSLO(s, nameAt, flowAt)
		}
	}
}

var ruleKeys = func() []string {
	keys := []string{"attribute"}
	for _, o := range flows.Operators() {
		keys = append(keys, o.String())
	}
	return keys
}()

func (p *parser) flowSpec(n *yaml.Node, fs *flows.Spec) {
	f, ok := p.fields(n, "spec", "tier", "entry_spans_only", "match", "errors")
	if !ok {
		return
	}
	fs.Tier = flows.DefaultTier
	if t := f["tier"]; t != nil {
		if v, ok := p.scalar(t, "spec.tier"); ok {
			if flows.ValidTier(v) {
				fs.Tier = v
			} else {
				p.errorf(t, "spec.tier", "%q is not a tier (allowed: critical, high, medium, low)", v)
			}
		}
	}
	fs.EntryOnly = true
	if e := f["entry_spans_only"]; e != nil {
		fs.EntryOnly, _ = p.boolean(e, "spec.entry_spans_only")
	}
	if m := f["match"]; m == nil {
		p.errorf(n, "spec.match", "missing: a flow needs at least one rule, e.g. {attribute: service.name, equals: shop}")
	} else if items, ok := p.list(m, "spec.match"); ok {
		if len(items) == 0 {
			p.errorf(m, "spec.match", "is empty: a flow needs at least one rule, e.g. {attribute: service.name, equals: shop}")
		}
		for i, item := range items {
			if r, ok := p.rule(item, index("spec.match", i)); ok {
				fs.Match = append(fs.Match, r)
			}
		}
	}
	fs.Errors = flows.DefaultErrors()
	if e := f["errors"]; e != nil {
		ef, ok := p.fields(e, "spec.errors", "status_error", "rules")
		if !ok {
			return
		}
		// Given errors replace the default rules; status Error still counts
		// unless switched off, since it is almost always meant.
		fs.Errors = flows.ErrorSpec{StatusError: true}
		if s := ef["status_error"]; s != nil {
			fs.Errors.StatusError, _ = p.boolean(s, "spec.errors.status_error")
		}
		if r := ef["rules"]; r != nil {
			if items, ok := p.list(r, "spec.errors.rules"); ok {
				for i, item := range items {
					if r, ok := p.rule(item, index("spec.errors.rules", i)); ok {
						fs.Errors.Rules = append(fs.Errors.Rules, r)
					}
				}
			}
		}
	}
}

func (p *parser) rule(n *yaml.Node, path string) (flows.Rule, bool) {
	f, ok := p.fields(n, path, ruleKeys...)
	if !ok {
		return flows.Rule{}, false
	}
	var r flows.Rule
	good := true
	if a := f["attribute"]; a == nil {
		p.errorf(n, join(path, "attribute"), "missing (e.g. attribute: http.route)")
		good = false
	} else if r.Attribute, ok = p.nonEmpty(a, join(path, "attribute")); !ok {
		good = false
	}
	// Walk the mapping in file order so "two operators" points at the second.
	var opNode *yaml.Node
	for i := 0; i+1 < len(deref(n).Content); i += 2 {
		key := deref(n).Content[i].Value
		op, isOp := flows.ParseOperator(key)
		if !isOp || f[key] == nil {
			continue
		}
		if r.Op != flows.OpInvalid {
			p.errorf(deref(n).Content[i], path, "two operators, %s and %s (want exactly one per rule; add another rule for the other)", r.Op, op)
			return flows.Rule{}, false
		}
		r.Op, opNode = op, f[key]
	}
	if r.Op == flows.OpInvalid {
		p.errorf(n, path, "no operator (want exactly one of: %s)", strings.Join(ruleKeys[1:], ", "))
		return flows.Rule{}, false
	}
	opPath := join(path, r.Op.String())
	switch r.Op {
	case flows.OpEquals, flows.OpNotEquals:
		r.Value, ok = p.literal(opNode, opPath)
	case flows.OpRegex, flows.OpNotRegex:
		r.Value, ok = p.scalar(opNode, opPath)
	case flows.OpIn:
		var items []*yaml.Node
		if items, ok = p.list(opNode, opPath); ok {
			if len(items) == 0 {
				p.errorf(opNode, opPath, "is empty (want at least one value)")
				ok = false
			}
			for i, item := range items {
				v, vok := p.literal(item, index(opPath, i))
				r.Values = append(r.Values, v)
				ok = ok && vok
			}
		}
	case flows.OpExists:
		r.Exists, ok = p.boolean(opNode, opPath)
	default:
		r.Number, ok = p.number(opNode, opPath)
	}
	if !ok || !good {
		return flows.Rule{}, false
	}
	if err := r.Validate(); err != nil {
		p.wrap(opNode, opPath, err)
		return flows.Rule{}, false
	}
	return r, true
}

// literal reads an equals or in operand. YAML integers are normalised to
// decimal so that "0x1F" compares as 31 does.
func (p *parser) literal(n *yaml.Node, path string) (string, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var i int64
		if err := n.Decode(&i); err == nil {
			return strconv.FormatInt(i, 10), true
		}
	}
	return p.scalar(n, path)
}

// sloKeys are the keys of an SLO's spec, in the order messages list them.
var sloKeys = []string{"description", "flow", "objective", "target", "period", "time_zone", "week_start", "runbook", "dashboard", "alerting"}

// sloSpec reads an SLO's spec into s and returns where its flow is named.
func (p *parser) sloSpec(n *yaml.Node, s *slo.Spec) position {
	f, ok := p.fields(n, "spec", sloKeys...)
	if !ok {
		return position{}
	}
	flowAt := p.pos(n)
	if d := f["description"]; d != nil {
		s.Description, _ = p.scalar(d, "spec.description")
	}
	if fl := f["flow"]; fl == nil {
		p.errorf(n, "spec.flow", "missing: name the Flow this SLO measures")
	} else {
		s.Flow, _ = p.name(fl, "spec.flow")
		flowAt = p.pos(fl)
	}
	s.Objective = slo.Availability
	var sliceAt *yaml.Node
	if o := f["objective"]; o != nil {
		sliceAt = p.objective(o, s)
	}
	if t := f["target"]; t == nil {
		p.errorf(n, "spec.target", "missing: the percentage of good events, e.g. target: 99.9")
	} else {
		s.Target, _ = p.target(t, "spec.target")
	}
	p.period(f, s)
	if r := f["runbook"]; r != nil {
		s.Runbook, _ = p.url(r, "spec.runbook")
	}
	if d := f["dashboard"]; d != nil {
		s.Dashboard, _ = p.url(d, "spec.dashboard")
	}
	s.MinEvents = slo.DefaultMinEvents
	s.Tiers = slo.DefaultTiers(s.Period)
	if a := f["alerting"]; a != nil {
		p.alerting(a, s)
	}
	// Slices are checked last: they must fit the period and every alert
	// window, which are known only now.
	if sliceAt != nil {
		p.checkSlice(sliceAt, s)
	}
	return flowAt
}

// Calendar periods and the nominal length each stands for: Spec.Period
// holds it, so that the default tiers scale from it as from a rolling
// period of that length.
const (
	monthPeriod = 30 * 24 * time.Hour
	weekPeriod  = 7 * 24 * time.Hour
)

// weekdays are the names week_start accepts, indexed by time.Weekday.
var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// period reads spec.period, spec.time_zone and spec.week_start.
func (p *parser) period(f map[string]*yaml.Node, s *slo.Spec) {
	s.Period = slo.DefaultPeriod
	periodOK := true
	if pd := f["period"]; pd != nil {
		v, ok := p.scalar(pd, "spec.period")
		switch {
		case !ok:
			periodOK = false
		case v == "month":
			s.Calendar = &slo.Calendar{Unit: slo.Month}
			s.Period = monthPeriod
		case v == "week":
			s.Calendar = &slo.Calendar{Unit: slo.Week, WeekStart: time.Monday}
			s.Period = weekPeriod
		case !strings.ContainsAny(v, "0123456789"):
			p.errorf(pd, "spec.period", "%q is not a period (want a rolling duration such as 30d or 4w, or month or week for a calendar period)", v)
			periodOK = false
		default:
			var d time.Duration
			if d, periodOK = p.duration(pd, "spec.period"); periodOK {
				s.Period = d
			}
		}
	}
	// With a broken period, saying the zone or week start does not apply
	// would be a second, misleading message.
	if tz := f["time_zone"]; tz != nil {
		switch {
		case s.Calendar != nil:
			if loc, ok := p.location(tz, "spec.time_zone"); ok {
				s.Calendar.Location = loc
			}
		case periodOK:
			p.errorf(tz, "spec.time_zone", "applies only to a calendar period (period: month or week); a rolling period has no time zone")
		}
	}
	if ws := f["week_start"]; ws != nil {
		switch {
		case s.Calendar != nil && s.Calendar.Unit == slo.Week:
			if v, ok := p.scalar(ws, "spec.week_start"); ok {
				if d := slices.Index(weekdays, v); d >= 0 {
					s.Calendar.WeekStart = time.Weekday(d)
				} else {
					p.errorf(ws, "spec.week_start", "%q is not a day (allowed: %s, %s)", v, strings.Join(weekdays[1:], ", "), weekdays[0])
				}
			}
		case periodOK:
			p.errorf(ws, "spec.week_start", "applies only to period: week")
		}
	}
}

// zoneExample is what a time zone message asks for.
const zoneExample = "an IANA time zone name such as Europe/Berlin, America/New_York or UTC"

// location loads an IANA time zone. The tz database is built in (see the
// time/tzdata import), so a name that loads here loads on every host.
func (p *parser) location(n *yaml.Node, path string) (*time.Location, bool) {
	name, ok := p.nonEmpty(n, path)
	if !ok {
		return nil, false
	}
	if name == "Local" {
		// Local is whatever zone the host is set to: two replicas could
		// reset the budget at different times.
		p.errorf(n, path, "Local depends on the host; name the zone (want %s)", zoneExample)
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.errorf(n, path, "%q is not a time zone (want %s)", name, zoneExample)
		return nil, false
	}
	return loc, true
}

// defaultSlice is the slice length of a percentile objective that names
// none.
const defaultSlice = time.Minute

// objective reads spec.objective into s. For a percentile objective it
// returns the node to report slice problems at (the slice, or the objective
// when the default slice applies); nil otherwise.
func (p *parser) objective(n *yaml.Node, s *slo.Spec) *yaml.Node {
	f, ok := p.fields(n, "spec.objective", "type", "threshold", "percentile", "slice", "empty_slices")
	if !ok {
		return nil
	}
	if t := f["type"]; t != nil {
		i, ok := p.choice(t, "spec.objective.type", "an objective type", "availability", "latency", "percentile")
		if !ok {
			return nil
		}
		s.Objective = [...]slo.Objective{slo.Availability, slo.LatencyThreshold, slo.PercentileSlices}[i]
	}
	th := f["threshold"]
	switch {
	case s.Objective != slo.Availability && th == nil:
		p.errorf(n, "spec.objective.threshold", "missing: a %s objective needs a threshold, e.g. threshold: 300ms", s.Objective)
	case s.Objective == slo.Availability && th != nil:
		p.errorf(th, "spec.objective.threshold", "applies only to types latency and percentile (add type: latency, or remove the threshold)")
	case th != nil:
		s.Threshold, _ = p.duration(th, "spec.objective.threshold")
	}
	if s.Objective != slo.PercentileSlices {
		for _, key := range []string{"percentile", "slice", "empty_slices"} {
			if v := f[key]; v != nil {
				p.errorf(v, join("spec.objective", key), "applies only to type percentile (add type: percentile, or remove %s)", key)
			}
		}
		return nil
	}
	if v := f["percentile"]; v == nil {
		p.errorf(n, "spec.objective.percentile", "missing: the percentile each slice is judged by, e.g. percentile: 99 for p99")
	} else if pct, ok := p.number(v, "spec.objective.percentile"); ok {
		if pct > 0 && pct < 100 {
			s.Percentile = share(v, pct)
		} else {
			p.errorf(v, "spec.objective.percentile", "%s is not a percentile in (0, 100) (e.g. 99 for p99, 99.9 for p99.9)", v.Value)
		}
	}
	s.Slice = defaultSlice
	sliceAt := n
	if v := f["slice"]; v != nil {
		sliceAt = v
		s.Slice, _ = p.duration(v, "spec.objective.slice")
	}
	s.EmptySlices = slo.EmptyGood
	if v := f["empty_slices"]; v != nil {
		if i, ok := p.choice(v, "spec.objective.empty_slices", "an empty-slice rule", "good", "bad", "skip"); ok {
			s.EmptySlices = [...]slo.EmptySlicePolicy{slo.EmptyGood, slo.EmptyBad, slo.EmptySkip}[i]
		}
	}
	return sliceAt
}

// checkSlice checks a percentile objective's slice against the period and
// the alert windows. A window shorter than a slice could never hold a whole
// slice, and a period that is not a whole number of slices would end in
// the middle of one.
func (p *parser) checkSlice(n *yaml.Node, s *slo.Spec) {
	const path = "spec.objective.slice"
	if s.Slice <= 0 {
		return // already reported
	}
	slice := FormatDuration(s.Slice)
	switch {
	case s.Calendar != nil && (24*time.Hour)%s.Slice != 0:
		// Months differ in length, so only a slice that divides a day fits
		// every one of them.
		p.errorf(n, path, "%s does not divide a day evenly, which a calendar period needs (e.g. 1m, 5m, 1h)", slice)
		return
	case s.Calendar == nil && s.Period%s.Slice != 0:
		p.errorf(n, path, "%s does not divide the period %s evenly (the period must be a whole number of slices)", slice, FormatDuration(s.Period))
		return
	}
	var shortest time.Duration
	var what string
	for _, t := range s.Tiers {
		if shortest == 0 || t.Short < shortest {
			shortest, what = t.Short, "the short window of tier "+t.Name
		}
	}
	for _, e := range s.ExhaustionAlerts {
		if shortest == 0 || e.Window < shortest {
			shortest, what = e.Window, "the window of exhaustion alert "+e.Name
		}
	}
	if shortest > 0 && s.Slice > shortest {
		p.errorf(n, path, "%s is longer than %s, %s (every alert window must hold at least one slice: shorten the slice, or change or disable the window)", slice, what, FormatDuration(shortest))
	}
}

// target reads a percentage and returns it as a fraction.
func (p *parser) target(n *yaml.Node, path string) (float64, bool) {
	pct, ok := p.number(n, path)
	if !ok {
		return 0, false
	}
	if !(pct > 0 && pct < 100) {
		p.errorf(n, path, "%s is not a percentage in (0, 100) (e.g. 99.9 for 99.9%%)", n.Value)
		return 0, false
	}
	return share(n, pct), true
}

// share turns a percentage read from n into a fraction. 99.9/100 is
// 0.9990000000000001 in binary; parsing "99.9e-2" gives the double nearest
// to 0.999, which is what the user meant.
func share(n *yaml.Node, pct float64) float64 {
	text := strings.TrimSpace(n.Value)
	if !strings.ContainsAny(text, "eExXoO_") {
		if f, err := strconv.ParseFloat(text+"e-2", 64); err == nil {
			return f
		}
	}
	return pct / 100
}

func (p *parser) severity(n *yaml.Node, path string) (slo.Severity, bool) {
	i, ok := p.choice(n, path, "a severity", string(slo.Page), string(slo.Ticket))
	if !ok {
		return "", false
	}
	return [...]slo.Severity{slo.Page, slo.Ticket}[i], true
}

// choice reads a scalar that must be one of options and returns its index;
// anything else is reported with the options it may take.
func (p *parser) choice(n *yaml.Node, path, what string, options ...string) (int, bool) {
	v, ok := p.scalar(n, path)
	if !ok {
		return 0, false
	}
	for i, o := range options {
		if v == o {
			return i, true
		}
	}
	p.errorf(n, path, "%q is not %s (allowed: %s)", v, what, strings.Join(options, ", "))
	return 0, false
}

// Default alert names and settings of the conditions beyond the tiers.
const (
	noDataName = "no-data"
	// defaultExhaustionWindow is the burn window an exhaustion alert
	// projects from when it names none: the page-fast long window.
	defaultExhaustionWindow = time.Hour
)

func (p *parser) alerting(n *yaml.Node, s *slo.Spec) {
	f, ok := p.fields(n, "spec.alerting", "min_events", "disable", "tiers", "budget", "exhaustion", "no_data")
	if !ok {
		return
	}
	if m := f["min_events"]; m != nil {
		s.MinEvents, _ = p.count(m, "spec.alerting.min_events")
	}
	p.tiers(f, s)
	// Every alert of an SLO is keyed (SLO, name), so names are unique
	// across tiers and conditions; owners says who has a name, for the
	// message about a clash.
	owners := make(map[string]string, len(s.Tiers)+1)
	for _, t := range s.Tiers {
		owners[t.Name] = "tier " + t.Name
	}
	if b := f["budget"]; b != nil {
		if items, ok := p.list(b, "spec.alerting.budget"); ok {
			for i, item := range items {
				path := index("spec.alerting.budget", i)
				a, nameAt, ok := p.budgetAlert(item, path)
				if ok && p.claim(owners, a.Name, path, nameAt) {
					s.BudgetAlerts = append(s.BudgetAlerts, a)
				}
			}
		}
	}
	if e := f["exhaustion"]; e != nil {
		if items, ok := p.list(e, "spec.alerting.exhaustion"); ok {
			for i, item := range items {
				path := index("spec.alerting.exhaustion", i)
				a, nameAt, ok := p.exhaustionAlert(item, path, s.Period)
				if ok && p.claim(owners, a.Name, path, nameAt) {
					s.ExhaustionAlerts = append(s.ExhaustionAlerts, a)
				}
			}
		}
	}
	if nd := f["no_data"]; nd != nil {
		p.noData(nd, s, owners)
	}
}

// claim gives name to the alert at path, or reports that another alert of
// the SLO has it. n is the alert's name, or the alert itself when its name
// is a default.
func (p *parser) claim(owners map[string]string, name, path string, n *yaml.Node) bool {
	if other, taken := owners[name]; taken {
		at := path
		if n.Kind == yaml.ScalarNode {
			at = join(path, "name")
		}
		p.errorf(n, at, "alert name %q is already used by %s (names are unique per SLO across tiers, budget, exhaustion and no_data alerts; set name: to tell them apart)", name, other)
		return false
	}
	owners[name] = path
	return true
}

// budgetAlert reads one spec.alerting.budget item; nameAt is where to
// report a name clash (the name, or the item when the name is a default).
func (p *parser) budgetAlert(n *yaml.Node, path string) (a slo.BudgetAlert, nameAt *yaml.Node, good bool) {
	f, ok := p.fields(n, path, "name", "consumed", "severity")
	if !ok {
		return a, n, false
	}
	good = true
	a.Severity = slo.Ticket
	var pct float64
	if v := f["consumed"]; v == nil {
		p.errorf(n, join(path, "consumed"), "missing: the percentage of the period's error budget spent that fires the alert, e.g. consumed: 50")
		good = false
	} else if pct, ok = p.consumed(v, join(path, "consumed")); ok {
		a.Consumed = share(v, pct)
	} else {
		good = false
	}
	if v := f["severity"]; v != nil {
		a.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	nameAt = n
	if v := f["name"]; v != nil {
		nameAt = v
		a.Name, ok = p.name(v, join(path, "name"))
		good = good && ok
	} else {
		// The percentage as read, not Consumed*100: 0.07*100 is
		// 7.000000000000001. Equal percentages give equal names however
		// they are written, so the alert's fingerprint survives "50.0"
		// becoming "50".
		a.Name = fmt.Sprintf("budget-%g", pct)
	}
	return a, nameAt, good
}

// consumed reads a budget share as a percentage in (0, 100].
func (p *parser) consumed(n *yaml.Node, path string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && strings.HasSuffix(strings.TrimSpace(n.Value), "%") {
		p.errorf(n, path, "%q: write the percentage as a plain number, e.g. consumed: 50 for 50%%", n.Value)
		return 0, false
	}
	pct, ok := p.number(n, path)
	if !ok {
		return 0, false
	}
	if !(pct > 0 && pct <= 100) {
		p.errorf(n, path, "%s is not a percentage in (0, 100] (e.g. 50 for half the budget)", n.Value)
		return 0, false
	}
	return pct, true
}

// exhaustionAlert reads one spec.alerting.exhaustion item, like
// budgetAlert.
func (p *parser) exhaustionAlert(n *yaml.Node, path string, period time.Duration) (a slo.ExhaustionAlert, nameAt *yaml.Node, good bool) {
	f, ok := p.fields(n, path, "name", "within", "window", "severity")
	if !ok {
		return a, n, false
	}
	good = true
	a.Severity = slo.Ticket
	if v := f["within"]; v == nil {
		p.errorf(n, join(path, "within"), "missing: alert when the budget left runs out within this long, e.g. within: 1d")
		good = false
	} else {
		a.Within, ok = p.duration(v, join(path, "within"))
		good = good && ok
	}
	a.Window = defaultExhaustionWindow
	windowAt := n
	if v := f["window"]; v != nil {
		windowAt = v
		a.Window, ok = p.duration(v, join(path, "window"))
		good = good && ok
	}
	if a.Window > period {
		p.errorf(windowAt, join(path, "window"), "%s is longer than the period %s", FormatDuration(a.Window), FormatDuration(period))
		good = false
	}
	if v := f["severity"]; v != nil {
		a.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	nameAt = n
	if v := f["name"]; v != nil {
		nameAt = v
		a.Name, ok = p.name(v, join(path, "name"))
		good = good && ok
	} else {
		a.Name = "exhaustion-" + FormatDuration(a.Within)
	}
	return a, nameAt, good
}

func (p *parser) noData(n *yaml.Node, s *slo.Spec, owners map[string]string) {
	const path = "spec.alerting.no_data"
	f, ok := p.fields(n, path, "after", "severity")
	if !ok {
		return
	}
	good := true
	var after time.Duration
	if v := f["after"]; v == nil {
		p.errorf(n, join(path, "after"), "missing: how long the flow may send no events before the alert fires, e.g. after: 10m")
		good = false
	} else {
		after, ok = p.duration(v, join(path, "after"))
		good = good && ok
	}
	sev := slo.Ticket
	if v := f["severity"]; v != nil {
		sev, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	if good && p.claim(owners, noDataName, path, n) {
		s.NoData, s.NoDataSeverity = after, sev
	}
}

// tiers reads spec.alerting.tiers and spec.alerting.disable into s.Tiers.
func (p *parser) tiers(f map[string]*yaml.Node, s *slo.Spec) {
	// Tiers with errors are already reported; disabling one is not a second
	// mistake.
	var broken []string
	if t := f["tiers"]; t != nil {
		if items, ok := p.list(t, "spec.alerting.tiers"); ok {
			s.Tiers = make([]slo.Tier, 0, len(items))
			seen := map[string]bool{}
			for i, item := range items {
				path := index("spec.alerting.tiers", i)
				tier, ok := p.tier(item, path, s.Period)
				if !ok {
					if tier.Name != "" {
						broken = append(broken, tier.Name)
					}
					continue
				}
				if seen[tier.Name] {
					p.errorf(item, join(path, "name"), "tier %q is given twice", tier.Name)
					continue
				}
				seen[tier.Name] = true
				s.Tiers = append(s.Tiers, tier)
			}
		}
	}
	if d := f["disable"]; d != nil {
		items, ok := p.list(d, "spec.alerting.disable")
		if !ok {
			return
		}
		drop := map[string]bool{}
		for i, item := range items {
			path := index("spec.alerting.disable", i)
			name, ok := p.scalar(item, path)
			if !ok {
				continue
			}
			if slices.Contains(broken, name) {
				continue
			}
			if !slices.ContainsFunc(s.Tiers, func(t slo.Tier) bool { return t.Name == name }) {
				p.errorf(item, path, "no tier %q (tiers: %s)", name, tierNames(s.Tiers, broken))
				continue
			}
			drop[name] = true
		}
		// Keep Tiers non-nil even when every tier is dropped: nil means
		// "the default tiers" to the engine.
		kept := make([]slo.Tier, 0, len(s.Tiers))
		for _, t := range s.Tiers {
			if !drop[t.Name] {
				kept = append(kept, t)
			}
		}
		s.Tiers = kept
	}
}

func tierNames(tiers []slo.Tier, broken []string) string {
	var names []string
	for _, t := range tiers {
		names = append(names, t.Name)
	}
	names = append(names, broken...)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (p *parser) tier(n *yaml.Node, path string, period time.Duration) (slo.Tier, bool) {
	f, ok := p.fields(n, path, "name", "severity", "long", "short", "factor", "min_events")
	if !ok {
		return slo.Tier{}, false
	}
	var t slo.Tier
	good := true
	need := func(key, example string) *yaml.Node {
		v := f[key]
		if v == nil {
			p.errorf(n, join(path, key), "missing (e.g. %s: %s)", key, example)
			good = false
		}
		return v
	}
	if v := need("name", "page-fast"); v != nil {
		t.Name, ok = p.name(v, join(path, "name"))
		good = good && ok
	}
	if v := need("severity", "page"); v != nil {
		t.Severity, ok = p.severity(v, join(path, "severity"))
		good = good && ok
	}
	var longN, shortN *yaml.Node
	if longN = need("long", "1h"); longN != nil {
		t.Long, ok = p.duration(longN, join(path, "long"))
		good = good && ok
	}
	if shortN = need("short", "5m"); shortN != nil {
		t.Short, ok = p.duration(shortN, join(path, "short"))
		good = good && ok
	}
	if v := need("factor", "14.4"); v != nil {
		t.Factor, ok = p.number(v, join(path, "factor"))
		if ok && (!(t.Factor > 0) || math.IsInf(t.Factor, 0)) {
			p.errorf(v, join(path, "factor"), "%s is not a positive burn rate factor (e.g. 14.4)", v.Value)
			ok = false
		}
		good = good && ok
	}
	if v := f["min_events"]; v != nil {
		t.MinEvents, ok = p.count(v, join(path, "min_events"))
		good = good && ok
	}
	if t.Long > 0 && t.Short > t.Long {
		p.errorf(shortN, join(path, "short"), "%s is longer than long %s (short must be <= long)", FormatDuration(t.Short), FormatDuration(t.Long))
		good = false
	}
	if t.Long > period {
		p.errorf(longN, join(path, "long"), "%s is longer than the period %s", FormatDuration(t.Long), FormatDuration(period))
		good = false
	}
	return t, good
}

// closest suggests the allowed key nearest to a misspelt one, if any is near.
func closest(key string, allowed []string) string {
	best, bestD := "", math.MaxInt
	for _, a := range allowed {
		// Allow about one typo per three letters, so "eq" does not suggest "gt".
		if d := editDistance(key, a); d <= max(1, len(a)/3) && d < bestD {
			best, bestD = a, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
