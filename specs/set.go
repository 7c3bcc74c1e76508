package specs

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"

	"github.com/burnwatch/burnwatch/flows"
	"github.com/burnwatch/burnwatch/metricsli"
	"github.com/burnwatch/burnwatch/slo"
)

// Set is the flows and SLOs of one or more spec files, validated and with
// defaults applied. Flows keep file order: the first flow that matches a
// span wins.
type Set struct {
	Flows []flows.Spec
	SLOs  []slo.Spec
	// Indicators holds, by SLO name, the metric indicator of each SLO
	// measured by metrics (spec.indicator, and OpenSLO and Sloth files).
	// Such an SLO's Flow is metricsli.FlowName(name), a synthetic flow that
	// no Flow defines: it is not in Flows, so it never reaches the span
	// classifier, and the runtime that reads metrics feeds it.
	Indicators map[string]*metricsli.Indicator

	// Where things were written, for messages about duplicates and
	// references; parallel to Flows and SLOs (shorter when a caller appended
	// specs in code, which then have no position).
	flowAt []position
	sloAt  []sloWhere
	// declared holds every flow name a file defines, including flows whose
	// spec was broken, so an SLO using one is not reported twice.
	declared map[string]position
	// broken are the SLOs whose documents had errors: not in SLOs, but
	// their names and flows are still checked against the other
	// documents.
	broken []brokenSLO
	// files are the files Load read, in order.
	files []string
	// openslo holds OpenSLO objects until Validate maps them.
	openslo *openSLO
	// names finds flows and SLOs by name, so that merging n documents
	// costs n lookups and not n² comparisons (10,000 flows took seconds).
	names nameIndex
}

// nameIndex maps names to their place in a Set's Flows, SLOs and broken
// SLOs. Callers may append to Flows and SLOs in code, so it covers a prefix
// of each (the counts below) and catches up on the next lookup; a slice
// that shrank is indexed afresh.
type nameIndex struct {
	flows, slos, broken    map[string]int
	nflows, nslos, nbroken int
}

// flowIndex returns the index in s.Flows of the first flow of the name, or -1.
func (s *Set) flowIndex(name string) int {
	x := &s.names
	if x.flows == nil || x.nflows > len(s.Flows) {
		x.flows, x.nflows = make(map[string]int, len(s.Flows)), 0
	}
	for ; x.nflows < len(s.Flows); x.nflows++ {
		if _, ok := x.flows[s.Flows[x.nflows].Name]; !ok {
			x.flows[s.Flows[x.nflows].Name] = x.nflows
		}
	}
	if i, ok := x.flows[name]; ok && s.Flows[i].Name == name {
		return i
	}
	return -1
}

// brokenSLO is what the checks across documents need of an SLO whose
// document had errors.
type brokenSLO struct {
	name, flow string
	where      sloWhere
}

func (s *Set) addBrokenSLO(b brokenSLO) { s.broken = append(s.broken, b) }

func (s *Set) setIndicator(slo string, in *metricsli.Indicator) {
	if s.Indicators == nil {
		s.Indicators = map[string]*metricsli.Indicator{}
	}
	s.Indicators[slo] = in
}

// sloDefined finds an SLO of the name, working or broken, and where it is.
func (s *Set) sloDefined(name string) (position, bool) {
	x := &s.names
	if x.slos == nil || x.nslos > len(s.SLOs) {
		x.slos, x.nslos = make(map[string]int, len(s.SLOs)), 0
	}
	for ; x.nslos < len(s.SLOs); x.nslos++ {
		if _, ok := x.slos[s.SLOs[x.nslos].Name]; !ok {
			x.slos[s.SLOs[x.nslos].Name] = x.nslos
		}
	}
	if i, ok := x.slos[name]; ok && s.SLOs[i].Name == name {
		return at(s.sloAt, i).doc, true
	}
	if x.broken == nil || x.nbroken > len(s.broken) {
		x.broken, x.nbroken = make(map[string]int, len(s.broken)), 0
	}
	for ; x.nbroken < len(s.broken); x.nbroken++ {
		if _, ok := x.broken[s.broken[x.nbroken].name]; !ok {
			x.broken[s.broken[x.nbroken].name] = x.nbroken
		}
	}
	if i, ok := x.broken[name]; ok {
		return s.broken[i].where.doc, true
	}
	return position{}, false
}

func (s *Set) declare(name string, at position) {
	if s.declared == nil {
		s.declared = map[string]position{}
	}
	if _, ok := s.declared[name]; !ok {
		s.declared[name] = at
	}
}

func (s *Set) addFlow(f flows.Spec, at position) {
	s.Flows = append(s.Flows, f)
	s.flowAt = append(s.flowAt, at)
}

// sloWhere is where an SLO's document, its flow and its annotations were
// written.
type sloWhere struct {
	doc, flow position
	// annotations holds the position of each spec.alerting.annotations
	// value, by key.
	annotations map[string]position
}

func (s *Set) addSLO(o slo.Spec, where sloWhere) {
	s.SLOs = append(s.SLOs, o)
	s.sloAt = append(s.sloAt, where)
}

// at returns ps[i], or the zero value for a spec added in code.
func at[T any](ps []T, i int) T {
	var zero T
	if i < len(ps) {
		return ps[i]
	}
	return zero
}

// Merge appends other's flows and SLOs to s, after s's own (flow order
// matters: the first match wins). A flow or SLO whose name s already holds
// is reported with both places and left out. Merge does not check
// references; call Validate when every file is in.
func (s *Set) Merge(other *Set) error {
	var errs []error
	for i, f := range other.Flows {
		if j := s.flowIndex(f.Name); j >= 0 {
			errs = append(errs, at(other.flowAt, i).errorf("metadata.name", "flow %q is already defined at %s", f.Name, at(s.flowAt, j)))
			continue
		}
		s.addFlow(f, at(other.flowAt, i))
	}
	for i, o := range other.SLOs {
		if p, ok := s.sloDefined(o.Name); ok {
			errs = append(errs, at(other.sloAt, i).doc.errorf("metadata.name", "SLO %q is already defined at %s", o.Name, p))
			continue
		}
		s.addSLO(o, at(other.sloAt, i))
		if in := other.Indicators[o.Name]; in != nil {
			s.setIndicator(o.Name, in)
		}
	}
	for _, b := range other.broken {
		if p, ok := s.sloDefined(b.name); ok {
			errs = append(errs, b.where.doc.errorf("metadata.name", "SLO %q is already defined at %s", b.name, p))
			continue
		}
		s.addBrokenSLO(b)
	}
	if other.openslo != nil {
		if s.openslo == nil {
			s.openslo = &openSLO{objects: map[string]map[string]*openSLOObject{}}
		}
		errs = append(errs, s.openslo.merge(other.openslo)...)
	}
	for name, p := range other.declared {
		if _, ok := s.declared[name]; ok {
			continue
		}
		if other.flowIndex(name) < 0 {
			// A broken flow (not in Flows): still report a duplicate name.
			if j := s.flowIndex(name); j >= 0 {
				errs = append(errs, p.errorf("metadata.name", "flow %q is already defined at %s", name, at(s.flowAt, j)))
			}
		}
		s.declare(name, p)
	}
	return errors.Join(errs...)
}

// Validate checks what no single document can: every SLO names a defined
// flow, its annotation templates work on its alerts, and the flows and SLOs
// pass their packages' own checks. It also gives each SLO what it takes from
// its flow, which may be defined in another file: FlowLabels and
// Criticality.
func (s *Set) Validate() error {
	var errs []error
	if s.openslo != nil {
		// OpenSLO objects refer to each other across files: only now are
		// they all in. Mapped once; a second Validate finds the SLOs in.
		errs = append(errs, s.openslo.resolve(s)...)
		s.openslo = nil
	}
	defined := make(map[string]*flows.Spec, len(s.Flows))
	for i := range s.Flows {
		defined[s.Flows[i].Name] = &s.Flows[i]
	}
	for i := range s.SLOs {
		o := &s.SLOs[i]
		if metricsli.IsMetricFlow(o.Flow) {
			// Measured by metrics: no flow to take labels from.
			o.Criticality = flows.DefaultTier
			o.Source = digest(s.Indicators[o.Name])
			errs = append(errs, checkAnnotations(o, at(s.sloAt, i).annotations)...)
			continue
		}
		if f := defined[o.Flow]; f != nil {
			o.FlowLabels = maps.Clone(f.Labels)
			o.Criticality = cmp.Or(f.Tier, flows.DefaultTier)
			o.Source = digest(struct {
				Match     []flows.Rule
				EntryOnly bool
				Errors    flows.ErrorSpec
			}{f.Match, f.EntryOnly, f.Errors})
			// Only now are the alerts' labels known, which templates may
			// name.
			errs = append(errs, checkAnnotations(o, at(s.sloAt, i).annotations)...)
			continue
		}
		if err := s.checkFlow(o.Flow, at(s.sloAt, i).flow); err != nil {
			errs = append(errs, err)
		}
	}
	for _, b := range s.broken {
		if b.flow == "" || metricsli.IsMetricFlow(b.flow) || defined[b.flow] != nil {
			continue
		}
		if err := s.checkFlow(b.flow, b.where.flow); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := flows.NewClassifier(s.Flows); err != nil {
		errs = append(errs, fmt.Errorf("flows: %w", err))
	}
	for i := range s.SLOs {
		if err := s.SLOs[i].Validate(); err != nil {
			errs = append(errs, at(s.sloAt, i).doc.errorf("spec", "%w", err))
		}
	}
	return errors.Join(errs...)
}

// checkFlow reports a flow an SLO at `at` names that no file defines; nil
// for a flow that is defined, broken or not.
func (s *Set) checkFlow(flow string, at position) error {
	if slices.ContainsFunc(s.Flows, func(f flows.Spec) bool { return f.Name == flow }) {
		return nil
	}
	if _, ok := s.declared[flow]; ok {
		return nil // broken flow, already reported where it is defined
	}
	msg := fmt.Sprintf("flow %q is not defined", flow)
	names := make([]string, 0, len(s.Flows))
	for _, f := range s.Flows {
		names = append(names, f.Name)
	}
	if c := closest(flow, names); c != "" {
		msg += "; did you mean " + c + "?"
	}
	if len(names) == 0 {
		msg += " (no flows are defined: add a document of kind Flow)"
	} else {
		msg += " (flows: " + strings.Join(names, ", ") + ")"
	}
	return at.errorf("spec.flow", "%s", msg)
}

// FileCount is how many flows and SLOs one file of a Set defines.
type FileCount struct {
	File        string
	Flows, SLOs int
}

// Counts gives the flows and SLOs of each file Load read, in load order.
func (s *Set) Counts() []FileCount {
	out := make([]FileCount, len(s.files))
	for i, f := range s.files {
		out[i].File = f
	}
	find := func(file string) *FileCount {
		if i := slices.Index(s.files, file); i >= 0 {
			return &out[i]
		}
		return nil
	}
	for i := range s.Flows {
		if c := find(at(s.flowAt, i).file); c != nil {
			c.Flows++
		}
	}
	for i := range s.SLOs {
		if c := find(at(s.sloAt, i).doc.file); c != nil {
			c.SLOs++
		}
	}
	return out
}

// Classifier compiles the set's flows.
func (s *Set) Classifier() (*flows.Classifier, error) {
	return flows.NewClassifier(s.Flows)
}

// Load reads the spec files that patterns name, files or globs
// (filepath.Match syntax; BuiltinPrefix for files built into the binary),
// merges them in order (patterns in the order given, a glob's files sorted
// by name, documents in file order) and validates the whole. A pattern that
// matches no file is an error. Every problem of every file is reported.
func Load(patterns ...string) (*Set, error) {
	if len(patterns) == 0 {
		return nil, errors.New("specs: no files given")
	}
	var (
		errs  []error
		files []string
		seen  = map[string]bool{}
	)
	for _, pat := range patterns {
		matches, err := globFile(pat)
		if err != nil {
			errs = append(errs, fmt.Errorf("specs: pattern %q: %w", pat, err))
			continue
		}
		if len(matches) == 0 {
			errs = append(errs, fmt.Errorf("specs: %q matches no files", pat))
			continue
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
	}
	set := &Set{}
	for _, name := range files {
		data, err := readFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("specs: %w", err))
			continue
		}
		part, err := parse(name, data)
		if err != nil {
			errs = append(errs, flatten(err)...)
		}
		if err := set.Merge(part); err != nil {
			errs = append(errs, flatten(err)...)
		}
	}
	set.files = files
	if err := set.Validate(); err != nil {
		errs = append(errs, flatten(err)...)
	}
	if len(errs) > 0 {
		sortByFile(errs, files)
		// An object two others refer to could report a problem twice.
		errs = slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// flatten unpacks errors.Join so problems can be sorted and rejoined flat.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// sortByFile orders problems by file, in load order, then by line, so a
// reader can fix them top to bottom; problems without a file come first.
func sortByFile(errs []error, files []string) {
	rank := func(err error) (int, int) {
		var se *Error
		if !errors.As(err, &se) || se.File == "" {
			return -1, 0
		}
		return slices.Index(files, se.File), se.Line
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		fa, la := rank(a)
		fb, lb := rank(b)
		if fa != fb {
			return fa - fb
		}
		return la - lb
	})
}

// digest hashes v's JSON encoding (deterministic for the structs and maps
// of a spec), for slo.Spec.Source.
func digest(v any) uint64 {
	b, _ := json.Marshal(v)
	h := fnv.New64a()
	h.Write(b)
	return h.Sum64()
}
